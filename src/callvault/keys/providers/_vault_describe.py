"""A Transit key's answer plus its KV record, read as one ``KeyDescription``.

State mapping (the server is the authority where it has one):

* KV record ``destroyed`` → ``DESTROYED`` (the Transit key is deleted; the tombstone keeps
  the last description);
* KV record ``pending_deletion`` → ``PENDING_DELETION`` (the Transit key is soft-deleted too);
* Transit ``soft_deleted`` → ``DISABLED`` (OpenBao refuses every operation on the key);
* otherwise ``ENABLED``.

Versions run from 1 (or Transit's ``min_available_version`` after a trim) to
``latest_version``; versions below ``min_decryption_version`` stay listed, because lowering
the minimum again restores them. ``created_at`` is the creation time of version 1 as the
server recorded it (kept in the KV record, since Transit hides the times of retired
versions); ``rotated_at`` is the creation time of the newest version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from callvault._ids import Environment
from callvault.errors import KeyDestroyed, KeyUnavailable
from callvault.keys.providers._base import KeyDescription, KeyState
from callvault.keys.providers._vault_meta import DESTROYED, PENDING_DELETION, MetaRecord

__all__ = ["check_key_config", "created_at", "describe", "require_usable", "snapshot"]

_SCHEME = "vault"


def describe(
    key_id: str, environment: Environment, record: MetaRecord, info: Mapping[str, Any] | None
) -> KeyDescription:
    if record.state == DESTROYED or info is None:
        final = record.data.get("final") or {}
        return KeyDescription(
            provider=_SCHEME,
            key_id=key_id,
            environment=environment,
            state=KeyState.DESTROYED,
            primary_version=int(final.get("primary", 1)),
            min_decrypt_version=int(final.get("min_decrypt", 1)),
            versions=tuple(int(v) for v in final.get("versions", [])),
            created_at=datetime.fromisoformat(record.data["created_at"]),
            rotated_at=datetime.fromisoformat(final.get("rotated_at", record.data["created_at"])),
            labels=dict(record.data.get("labels", {})),
        )
    latest = int(info["latest_version"])
    first = max(1, int(info.get("min_available_version") or 0))
    if record.state == PENDING_DELETION:
        state = KeyState.PENDING_DELETION
    elif info.get("soft_deleted"):
        state = KeyState.DISABLED
    else:
        state = KeyState.ENABLED
    deletion = record.data.get("deletion_date")
    return KeyDescription(
        provider=_SCHEME,
        key_id=key_id,
        environment=environment,
        state=state,
        primary_version=latest,
        min_decrypt_version=int(info["min_decryption_version"]),
        versions=tuple(range(first, latest + 1)),
        created_at=datetime.fromisoformat(record.data["created_at"]),
        rotated_at=_version_time(info, latest),
        deletion_date=datetime.fromisoformat(deletion) if deletion else None,
        labels=dict(record.data.get("labels", {})),
    )


def require_usable(key_id: str, record: MetaRecord, info: Mapping[str, Any] | None) -> None:
    """Raise what a wrap, unwrap or rotation of this key would meet on the server."""
    if record.state == DESTROYED or info is None:
        raise KeyDestroyed(f"key {key_id} was destroyed")
    if record.state == PENDING_DELETION:
        raise KeyUnavailable(f"key {key_id} is scheduled for deletion")
    if info.get("soft_deleted"):
        raise KeyUnavailable(f"key {key_id} is disabled")


def snapshot(description: KeyDescription) -> dict[str, Any]:
    """What the tombstone keeps of a key about to be destroyed."""
    return {
        "primary": description.primary_version,
        "min_decrypt": description.min_decrypt_version,
        "versions": list(description.versions),
        "rotated_at": description.rotated_at.isoformat(),
    }


def created_at(info: Mapping[str, Any]) -> str:
    """Creation time of the oldest visible version, as the server recorded it."""
    oldest = min(int(v) for v in info["keys"])
    return _version_time(info, oldest).isoformat()


def check_key_config(key_id: str, info: Mapping[str, Any]) -> None:
    """Refuse a Transit key that is not what callvault creates: a key someone made by
    hand with other settings would silently drop a property (export, AD binding)."""
    expected = {"type": "aes256-gcm96", "derived": True, "exportable": False}
    wrong = {k: info.get(k) for k, v in expected.items() if info.get(k) != v}
    if wrong or info.get("allow_plaintext_backup"):
        raise KeyUnavailable(
            f"the Transit key behind {key_id} has unexpected settings {wrong}; callvault "
            "needs aes256-gcm96, derived=true, exportable=false, no plaintext backup"
        )


def _version_time(info: Mapping[str, Any], version: int) -> datetime:
    stamp = info["keys"].get(str(version))
    if not isinstance(stamp, int):
        raise KeyUnavailable("Vault returned a key without the creation time of its versions")
    return datetime.fromtimestamp(stamp, UTC)
