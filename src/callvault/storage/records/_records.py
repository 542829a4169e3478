"""The record types the store takes and returns: already-sealed bytes plus the few clear
columns that queries need.

Validated at construction, so a bad record fails before any I/O: ids use the object-id
alphabet, a blind index is exactly one HMAC-SHA256, sealed payloads are non-empty and bounded,
and the clear analytics labels are short lower-case tokens, never free text — a transcript
snippet or a phone number cannot end up in a clear column by mistake. ``repr`` never shows
the sealed bytes or the blind index.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from callvault._ids import check_object_id
from callvault.errors import InvalidRequest
from callvault.storage.records._schema import BLIND_INDEX_SIZE

__all__ = [
    "MAX_SEALED_BYTES",
    "AnalyticsRow",
    "NewAnalytics",
    "NewTranscript",
    "Transcript",
    "check_blind_index",
    "new_record_id",
]

MAX_SEALED_BYTES = 32 * 1024 * 1024
MAX_DURATION_SECONDS = 7 * 24 * 3600.0
_LABEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def new_record_id() -> str:
    """A fresh random record id. Allocate it *before* sealing, so the sealed bytes can be
    bound to it (the envelope's object id)."""
    return uuid.uuid4().hex


def check_blind_index(index: bytes) -> bytes:
    if not isinstance(index, bytes) or len(index) != BLIND_INDEX_SIZE:
        raise InvalidRequest(f"a blind index must be exactly {BLIND_INDEX_SIZE} bytes")
    return index


def _check_sealed(name: str, value: bytes) -> None:
    if not isinstance(value, bytes) or not value:
        raise InvalidRequest(f"{name} must be non-empty sealed bytes")
    if len(value) > MAX_SEALED_BYTES:
        raise InvalidRequest(f"{name} must be at most {MAX_SEALED_BYTES} bytes")


def _check_label(name: str, value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not _LABEL.fullmatch(value)):
        raise InvalidRequest(f"{name} must be a short label of a-z, 0-9, '_' and '-'")


@dataclass(frozen=True, slots=True)
class NewTranscript:
    """A transcript to store: ``sealed`` is the whole JSON document sealed by callvault."""

    call_id: str
    caller_index: bytes = field(repr=False)
    sealed: bytes = field(repr=False)
    id: str = field(default_factory=new_record_id)

    def __post_init__(self) -> None:
        check_object_id(self.id)
        check_object_id(self.call_id)
        check_blind_index(self.caller_index)
        _check_sealed("sealed", self.sealed)


@dataclass(frozen=True, slots=True)
class Transcript:
    """A stored transcript, as read back (still sealed)."""

    id: str
    tenant: str
    call_id: str
    caller_index: bytes = field(repr=False)
    sealed: bytes = field(repr=False)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewAnalytics:
    """An analytics row to store: labels in clear for queries, the rest in ``sealed_fields``."""

    call_id: str
    duration_seconds: float
    sealed_fields: bytes = field(repr=False)
    outcome: str | None = None
    sentiment: str | None = None
    caller_index: bytes | None = field(default=None, repr=False)
    id: str = field(default_factory=new_record_id)

    def __post_init__(self) -> None:
        check_object_id(self.id)
        check_object_id(self.call_id)
        if self.caller_index is not None:
            check_blind_index(self.caller_index)
        duration = self.duration_seconds
        if (
            isinstance(duration, bool)
            or not isinstance(duration, int | float)
            or not math.isfinite(duration)
            or not 0 <= duration <= MAX_DURATION_SECONDS
        ):
            raise InvalidRequest(
                f"duration_seconds must be a finite number from 0 to {MAX_DURATION_SECONDS:.0f}"
            )
        _check_label("outcome", self.outcome)
        _check_label("sentiment", self.sentiment)
        _check_sealed("sealed_fields", self.sealed_fields)


@dataclass(frozen=True, slots=True)
class AnalyticsRow:
    """A stored analytics row, as read back (sensitive fields still sealed)."""

    id: str
    tenant: str
    call_id: str
    caller_index: bytes | None = field(repr=False)
    duration_seconds: float
    outcome: str | None
    sentiment: str | None
    sealed_fields: bytes = field(repr=False)
    created_at: datetime
