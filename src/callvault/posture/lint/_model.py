"""The values of the linter: severities, a check's description, a hit, a finding.

A *check* says what it looks for and why (``CheckInfo``: the rule a CI gate and a SARIF
viewer show); its probe yields *hits* (where, and what it saw, already redacted); the engine
turns hits into *findings* that carry the check's fix. Keeping the hit free of a fix and a
severity default means a probe cannot forget either: they come from the check's table row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callvault.posture.lint._context import LintContext

__all__ = ["Check", "CheckInfo", "Finding", "Hit", "Probe", "Severity"]


class Severity(StrEnum):
    """Finding severities, ordered: ``Severity.HIGH.rank > Severity.MEDIUM.rank``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, floor: Severity) -> bool:
        return self.rank >= floor.rank


_RANKS = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """A rule: its stable id (``tls.weak-suite``), default severity, one-line title, the
    rationale (why it matters, tied to the seed or a standard) and how to fix it."""

    id: str
    severity: Severity
    title: str
    rationale: str
    fix: str

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "severity": self.severity.value,
            "title": self.title,
            "rationale": self.rationale,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class Hit:
    """What a probe saw: a file (relative, POSIX separators), a 1-based line (``None`` when
    the finding is about the whole file) and a message that never holds a secret value.
    ``severity`` overrides the check's default (SSLv3 is worse than TLS 1.1)."""

    file: str
    line: int | None
    message: str
    severity: Severity | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One red flag in the report: a hit bound to its check."""

    check: str
    severity: Severity
    file: str
    line: int | None
    message: str
    fix: str

    def as_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "fix": self.fix,
        }


Probe = Callable[["LintContext"], Iterator[Hit]]


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check: its rule and the probe that looks for it."""

    info: CheckInfo
    probe: Probe
