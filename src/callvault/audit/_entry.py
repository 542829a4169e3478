"""One audit entry: who did what to which tenant's key or object, and how it ended.

Entries are plain data with a canonical JSON form (sorted keys, no spaces), which is what
gets encrypted. Nothing in an entry may identify a caller in clear: a data subject (a
caller's number) only ever enters as ``subject_hmac``, the tenant's keyed blind id (see
``AuditLog.append``). ``actor`` is the authenticated principal (``service:acme``, a token
subject, ``system``): accountability needs it readable, and it names an operator, not a
caller. ``detail`` holds short non-sensitive strings only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callvault.errors import InvalidRequest

__all__ = ["AuditEntry", "utc_now"]

_WORD = re.compile(r"[\x21-\x7e]{1,256}")  # printable ASCII, no spaces: ids and names
_MAX_DETAIL = 16
_MAX_DETAIL_VALUE = 512


def utc_now() -> datetime:
    return datetime.now(UTC)


def _word(value: str | None, what: str, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not _WORD.fullmatch(value):
        raise InvalidRequest(f"audit {what} must be 1-256 printable ASCII characters")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    time: datetime
    actor: str
    action: str
    """``key.unwrap``, ``recording.read``, ``tenant.create``, ``erasure.schedule``…"""
    outcome: str
    """``ok`` or an error kind (``KeyDestroyed``, ``denied``…), never an error message."""
    tenant: str | None = None
    key_id: str | None = None
    key_version: int | None = None
    object_id: str | None = None
    subject_hmac: str | None = None
    detail: dict[str, str] = field(default_factory=dict)
    seq: int | None = None
    """Position in the log; set when read back (authenticated by the entry's encryption)."""

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise InvalidRequest("audit time must be timezone-aware")
        _word(self.actor, "actor", optional=False)
        _word(self.action, "action", optional=False)
        _word(self.outcome, "outcome", optional=False)
        for value, what in (
            (self.tenant, "tenant"),
            (self.key_id, "key id"),
            (self.object_id, "object id"),
            (self.subject_hmac, "subject hmac"),
        ):
            _word(value, what)
        if self.key_version is not None and (
            not isinstance(self.key_version, int) or self.key_version < 0
        ):
            raise InvalidRequest("audit key version must be a non-negative integer")
        if len(self.detail) > _MAX_DETAIL or not all(
            isinstance(k, str)
            and _WORD.fullmatch(k)
            and isinstance(v, str)
            and len(v) <= _MAX_DETAIL_VALUE
            for k, v in self.detail.items()
        ):
            raise InvalidRequest("audit detail must be a few short string values")

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time.astimezone(UTC).isoformat(),
            "actor": self.actor,
            "action": self.action,
            "outcome": self.outcome,
            "tenant": self.tenant,
            "key_id": self.key_id,
            "key_version": self.key_version,
            "object_id": self.object_id,
            "subject_hmac": self.subject_hmac,
            "detail": dict(self.detail),
        }

    def encode(self, seq: int) -> bytes:
        """Canonical bytes, with the position inside (and bound again by the AAD)."""
        data = self.as_json()
        data["seq"] = seq
        data["v"] = 1
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> AuditEntry:
        """Inverse of ``encode``; only ever called on authenticated plaintext."""
        data = json.loads(raw)
        if data.pop("v") != 1:
            raise InvalidRequest("unknown audit entry version")
        data["time"] = datetime.fromisoformat(data["time"])
        return cls(**data)
