"""The audit log's two platform secrets, KMS-wrapped in ``audit/log.json``.

* the **log key** (256-bit, under ``<env>/platform/audit``: the audit data class's platform
  master key) from which each entry's AES-256-GCM key is derived with HKDF over the log id
  and the entry's sequence number;
* the **checkpoint key**, an Ed25519 seed (under ``<env>/platform/audit-signing``) that signs
  checkpoints as a C2SP signed note.

Why platform keys and not ``vault.seal`` under a tenant's audit class: the log must outlive
tenant erasure (the entry that records an erasure must stay readable after the tenant's keys
are gone), it holds platform-level entries that have no tenant (``platform`` is a reserved
tenant id, which ``ObjectContext`` refuses), and sealing each entry under a KMS-managed
tenant key would itself emit key events into the log. One unwrap per process, then local
AES-GCM. Both secrets are unwrapped with the log id as associated data, and the public
checkpoint key is re-derived from the unwrapped seed and checked against the file, so
someone who can write ``log.json`` but not use the KMS cannot substitute a key.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import struct
import threading
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from callvault._atomic import atomic_write
from callvault._ids import DataClass
from callvault.auth._platform_keys import PlatformKey, wrapped_from_json, wrapped_to_json
from callvault.errors import ConfigError, EnvironmentMismatch, OpenError
from callvault.format._encoding import encode_fields
from callvault.keys import KeyMaterial
from callvault.keys.providers import KmsProvider

__all__ = ["SIGNING_PURPOSE", "AuditKeys"]

SIGNING_PURPOSE = "audit-signing"
_SEQ = struct.Struct(">Q")
_NONCE = 12


class AuditKeys:
    """Entry encryption and checkpoint signing for one log; created on first use."""

    def __init__(self, meta_path: Path, provider: KmsProvider) -> None:
        self._path = meta_path
        self._provider = provider
        self._lock = threading.RLock()
        self._meta: dict[str, Any] = {}
        self._meta = self._load_or_create()
        self.log_id: str = self._meta["log_id"]
        self.environment: str = self._meta["environment"]
        if self.environment != provider.environment.value:
            raise EnvironmentMismatch(
                f"audit log belongs to {self.environment}, not {provider.environment.value}"
            )
        self.origin: str = self._meta["origin"]
        self.public_key = Ed25519PublicKey.from_public_bytes(
            base64.b64decode(self._meta["signing"]["public_key"])
        )
        self._log_key: KeyMaterial | None = None
        self._signer: Ed25519PrivateKey | None = None

    # -- entries ----------------------------------------------------------------------

    def seal(self, seq: int, plaintext: bytes) -> bytes:
        """``u64 seq || nonce || AES-GCM(ciphertext || tag)``, bound to log, env and seq."""
        nonce = os.urandom(_NONCE)
        return _SEQ.pack(seq) + nonce + self._aead(seq).encrypt(nonce, plaintext, self._ad(seq))

    def open(self, position: int, payload: bytes) -> bytes:
        """Open an entry *as the entry at ``position``*: moved or altered, it fails."""
        if len(payload) < _SEQ.size + _NONCE + 16:
            raise OpenError()
        nonce = payload[_SEQ.size : _SEQ.size + _NONCE]
        try:
            return self._aead(position).decrypt(
                nonce, payload[_SEQ.size + _NONCE :], self._ad(position)
            )
        except InvalidTag:
            raise OpenError() from None

    def ready(self) -> None:
        """Unwrap the log key now (outside any file lock)."""
        self._key()

    @staticmethod
    def framed_seq(payload: bytes) -> int | None:
        return _SEQ.unpack_from(payload)[0] if len(payload) >= _SEQ.size else None

    def _ad(self, seq: int) -> bytes:
        fields = [self.environment.encode(), self.log_id.encode(), _SEQ.pack(seq)]
        return encode_fields(b"callvault/audit-entry/v1", fields)

    def _aead(self, seq: int) -> AESGCM:
        info = encode_fields(
            b"callvault/audit-entry-key/v1", [self.log_id.encode(), _SEQ.pack(seq)]
        )
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info)
        return AESGCM(hkdf.derive(self._key().secret_bytes()))

    def _key(self) -> KeyMaterial:
        with self._lock:
            if self._log_key is None:
                platform = PlatformKey(self._provider, DataClass.AUDIT.value)
                wrapped = wrapped_from_json(self._meta["log_key"])
                self._log_key = platform.unwrap(wrapped, self._fields("log"), "audit log key")
            return self._log_key

    # -- checkpoints ------------------------------------------------------------------

    def signer(self) -> Ed25519PrivateKey:
        with self._lock:
            if self._signer is None:
                platform = PlatformKey(self._provider, SIGNING_PURPOSE)
                wrapped = wrapped_from_json(self._meta["signing"]["seed"])
                seed = platform.unwrap(wrapped, self._fields("checkpoint"), "audit signing key")
                private = Ed25519PrivateKey.from_private_bytes(seed.secret_bytes())
                if _raw(private.public_key()) != _raw(self.public_key):
                    raise ConfigError("audit checkpoint key does not match its public key")
                self._signer = private
            return self._signer

    # -- the metadata file ------------------------------------------------------------

    def _fields(self, what: str) -> list[bytes]:
        return [what.encode(), self._meta["log_id"].encode()]

    def _load_or_create(self) -> dict[str, Any]:
        if not self._path.exists():
            self._create()
        try:
            meta = json.loads(self._path.read_text())
            if meta["version"] != 1:
                raise ValueError("unknown version")
            if not (meta["signing"]["public_key"] and meta["log_key"]["blob"]):
                raise ValueError("missing keys")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"malformed audit log metadata {self._path}: {exc}") from None
        return dict(meta)

    def _create(self) -> None:
        """Called under the log's lock (see ``AuditStore``), so only one process creates."""
        log_id = secrets.token_hex(8)
        env = self._provider.environment.value
        self._meta = {"log_id": log_id}
        log_key = PlatformKey(self._provider, DataClass.AUDIT.value)
        _, wrapped_log = log_key.generate(self._fields("log"), "audit log key")
        signing = PlatformKey(self._provider, SIGNING_PURPOSE)
        seed, wrapped_seed = signing.generate(self._fields("checkpoint"), "audit signing key")
        public = Ed25519PrivateKey.from_private_bytes(seed.secret_bytes()).public_key()
        meta = {
            "version": 1,
            "log_id": log_id,
            "environment": env,
            "origin": f"callvault/{env}/audit/{log_id}",
            "log_key": wrapped_to_json(wrapped_log),
            "signing": {
                "public_key": base64.b64encode(_raw(public)).decode(),
                "seed": wrapped_to_json(wrapped_seed),
            },
        }
        atomic_write(self._path, json.dumps(meta, indent=1, sort_keys=True).encode() + b"\n")


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)
