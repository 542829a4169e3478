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
import struct
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callvault._ids import Environment
from callvault.errors import KeyDestroyed, KeyExists, KeyNotFound, KeyUnavailable, OpenError
from callvault.format._encoding import encode_fields
from callvault.keys._material import KeyMaterial
from callvault.keys.providers._base import KeyDescription, KeyState, WrappedKey
from callvault.keys.providers._keyring_file import KeyringFile
from callvault.keys.providers._scoping import check_key_environment

__all__ = ["LocalKms"]

_NONCE = 12
_WRAPPED_SIZE = _NONCE + 32 + 16


def _now() -> datetime:
    return datetime.now(UTC)


class LocalKms:
    """Master keys in an encrypted keyring file under the home directory."""

    scheme = "local"

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
        self._lock = threading.Lock()
        self._cached: dict[str, Any] | None = None
        self._cached_stat: tuple[int, int, int] | None = None
        self._ciphers: dict[tuple[str, int], AESGCM] = {}

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
        key = KeyMaterial.generate(f"data key under {key_id}")
        return key, self.wrap(key_id, key, associated_data)

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey:
        check_key_environment(key_id, self.environment)
        doc, ciphers = self._snapshot()
        entry = self._lookup(doc, key_id)
        self._require_usable(entry, key_id)
        version = int(entry["primary"])
        aead = _cipher(ciphers, key_id, entry, version)
        nonce = os.urandom(_NONCE)
        sealed = aead.encrypt(nonce, key.secret_bytes(), _aad(key_id, version, associated_data))
        return WrappedKey(version, nonce + sealed)

    def unwrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> KeyMaterial:
        check_key_environment(key_id, self.environment)
        doc, ciphers = self._snapshot()
        entry = doc["keys"].get(key_id)
        if entry is None or len(wrapped.blob) != _WRAPPED_SIZE:
            raise OpenError
        self._require_usable(entry, key_id)
        if str(wrapped.version) not in entry["versions"]:
            raise OpenError
        if wrapped.version < int(entry["min_decrypt"]):
            raise KeyUnavailable(
                f"key {key_id} version {wrapped.version} is retired (minimum decryption "
                f"version {entry['min_decrypt']})"
            )
        aead = _cipher(ciphers, key_id, entry, wrapped.version)
        try:
            raw = aead.decrypt(
                wrapped.blob[:_NONCE],
                wrapped.blob[_NONCE:],
                _aad(key_id, wrapped.version, associated_data),
            )
        except InvalidTag:
            raise OpenError from None
        return KeyMaterial(raw, f"key unwrapped by {key_id}#v{wrapped.version}")

    # -- internals --------------------------------------------------------------------

    def _document(self) -> dict[str, Any]:
        return self._snapshot()[0]

    def _snapshot(self) -> tuple[dict[str, Any], dict[tuple[str, int], AESGCM]]:
        """The keyring and the AEADs built from it, re-read only when the file changed
        (another process wrote it). The two are replaced together, so an AEAD of a version
        that was since destroyed never outlives the keyring it came from."""
        try:
            info = self._file.path.stat()
            stamp: tuple[int, int, int] | None = (info.st_ino, info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if self._cached is None or stamp != self._cached_stat:
                self._cached = self._file.load()
                self._cached_stat = stamp
                self._ciphers = {}
            return self._cached, self._ciphers

    def _invalidate(self) -> None:
        with self._lock:
            self._cached = None

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
        state = KeyState(entry["state"])
        if state is KeyState.DESTROYED:
            raise KeyDestroyed(f"key {key_id} was destroyed")
        if state is KeyState.PENDING_DELETION:
            raise KeyUnavailable(f"key {key_id} is scheduled for deletion")
        if state is KeyState.DISABLED:
            raise KeyUnavailable(f"key {key_id} is disabled")

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


def _cipher(
    ciphers: dict[tuple[str, int], AESGCM], key_id: str, entry: dict[str, Any], version: int
) -> AESGCM:
    """The AEAD of one key version, built once per keyring load rather than once per wrap."""
    aead = ciphers.get((key_id, version))
    if aead is None:
        aead = ciphers[(key_id, version)] = AESGCM(_material(entry, version))
    return aead


def _material(entry: dict[str, Any], version: int) -> bytes:
    material = entry["versions"][str(version)].get("material")
    if material is None:
        raise KeyDestroyed("key version was destroyed")
    return base64.b64decode(material)


def _aad(key_id: str, version: int, associated_data: bytes) -> bytes:
    return encode_fields(
        b"callvault/local-kms-wrap/v1",
        [key_id.encode(), struct.pack(">I", version), associated_data],
    )
