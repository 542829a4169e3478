"""The local KMS's keyring on disk: one JSON document, sealed under the root key.

File layout: ``"CVKR" || 0x01 || nonce(12) || AES-256-GCM(keyring JSON)``, with the AEAD key
derived from the root key by HKDF-SHA256 and the environment name as associated data, so a
keyring of one environment does not even decrypt in another. Writes are atomic and durable
(``_atomic``); read-modify-write cycles hold an exclusive lock across processes.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from callvault._atomic import atomic_write, exclusive_lock
from callvault._ids import Environment
from callvault.errors import ConfigError, EnvironmentMismatch
from callvault.keys._material import KeyMaterial

__all__ = ["KeyringFile"]

_MAGIC = b"CVKR\x01"
_NONCE = 12


class KeyringFile:
    """Load and store the keyring document; the document itself is plain JSON data."""

    def __init__(self, path: Path, root_key: KeyMaterial, environment: Environment) -> None:
        self._path = path
        self._lock_path = path.with_name(path.name + ".lock")
        self._environment = environment
        key = HKDF(hashes.SHA256(), 32, salt=None, info=b"callvault/keyring/v1").derive(
            root_key.secret_bytes()
        )
        self._aead = AESGCM(key)

    @property
    def path(self) -> Path:
        return self._path

    def exists(self) -> bool:
        return self._path.exists()

    def load(self) -> dict[str, Any]:
        if not self._path.exists():
            return {
                "format": "callvault-keyring/v1",
                "environment": self._environment.value,
                "keys": {},
            }
        blob = self._path.read_bytes()
        if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + _NONCE + 16:
            raise ConfigError(f"{self._path} is not a callvault keyring")
        nonce = blob[len(_MAGIC) : len(_MAGIC) + _NONCE]
        try:
            plain = self._aead.decrypt(nonce, blob[len(_MAGIC) + _NONCE :], self._aad())
        except InvalidTag:
            if self._opens_in_other_environment(nonce, blob[len(_MAGIC) + _NONCE :]):
                raise EnvironmentMismatch(
                    f"keyring {self._path} belongs to another environment, not "
                    f"{self._environment.value!r}; keys are never shared across environments"
                ) from None
            raise ConfigError(
                f"cannot decrypt keyring {self._path}: wrong root key or corrupted file"
            ) from None
        document: dict[str, Any] = json.loads(plain)
        if document.get("environment") != self._environment.value:
            raise EnvironmentMismatch("keyring environment does not match configuration")
        return document

    def store(self, document: dict[str, Any]) -> None:
        plain = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        nonce = os.urandom(_NONCE)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self._path, _MAGIC + nonce + self._aead.encrypt(nonce, plain, self._aad()))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """Load under an exclusive lock, let the caller mutate, store if no exception."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self._lock_path):
            document = self.load()
            yield document
            self.store(document)

    def _aad(self, environment: Environment | None = None) -> bytes:
        return _MAGIC + (environment or self._environment).value.encode()

    def _opens_in_other_environment(self, nonce: bytes, sealed: bytes) -> bool:
        for other in Environment:
            if other is self._environment:
                continue
            with contextlib.suppress(InvalidTag):
                self._aead.decrypt(nonce, sealed, self._aad(other))
                return True
        return False
