"""Erasure requests: what is to be erased, when, and in which state the request is.

A request names one *target*: a data subject (a caller identity), one record (a recording,
transcript or analytics row) or a whole tenant. It is due ``grace_days`` after it was made;
until then it can be cancelled. The grace period is 7 to 30 days (default 7), the window a
KMS such as AWS allows for key deletion, so a mistaken request can always be undone; only an
environment named ``dev`` accepts 0, for tests and demos.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from callvault._ids import Environment
from callvault.errors import InvalidRequest

__all__ = [
    "DEFAULT_GRACE_DAYS",
    "MAX_GRACE_DAYS",
    "MIN_GRACE_DAYS",
    "ErasureKind",
    "ErasureRequest",
    "ErasureState",
    "RecordKind",
    "check_grace_days",
]

MIN_GRACE_DAYS: Final = 7
MAX_GRACE_DAYS: Final = 30
DEFAULT_GRACE_DAYS: Final = 7


class ErasureKind(StrEnum):
    SUBJECT = "subject"
    RECORD = "record"
    TENANT = "tenant"


class RecordKind(StrEnum):
    """Which store a per-record erasure deletes from (resolved when it is scheduled)."""

    RECORDING = "recording"
    TRANSCRIPT = "transcript"
    ANALYTICS = "analytics"


class ErasureState(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    """Claimed by ``run_due``; a crash leaves it here and the next run resumes it (every
    step is idempotent)."""
    CANCELLED = "cancelled"
    DONE = "done"


def check_grace_days(days: int | None, environment: Environment) -> int:
    """The grace period to use; ``InvalidRequest`` outside 7..30 (0 only in ``dev``)."""
    if days is None:
        return DEFAULT_GRACE_DAYS
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidRequest("grace days must be an integer")
    if days == 0 and environment is Environment.DEV:
        return 0
    if not MIN_GRACE_DAYS <= days <= MAX_GRACE_DAYS:
        extra = "" if environment is Environment.DEV else " (0 is accepted only in dev)"
        raise InvalidRequest(
            f"grace period must be {MIN_GRACE_DAYS} to {MAX_GRACE_DAYS} days{extra}, not {days}"
        )
    return days


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    """One request as stored. ``target`` never holds a caller's identity: for a subject it
    is the subject's blind id (hex), for a record the record id, for a tenant the tenant."""

    id: str
    tenant: str
    kind: ErasureKind
    target: str
    record_kind: RecordKind | None
    state: ErasureState
    grace_days: int
    requested_at: datetime
    due_at: datetime
    finished_at: datetime | None = None
    receipt: str | None = None
    """The signed receipt (canonical JSON text) once done."""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant": self.tenant,
            "kind": self.kind.value,
            "target": self.target,
            "record_kind": self.record_kind.value if self.record_kind else None,
            "state": self.state.value,
            "grace_days": self.grace_days,
            "requested_at": self.requested_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "has_receipt": self.receipt is not None,
        }
