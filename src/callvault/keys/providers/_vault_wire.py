"""How callvault names, contexts and wrapped blobs map onto Vault Transit.

* **Key names.** ``<env>/<tenant>/<scope>`` becomes the Transit key
  ``callvault.<env>.<tenant>.<scope>``.
  Transit names cannot hold ``/``; ``.`` can, and no key id component may contain one
  (tenants are ``[a-z0-9-]``), so the mapping is one-to-one. The environment is the
  second component, so one ACL glob (``callvault.prod.*``) confines a token to one
  environment on the server as well (see ``_vault_policy``).
* **Associated data.** Keys are ``derived=true``: Transit derives a per-context key with
  HKDF-SHA256 and requires the context on every encrypt, decrypt, datakey and rewrap. The
  context is ``encode_fields("callvault/vault-transit-wrap/v1", [key id, associated
  data])``, so the server itself binds associated data (wrong AD: authentication fails).
  The key version is deliberately *not* in the context: ``transit/rewrap`` keeps the
  context while moving a ciphertext to the newest version, and the version is bound
  anyway, because the ``vN`` prefix selects the key version that must authenticate it.
* **Blobs.** Transit answers ``vault:vN:<base64 of nonce || ciphertext || tag>``.
  ``WrappedKey`` keeps ``N`` as its version and the 60 decoded bytes as its blob (the size
  of a local-KMS wrap); unwrapping rebuilds ``vault:v<version>:`` from the *claimed*
  version, so a wrap presented under another version is decrypted with that version's key
  and fails to authenticate (``OpenError``). A blob of any other size is refused before
  anything is sent. ``vault:v<version>:`` + base64(blob) works with the ``bao`` CLI.
"""

from __future__ import annotations

import base64
import binascii
import re

from callvault.errors import InvalidRequest, KeyUnavailable, OpenError
from callvault.format._encoding import encode_fields

__all__ = [
    "PREFIX",
    "context",
    "from_b64",
    "from_transit",
    "key_name",
    "parse_key_name",
    "to_transit",
]

PREFIX = "callvault"
_COMPONENT = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_CIPHERTEXT = re.compile(r"vault:v([1-9][0-9]{0,9}):([A-Za-z0-9+/]+={0,2})")
_MAX_VERSION = 2**31 - 1
_SEALED_SIZE = 12 + 32 + 16  # AES-256-GCM96: nonce || ciphertext of a 256-bit key || tag
_CONTEXT_LABEL = b"callvault/vault-transit-wrap/v1"


def key_name(key_id: str) -> str:
    """The Transit key name of ``key_id`` (checked: three components of ``[a-z0-9_-]``)."""
    parts = key_id.split("/")
    if len(parts) != 3 or not all(_COMPONENT.fullmatch(p) for p in parts):
        raise InvalidRequest(f"key id {key_id!r} is not <environment>/<tenant>/<scope>")
    return ".".join((PREFIX, *parts))


def parse_key_name(name: str) -> str | None:
    """The key id a Transit key name stands for, or None if it is not callvault's."""
    parts = name.split(".")
    if len(parts) != 4 or parts[0] != PREFIX:
        return None
    key_id = "/".join(parts[1:])
    return key_id if key_name(key_id) == name else None


def context(key_id: str, associated_data: bytes) -> str:
    """The base64 derivation context that binds ``associated_data`` to ``key_id``."""
    encoded = encode_fields(_CONTEXT_LABEL, [key_id.encode(), associated_data])
    return base64.b64encode(encoded).decode()


def to_transit(version: int, blob: bytes) -> str:
    """The Transit ciphertext for a wrap claimed to be under ``version``."""
    if len(blob) != _SEALED_SIZE or not 1 <= version <= _MAX_VERSION:
        raise OpenError
    return f"vault:v{version}:{base64.b64encode(blob).decode()}"


def from_transit(answer: object, key_version: object) -> tuple[int, bytes]:
    """Version and blob of a ciphertext the server returned (checked, never trusted)."""
    match = _CIPHERTEXT.fullmatch(str(answer))
    if match is None or str(key_version) != match[1]:
        raise KeyUnavailable("Vault returned a malformed ciphertext")
    return int(match[1]), from_b64(match[2], _SEALED_SIZE)


def from_b64(value: object, size: int) -> bytes:
    """Decode a base64 field of a server answer that must be exactly ``size`` bytes."""
    try:
        raw = base64.b64decode(str(value), validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != size:
        raise KeyUnavailable("Vault returned a malformed answer (bad base64 field)")
    return raw
