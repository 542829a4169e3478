"""The typed snapshot the posture document is built from: checks and the facts behind them.

A *check* is one named, verifiable statement about the live system ("no master key is
overdue for rotation"), with a status that is computed, never asserted. ``NO_EVIDENCE`` is
its own status, not a soft pass: a control that rests on a check without evidence does not
pass (sslyze's rule: a failed or missing probe can never read as a pass).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["FACTS_FORMAT", "Check", "CheckStatus", "PostureFacts", "Section", "canonical_json"]

FACTS_FORMAT = "callvault.posture.facts/v1"


class CheckStatus(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    NO_EVIDENCE = "no-evidence"


@dataclass(frozen=True, slots=True)
class Check:
    """One verifiable statement. ``evidence`` says in one line what the status rests on;
    ``source`` names where that came from (a file, a command, a code constant)."""

    id: str
    title: str
    status: CheckStatus
    evidence: str
    source: str

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "evidence": self.evidence,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Section:
    """What one collector read: JSON-ready facts and the checks they decide."""

    name: str
    facts: dict[str, Any]
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True, slots=True)
class PostureFacts:
    """Everything the document says, as data. ``as_json`` is the document's source of truth
    and ``sha256`` (over its canonical JSON) is printed in every rendering."""

    generated_at: datetime
    home: str
    environment: str
    version: str
    sections: tuple[Section, ...]
    checks: tuple[Check, ...] = field(init=False)

    def __post_init__(self) -> None:
        checks = tuple(c for s in self.sections for c in s.checks)
        ids = [c.id for c in checks]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate check ids: {sorted(ids)}")
        object.__setattr__(self, "checks", checks)

    def section(self, name: str) -> dict[str, Any]:
        for s in self.sections:
            if s.name == name:
                return s.facts
        raise KeyError(name)

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FACTS_FORMAT,
            "generated_at": self.generated_at.isoformat().replace("+00:00", "Z"),
            "home": self.home,
            "environment": self.environment,
            "callvault_version": self.version,
            "facts": {s.name: s.facts for s in self.sections},
            "checks": [c.as_json() for c in self.checks],
        }

    def sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.as_json())).hexdigest()


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes the facts hash is taken over."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
