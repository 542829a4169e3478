"""What a rewrap run (or its dry run) found and did, counted per sealed value.

The unit is one *wrapped key*: a managed key record, an object's header, one part of a
row's ``cvr1`` frame. A transcript row therefore counts twice (its subject part and its
document), a recording once and its sidecar once. ``versions`` is the census a retirement
decision needs: how many values each master-key version still wraps directly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_FAILURES_LISTED", "Failure", "RewrapReport"]

MAX_FAILURES_LISTED = 50


@dataclass(frozen=True, slots=True)
class Failure:
    """One value that could not be rewrapped: where, and the error *kind* (no message: it
    could carry provider detail; the kind is what an operator acts on)."""

    item: str
    error: str


@dataclass(slots=True)
class RewrapReport:
    examined: int = 0
    pending: int = 0
    """Found below the primary version: what a run rewraps (a dry run only counts them)."""
    rewrapped: int = 0
    already_current: int = 0
    subject_wrapped: int = 0
    """Skipped: a subject key wraps the DEK; the subject's managed record is rewrapped."""
    conflicts: int = 0
    """Changed or deleted by someone else between read and write: left alone."""
    failed: int = 0
    dry_run: bool = False
    resumed: bool = False
    versions: dict[str, Counter[int]] = field(default_factory=dict)
    """master key id → version → values it wraps directly, as found (before any rewrap)."""
    failures: list[Failure] = field(default_factory=list)

    def saw(self, key_id: str, version: int) -> None:
        """Census: one value found wrapped directly under ``key_id`` version ``version``."""
        self.versions.setdefault(key_id, Counter())[version] += 1

    def fail(self, item: str, exc: BaseException) -> None:
        self.failed += 1
        if len(self.failures) < MAX_FAILURES_LISTED:
            self.failures.append(Failure(item, type(exc).__name__))

    def below(self, key_id: str, version: int) -> int:
        """Values found wrapped directly under ``key_id`` at a version below ``version``."""
        return sum(n for v, n in self.versions.get(key_id, Counter()).items() if v < version)

    def counts(self) -> dict[str, int]:
        return {
            "examined": self.examined,
            "pending": self.pending,
            "rewrapped": self.rewrapped,
            "already_current": self.already_current,
            "subject_wrapped": self.subject_wrapped,
            "conflicts": self.conflicts,
            "failed": self.failed,
        }

    def add_counts(self, counts: dict[str, Any]) -> None:
        """Fold in the counts a checkpoint carried over from an interrupted run."""
        for name in self.counts():
            setattr(self, name, getattr(self, name) + int(counts.get(name, 0)))

    def as_json(self) -> dict[str, Any]:
        return {
            **self.counts(),
            "dry_run": self.dry_run,
            "resumed": self.resumed,
            "versions": {
                key_id: {str(v): n for v, n in sorted(found.items())}
                for key_id, found in sorted(self.versions.items())
            },
            "failures": [{"item": f.item, "error": f.error} for f in self.failures],
        }
