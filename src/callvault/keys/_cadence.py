"""The rotation cadence: which keys are due, and rotating the ones that are.

The defaults are the seed's table (DESIGN.md "Rotation cadence"): tenant master keys and
backup keys yearly, the JWT signing key quarterly (with a grace period in which the
previous key still verifies, ``auth.SigningKeyRing``), TLS certificates every 90 days.
Customer API keys are rotated by their owners (self-service) and data keys are per object,
so neither has a schedule here.

``rotation_status`` reports every scheduled key with its age, last rotation and next due
date; ``rotate_due`` rotates the master keys that are due (``callvault keys rotate-due``,
or ``serve`` on a timer when ``[rotation] auto = true``). It re-reads each key right before
rotating, so two replicas running the same schedule rotate a key once, not twice, unless
they race within the same instant; the worst case is one extra version, which is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from callvault.keys.providers._base import KeyDescription, KeyState, KmsProvider

__all__ = ["Cadence", "DueState", "KeyKind", "ScheduledKey", "rotate_due", "rotation_status"]


class KeyKind(StrEnum):
    MASTER = "tenant master key"
    BACKUP = "backup key"
    PLATFORM = "platform key-encryption key"
    SIGNING = "JWT signing key"
    TLS = "TLS certificate"


class DueState(StrEnum):
    OK = "ok"
    DUE_SOON = "due soon"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Cadence:
    master_key: timedelta = timedelta(days=365)
    backup_key: timedelta = timedelta(days=365)
    signing_key: timedelta = timedelta(days=90)
    tls_certificate: timedelta = timedelta(days=90)
    warn_before: timedelta = timedelta(days=30)

    def period(self, kind: KeyKind) -> timedelta:
        return {
            KeyKind.MASTER: self.master_key,
            KeyKind.PLATFORM: self.master_key,
            KeyKind.BACKUP: self.backup_key,
            KeyKind.SIGNING: self.signing_key,
            KeyKind.TLS: self.tls_certificate,
        }[kind]


@dataclass(frozen=True, slots=True)
class ScheduledKey:
    name: str
    kind: KeyKind
    created_at: datetime
    last_rotated: datetime
    next_due: datetime
    state: DueState
    rotated_by: str
    """What rotates it: ``callvault keys rotate``, automatic, …"""

    def age(self, now: datetime) -> timedelta:
        return now - self.last_rotated

    def as_json(self, now: datetime) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "created_at": self.created_at.isoformat(),
            "last_rotated": self.last_rotated.isoformat(),
            "age_days": round(self.age(now).total_seconds() / 86400, 1),
            "next_due": self.next_due.isoformat(),
            "state": self.state.value,
            "overdue": self.state is DueState.OVERDUE,
            "rotated_by": self.rotated_by,
        }


def kind_of(key_id: str) -> KeyKind:
    parts = key_id.split("/")
    if len(parts) == 3 and parts[2] == "backup":  # a tenant's, or the platform's backup key
        return KeyKind.BACKUP
    if len(parts) == 3 and parts[1] == "platform":
        return KeyKind.PLATFORM
    return KeyKind.MASTER


def _state(due: datetime, now: datetime, cadence: Cadence) -> DueState:
    if now >= due:
        return DueState.OVERDUE
    return DueState.DUE_SOON if now >= due - cadence.warn_before else DueState.OK


def scheduled_master_key(key: KeyDescription, cadence: Cadence, now: datetime) -> ScheduledKey:
    kind = kind_of(key.key_id)
    due = key.rotated_at + cadence.period(kind)
    return ScheduledKey(
        key.key_id,
        kind,
        key.created_at,
        key.rotated_at,
        due,
        _state(due, now, cadence),
        "callvault keys rotate / rotate-due",
    )


def scheduled(
    name: str,
    kind: KeyKind,
    created_at: datetime,
    last_rotated: datetime,
    cadence: Cadence,
    now: datetime,
    rotated_by: str,
    due: datetime | None = None,
) -> ScheduledKey:
    """A non-KMS key (signing key, certificate) on the same schedule."""
    due = due or last_rotated + cadence.period(kind)
    return ScheduledKey(
        name, kind, created_at, last_rotated, due, _state(due, now, cadence), rotated_by
    )


def rotation_status(
    keys: Iterable[KeyDescription], cadence: Cadence, now: datetime | None = None
) -> list[ScheduledKey]:
    """Every live master key (destroyed and pending-deletion keys have no schedule)."""
    now = now or datetime.now(UTC)
    live = (k for k in keys if k.state in (KeyState.ENABLED, KeyState.DISABLED))
    return [scheduled_master_key(k, cadence, now) for k in live]


def rotate_due(
    provider: KmsProvider,
    cadence: Cadence,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    rotated: Callable[[KeyDescription], None] = lambda _key: None,
) -> list[KeyDescription]:
    """Rotate every enabled master key that is overdue; returns the new descriptions."""
    done = []
    for key in provider.list_keys():
        if key.state is not KeyState.ENABLED:
            continue
        fresh = provider.describe_key(key.key_id)  # another replica may have just done it
        if scheduled_master_key(fresh, cadence, now()).state is not DueState.OVERDUE:
            continue
        described = provider.rotate_key(key.key_id)
        rotated(described)
        done.append(described)
    return done
