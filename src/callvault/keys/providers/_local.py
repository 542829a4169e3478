"""The local KMS: the embedded default provider, ``local://``.

Master keys are 256-bit AES keys with versions, kept in the sealed keyring file
(``_keyring_file``). Wrapping is AES-256-GCM with a random 96-bit nonce and associated data
that binds the key id, the version and the caller's associated data. Random nonces bound
the safe number of wraps per version to 2**32 (NIST SP 800-38D); the rotation cadence keeps
real use orders of magnitude below that.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag

from callvault._ids import Environment
from callvault.errors import KeyExists, KeyNotFound, KeyUnavailable, OpenError
from callvault.keys._material import KeyMaterial
from callvault.keys.providers._base import KeyDescription, KeyState, WrappedKey
from callvault.keys.providers._keyring_file import KeyringFile
from callvault.keys.providers._keyring_view import (
    NONCE,
    KeyringView,
    LocalSealingKey,
    require_usable,
    wrap_aad,
    wrap_fresh_key,
)
from callvault.keys.providers._scoping import check_key_environment

__all__ = ["LocalKms"]


def _now() -> datetime:
    return datetime.now(UTC)


class LocalKms:
    """Master keys in an encrypted keyring file under the home directory."""

    scheme = "local"
    in_process = True
    """Keys live in this process: nothing to retry (``ResilientProvider`` calls straight
    through)."""

    def __init__(
        self,
        keyring_path: Path,
        root_key: KeyMaterial,
        environment: Environment,
        clock: Any = _now,
    ) -> None:
        self.environment = Environment(environment)
        self._file = KeyringFile(keyring_path, root_key, self.environment)
        self._clock = clock
        # The keyring as last read, re-checked against the file on every call (_keyring_view).
        self._view = KeyringView(self._file, self.environment)

    # -- administration ---------------------------------------------------------------

    def create_key(self, key_id: str, labels: Mapping[str, str]) -> KeyDescription:
        check_key_environment(key_id, self.environment)
        with self._file.transaction() as doc:
            if key_id in doc["keys"]:
                raise KeyExists(f"key {key_id} already exists")
            now = self._clock().isoformat()
            doc["keys"][key_id] = {
                "labels": dict(labels),
                "state": KeyState.ENABLED.value,
                "primary": 1,
                "min_decrypt": 1,
                "created_at": now,
                "rotated_at": now,
                "deletion_date": None,
                "versions": {"1": {"created_at": now, "material": _new_material()}},
            }
            description = self._describe(key_id, doc["keys"][key_id])
        self._invalidate()
        return description

    def describe_key(self, key_id: str) -> KeyDescription:
        return self._describe(key_id, self._entry(self._document(), key_id))

    def list_keys(self) -> list[KeyDescription]:
        doc = self._document()
        return [self._describe(kid, entry) for kid, entry in sorted(doc["keys"].items())]

    def rotate_key(self, key_id: str) -> KeyDescription:
        with self._file.transaction() as doc:
            entry = self._entry(doc, key_id)
            self._require_usable(entry, key_id)
            version = max(int(v) for v in entry["versions"]) + 1
            now = self._clock().isoformat()
            entry["versions"][str(version)] = {"created_at": now, "material": _new_material()}
            entry["primary"] = version
            entry["rotated_at"] = now
            description = self._describe(key_id, entry)
        self._invalidate()
        return description

    def disable_key(self, key_id: str) -> KeyDescription:
        return self._set_state(key_id, KeyState.ENABLED, KeyState.DISABLED)

    def enable_key(self, key_id: str) -> KeyDescription:
        return self._set_state(key_id, KeyState.DISABLED, KeyState.ENABLED)

    def set_min_decrypt_version(self, key_id: str, version: int) -> KeyDescription:
        with self._file.transaction() as doc:
            entry = self._entry(doc, key_id)
            self._require_usable(entry, key_id)
            if not 1 <= version <= int(entry["primary"]):
                raise ValueError(
                    f"minimum decryption version must be 1..{entry['primary']} (the primary)"
                )
            entry["min_decrypt"] = version
            description = self._describe(key_id, entry)
        self._invalidate()
        return description

    def _set_state(self, key_id: str, expected: KeyState, new: KeyState) -> KeyDescription:
        with self._file.transaction() as doc:
            entry = self._entry(doc, key_id)
            state = KeyState(entry["state"])
            if state is not expected and state is not new:
                self._require_usable(entry, key_id)  # destroyed / pending: say which
            entry["state"] = new.value
            description = self._describe(key_id, entry)
        self._invalidate()
        return description

    def schedule_deletion(self, key_id: str, pending_days: int) -> KeyDescription:
        if pending_days < 0:
            raise ValueError("pending_days must be >= 0")
        with self._file.transaction() as doc:
            entry = self._entry(doc, key_id)
            if entry["state"] != KeyState.DISABLED.value:  # a disabled key may be deleted
                self._require_usable(entry, key_id)
            entry["state"] = KeyState.PENDING_DELETION.value
            entry["deletion_date"] = (self._clock() + timedelta(days=pending_days)).isoformat()
            description = self._describe(key_id, entry)
        self._invalidate()
        return description

    def cancel_deletion(self, key_id: str) -> KeyDescription:
        with self._file.transaction() as doc:
            entry = self._entry(doc, key_id)
            if entry["state"] != KeyState.PENDING_DELETION.value:
                raise KeyUnavailable(f"key {key_id} is not pending deletion")
            entry["state"] = KeyState.ENABLED.value
            entry["deletion_date"] = None
            description = self._describe(key_id, entry)
        self._invalidate()
        return description

    def destroy(self, key_id: str) -> KeyDescription:
        """Erase every version's bytes; only a tombstone remains. Irreversible."""
        with self._file.transaction() as doc:
            entry = self._entry(doc, key_id)
            if entry["state"] != KeyState.PENDING_DELETION.value:
                raise KeyUnavailable(f"key {key_id} must be scheduled for deletion first")
            entry["state"] = KeyState.DESTROYED.value
            entry["destroyed_at"] = self._clock().isoformat()
            for version in entry["versions"].values():
                version.pop("material", None)
            description = self._describe(key_id, entry)
        self._invalidate()
        return description

    # -- cryptographic operations -----------------------------------------------------

    def generate_data_key(
        self, key_id: str, associated_data: bytes
    ) -> tuple[KeyMaterial, WrappedKey]:
        # ``wrap`` of a fresh key (once per sealed object): the key is checked usable
        # before any randomness is drawn, and one draw makes key and nonce.
        version, aead, prefix = self._view.for_wrap(key_id)
        secret, blob = wrap_fresh_key(aead, prefix, associated_data)
        return KeyMaterial(secret, f"data key under {key_id}"), WrappedKey(version, blob)

    def sealing_key(self, key_id: str) -> LocalSealingKey:
        """``generate_data_key`` for ``key_id`` resolved once (``SealingKey``): the same
        checks now, the same wraps while the keyring is unchanged."""
        return self._view.sealing_key(key_id)

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey:
        # Environment, existence, state and primary version: checked by the view against
        # the keyring as it is on disk now (resolved once per keyring read).
        version, aead, prefix = self._view.for_wrap(key_id)
        nonce = os.urandom(NONCE)
        sealed = aead.encrypt(nonce, key.secret_bytes(), wrap_aad(prefix, associated_data))
        return WrappedKey(version, nonce + sealed)

    def unwrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> KeyMaterial:
        blob = wrapped.blob
        aead, prefix = self._view.for_unwrap(key_id, wrapped.version, len(blob))
        try:
            raw = aead.decrypt(blob[:NONCE], blob[NONCE:], wrap_aad(prefix, associated_data))
        except InvalidTag:
            raise OpenError from None
        return KeyMaterial(raw, f"key unwrapped by {key_id}#v{wrapped.version}")

    # -- internals --------------------------------------------------------------------

    def _document(self) -> dict[str, Any]:
        return self._view.document()

    def _invalidate(self) -> None:
        self._view.invalidate()

    def _entry(self, doc: dict[str, Any], key_id: str) -> dict[str, Any]:
        check_key_environment(key_id, self.environment)
        return self._lookup(doc, key_id)

    @staticmethod
    def _lookup(doc: dict[str, Any], key_id: str) -> dict[str, Any]:
        """The key's entry; callers have checked the key id's environment already."""
        entry: dict[str, Any] | None = doc["keys"].get(key_id)
        if entry is None:
            raise KeyNotFound(f"no key {key_id}")
        return entry

    def _require_usable(self, entry: dict[str, Any], key_id: str) -> None:
        require_usable(entry, key_id)

    def _describe(self, key_id: str, entry: dict[str, Any]) -> KeyDescription:
        deletion = entry.get("deletion_date")
        return KeyDescription(
            provider=self.scheme,
            key_id=key_id,
            environment=self.environment,
            state=KeyState(entry["state"]),
            primary_version=int(entry["primary"]),
            min_decrypt_version=int(entry["min_decrypt"]),
            versions=tuple(sorted(int(v) for v in entry["versions"])),
            created_at=datetime.fromisoformat(entry["created_at"]),
            rotated_at=datetime.fromisoformat(entry["rotated_at"]),
            deletion_date=datetime.fromisoformat(deletion) if deletion else None,
            labels=dict(entry["labels"]),
        )


def _new_material() -> str:
    return base64.b64encode(os.urandom(32)).decode()
