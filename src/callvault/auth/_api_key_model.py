"""The values of customer API keys: their policy, their listable metadata, a new key.

Kept apart from the store (``_api_keys``) so that what may leave the store is visible in one
place: ``ApiKeyInfo`` has no field that could hold a secret or its hash, and ``NewApiKey``
(the only value carrying a secret) keeps it out of ``repr``.

A key reads ``cvk_<id>_<secret>``: ``id`` is 80 random bits and ``secret`` 256 random bits,
both lowercase base32 without padding, so the whole key is one word for copy-paste and for
secret scanners that match the ``cvk_`` prefix.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from callvault.auth._model import Role

__all__ = [
    "DEFAULT_API_KEYS",
    "KEY_PATTERN",
    "MIN_LIFETIME",
    "ApiKeyInfo",
    "ApiKeyPolicy",
    "NewApiKey",
    "entry_info",
    "random_b32",
]

KEY_PATTERN: Final = re.compile(r"cvk_([a-z2-7]{16})_([a-z2-7]{52})")
MIN_LIFETIME: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ApiKeyPolicy:
    """How long a key lives (the default *and* the longest a caller may ask for) and how
    long a superseded secret keeps working after a rotation (the default and the most)."""

    lifetime: timedelta = timedelta(days=90)
    rotation_overlap: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if not MIN_LIFETIME <= self.lifetime <= timedelta(days=365):
            raise ValueError("API key lifetime must be between 1 hour and 365 days")
        if not timedelta(0) <= self.rotation_overlap <= timedelta(days=7):
            raise ValueError("rotation overlap must be between 0 and 7 days")


DEFAULT_API_KEYS = ApiKeyPolicy()


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """What may be listed about a key: never the secret, never its hash."""

    key_id: str
    tenant: str
    role: Role
    label: str
    created_at: datetime
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """Returned once by create/rotate. ``secret`` is the whole key; it is not in repr.

    ``previous_valid_until``: after a rotation, when the superseded secret stops working
    (``None`` when it already has, or for a new key)."""

    info: ApiKeyInfo
    secret: str = field(repr=False)
    previous_valid_until: datetime | None = None


def random_b32(n: int) -> str:
    """``n`` random bytes as lowercase unpadded base32."""
    return base64.b32encode(secrets.token_bytes(n)).decode().rstrip("=").lower()


def entry_info(key_id: str, entry: dict[str, Any]) -> ApiKeyInfo:
    """The listable part of one stored entry."""

    def when(name: str) -> datetime | None:
        return datetime.fromisoformat(entry[name]) if entry[name] else None

    return ApiKeyInfo(
        key_id,
        entry["tenant"],
        Role(entry["role"]),
        entry["label"],
        datetime.fromisoformat(entry["created_at"]),
        datetime.fromisoformat(entry["expires_at"]),
        when("rotated_at"),
        when("revoked_at"),
    )
