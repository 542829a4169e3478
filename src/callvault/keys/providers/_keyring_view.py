"""What the local KMS's wraps and unwraps read from the keyring, resolved once per read.

Every sealed object costs one wrap and every uncached open one unwrap, so their fixed cost
is per-object overhead. What they need from the keyring (is the key usable, which version
is primary, the version's AEAD, the constant part of the associated data) changes only
when the keyring does, so it is resolved once per keyring read and kept beside it.

It must never outlive the keyring it came from: another process (the CLI, an erasure job)
may disable or destroy a key at any moment, and the very next wrap or unwrap here must be
refused. So the keyring file is stat'ed on *every* call (inode, mtime in ns and size from
one ``os.stat``: the keyring is only ever replaced by an atomic rename, which changes the
inode), with no time window, and a changed stamp drops the document together with
everything resolved from it (``_Snapshot`` holds both). Only successful resolutions are
kept; a refusal is worked out again on every call, so its error is always today's.
"""

from __future__ import annotations

import base64
import os
import struct
import threading
import weakref
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callvault._ids import Environment
from callvault.errors import KeyDestroyed, KeyNotFound, KeyUnavailable, OpenError
from callvault.format._encoding import encode_fields_tail
from callvault.keys.providers._base import KeyState, unusable_error
from callvault.keys.providers._keyring_file import KeyringFile
from callvault.keys.providers._scoping import check_key_environment

__all__ = [
    "NONCE",
    "WRAPPED_SIZE",
    "KeyringView",
    "LocalSealingKey",
    "aad_prefix",
    "require_usable",
    "wrap_aad",
    "wrap_fresh_key",
]

NONCE = 12
WRAPPED_SIZE = NONCE + 32 + 16
_LABEL = b"callvault/local-kms-wrap/v1"
_U32 = struct.Struct(">I").pack

Stamp = tuple[int, int, int] | None


class _Snapshot:
    """One read of the keyring and what was resolved from it; replaced as a whole."""

    __slots__ = ("__weakref__", "document", "stamp", "unwrapping", "wrapping")

    def __init__(self, document: dict[str, Any], stamp: Stamp) -> None:
        self.document = document
        self.stamp = stamp
        self.wrapping: dict[str, tuple[int, AESGCM, bytes]] = {}
        self.unwrapping: dict[tuple[str, int], tuple[AESGCM, bytes]] = {}


class KeyringView:
    """The current keyring, checked against the file on every call."""

    def __init__(self, file: KeyringFile, environment: Environment) -> None:
        self._file = file
        self._path = os.fspath(file.path)  # os.stat(str): no pathlib conversion per call
        self._environment = environment
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None

    def document(self) -> dict[str, Any]:
        return self._current().document

    def invalidate(self) -> None:
        """This process changed the keyring: forget the old read even if the stamp is
        unchanged (a write within one mtime tick of the same size)."""
        with self._lock:
            self._snapshot = None

    def for_wrap(self, key_id: str) -> tuple[int, AESGCM, bytes]:
        """(primary version, its AEAD, the AAD prefix) of a usable key, else the error."""
        return self._wrapping(self._current(), key_id)

    def sealing_key(self, key_id: str) -> LocalSealingKey:
        """``for_wrap``'s answer as a ``SealingKey`` tied to the keyring read it came from."""
        snapshot = self._current()
        version, _, _ = self._wrapping(snapshot, key_id)
        return LocalSealingKey(self, snapshot, key_id, version)

    def _wrapping(self, snapshot: _Snapshot, key_id: str) -> tuple[int, AESGCM, bytes]:
        found = snapshot.wrapping.get(key_id)
        if found is None:
            check_key_environment(key_id, self._environment)
            entry: dict[str, Any] | None = snapshot.document["keys"].get(key_id)
            if entry is None:
                raise KeyNotFound(f"no key {key_id}")
            require_usable(entry, key_id)
            version = int(entry["primary"])
            found = (version, AESGCM(_material(entry, version)), aad_prefix(key_id, version))
            snapshot.wrapping[key_id] = found
        return found

    def for_unwrap(self, key_id: str, version: int, blob_size: int) -> tuple[AESGCM, bytes]:
        """(AEAD, AAD prefix) of a version that may decrypt, checked in the order (and
        with the errors) the local KMS has always used."""
        snapshot = self._current()
        found = snapshot.unwrapping.get((key_id, version))
        if found is None:
            check_key_environment(key_id, self._environment)
            entry: dict[str, Any] | None = snapshot.document["keys"].get(key_id)
            if entry is None or blob_size != WRAPPED_SIZE:
                raise OpenError
            require_usable(entry, key_id)
            if str(version) not in entry["versions"]:
                raise OpenError
            if version < int(entry["min_decrypt"]):
                raise KeyUnavailable(
                    f"key {key_id} version {version} is retired (minimum decryption "
                    f"version {entry['min_decrypt']})"
                )
            found = (AESGCM(_material(entry, version)), aad_prefix(key_id, version))
            snapshot.unwrapping[(key_id, version)] = found
        elif blob_size != WRAPPED_SIZE:
            raise OpenError
        return found

    def _current(self) -> _Snapshot:
        try:
            info = os.stat(self._path)
            stamp: Stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            stamp = None
        snapshot = self._snapshot  # one atomic read; the lock is for replacing it
        if snapshot is not None and snapshot.stamp == stamp:
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or snapshot.stamp != stamp:
                snapshot = self._snapshot = _Snapshot(self._file.load(), stamp)
            return snapshot


class LocalSealingKey:
    """A ``SealingKey`` of the local KMS: it generates only while the keyring read it was
    resolved from is the current one (the view's per-call ``os.stat``, so it follows every
    change the per-call path follows, from this process or another).

    It holds that read weakly and no key of its own: a plan kept for a class that is not
    sealed again must not keep a destroyed key's bytes (or its cipher) in memory after the
    keyring has moved on; the view drops them with the read, as before plans existed.
    """

    __slots__ = ("_key_id", "_snapshot", "_view", "version")

    wrapped_size = WRAPPED_SIZE

    def __init__(self, view: KeyringView, snapshot: _Snapshot, key_id: str, version: int) -> None:
        self._view = view
        self._snapshot = weakref.ref(snapshot)
        self._key_id = key_id
        self.version = version

    def generate(self, associated_data: bytes) -> tuple[bytes, bytes] | None:
        snapshot = self._view._current()  # held for the call: no reload can pull it away
        if snapshot is not self._snapshot():
            return None
        _, aead, prefix = snapshot.wrapping[self._key_id]
        return wrap_fresh_key(aead, prefix, associated_data)


def wrap_fresh_key(aead: AESGCM, prefix: bytes, associated_data: bytes) -> tuple[bytes, bytes]:
    """A fresh 256-bit key and its wrap (nonce || AES-GCM), one draw of randomness for both."""
    fresh = os.urandom(32 + NONCE)
    secret, nonce = fresh[:32], fresh[32:]
    return secret, nonce + aead.encrypt(nonce, secret, wrap_aad(prefix, associated_data))


def require_usable(entry: dict[str, Any], key_id: str) -> None:
    if (error := unusable_error(KeyState(entry["state"]), key_id)) is not None:
        raise error


def aad_prefix(key_id: str, version: int) -> bytes:
    """The wrap's associated data is ``encode_fields(label, [key id, version, caller's
    AAD])``; this is all of it but the last field, so a call appends only
    ``u32(len(aad)) || aad`` (``encode_fields_tail`` with one field still to come)."""
    return encode_fields_tail(_LABEL, [key_id.encode(), _U32(version)], b"", 1)


def wrap_aad(prefix: bytes, associated_data: bytes) -> bytes:
    return prefix + _U32(len(associated_data)) + associated_data


def _material(entry: dict[str, Any], version: int) -> bytes:
    material = entry["versions"][str(version)].get("material")
    if material is None:
        raise KeyDestroyed("key version was destroyed")
    return base64.b64decode(material)
