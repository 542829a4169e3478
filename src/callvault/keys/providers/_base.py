"""The one interface every KMS provider implements (local, AWS KMS, Vault Transit, PKCS#11).

A provider holds master keys (KEKs) that never leave it; callvault asks it to wrap and
unwrap 256-bit keys under them, always with associated data that the provider must bind
(a provider that cannot bind it refuses instead of dropping it). Failures map to the error
tree: ``KeyDestroyed`` for a destroyed key, ``KeyUnavailable`` for anything that may pass
later (unreachable, throttled, disabled), ``OpenError`` for a wrapped blob that does not
authenticate, ``KeyNotFound`` for administrative calls on unknown keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from callvault._ids import Environment
from callvault.errors import KeyDestroyed, KeyUnavailable
from callvault.keys._material import KeyMaterial

__all__ = ["KeyDescription", "KeyState", "KmsProvider", "SealingKey", "WrappedKey"]


class KeyState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    PENDING_DELETION = "pending_deletion"
    DESTROYED = "destroyed"


def unusable_error(state: KeyState | str, key_id: str) -> KeyDestroyed | KeyUnavailable | None:
    """The error every provider gives for using a key in ``state`` (``None``: usable), so
    a destroyed key reads the same from the local KMS, AWS and an HSM."""
    if state == KeyState.DESTROYED:
        return KeyDestroyed(f"key {key_id} was destroyed")
    if state == KeyState.PENDING_DELETION:
        return KeyUnavailable(f"key {key_id} is scheduled for deletion")
    if state == KeyState.DISABLED:
        return KeyUnavailable(f"key {key_id} is disabled")
    return None


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A key wrapped under master key version ``version``; ``blob`` is provider-defined."""

    version: int
    blob: bytes


class SealingKey(Protocol):
    """An in-process provider's ``generate_data_key`` for one master key, resolved once.

    Sealing generates one data key per object under the same few master keys; a provider
    whose keys live in this process (``LocalKms.sealing_key``) can hand out what it resolves
    per call (the key's state, its primary version) as one object, which the hierarchy
    keeps in a sealing plan. It must not keep key material alive on its own behalf: a plan
    may outlive the key.
    """

    version: int
    """The master key version ``generate`` wraps under."""
    wrapped_size: int
    """Length of every blob ``generate`` returns."""

    def generate(self, associated_data: bytes) -> tuple[bytes, bytes] | None:
        """A fresh 256-bit key and its wrap under ``version`` (the secret, and the blob
        that ``unwrap`` with ``WrappedKey(version, blob)`` takes back); ``None`` when the
        key as resolved is no longer the key as stored. Checked on every call, never
        cached: a key disabled, destroyed or rotated by another process must stop (or
        change) the very next seal."""
        ...


@dataclass(frozen=True, slots=True)
class KeyDescription:
    """What can be said about a master key without touching its bytes."""

    provider: str
    key_id: str
    environment: Environment
    state: KeyState
    primary_version: int
    min_decrypt_version: int
    versions: tuple[int, ...]
    created_at: datetime
    rotated_at: datetime
    deletion_date: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The description as ``keys list --json``, the posture facts and the evidence
        bundle print it: names, versions and dates, never key material."""
        return {
            "provider": self.provider,
            "key_id": self.key_id,
            "environment": self.environment.value,
            "state": self.state.value,
            "primary_version": self.primary_version,
            "min_decrypt_version": self.min_decrypt_version,
            "versions": list(self.versions),
            "created_at": self.created_at.isoformat(),
            "rotated_at": self.rotated_at.isoformat(),
            "deletion_date": self.deletion_date.isoformat() if self.deletion_date else None,
            "labels": dict(self.labels),
        }


@runtime_checkable
class KmsProvider(Protocol):
    """Master-key operations. Implementations must be safe to call from several threads."""

    scheme: str
    environment: Environment

    def create_key(self, key_id: str, labels: Mapping[str, str]) -> KeyDescription: ...

    def describe_key(self, key_id: str) -> KeyDescription: ...

    def list_keys(self) -> list[KeyDescription]: ...

    def rotate_key(self, key_id: str) -> KeyDescription: ...

    def generate_data_key(
        self, key_id: str, associated_data: bytes
    ) -> tuple[KeyMaterial, WrappedKey]: ...

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey: ...

    def unwrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> KeyMaterial: ...

    def disable_key(self, key_id: str) -> KeyDescription:
        """Refuse every wrap and unwrap (``KeyUnavailable``) until ``enable_key``."""
        ...

    def enable_key(self, key_id: str) -> KeyDescription: ...

    def set_min_decrypt_version(self, key_id: str, version: int) -> KeyDescription:
        """Retire versions below ``version``: unwrapping under them raises ``KeyUnavailable``.
        Raising it is allowed up to the primary version; lowering it again is allowed too
        (un-retiring), as Vault Transit allows."""
        ...

    def schedule_deletion(self, key_id: str, pending_days: int) -> KeyDescription: ...

    def cancel_deletion(self, key_id: str) -> KeyDescription: ...

    def destroy(self, key_id: str) -> KeyDescription: ...
