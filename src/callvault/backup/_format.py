"""The backup file's header: what a restore must know *before* it can decrypt the body.

Layout (docs/backup.md has the byte table)::

    "CVBK" || u8 version (1) || u32 length || encode_fields(label, fields)

The header names the environment, the KMS and the backup key (id, version) that wraps the
body's DEK, the wrapped DEK, the creation time and the backup id; for the local KMS it also
carries the *bootstrap keyring* (the keyring file as stored, still sealed under the root
key) and the passphrase salt, because without them nothing could unwrap the DEK. The whole
header, byte for byte, is the Cobblestone-256 *context* of the body, so any change to it
makes the body fail to open. Parsing is strict: unknown magic or version, a length over the
limit, a wrong field count or trailing bytes are all refused before any key is touched.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from callvault._ids import Environment
from callvault.errors import BackupInvalid
from callvault.format._encoding import encode_fields

__all__ = ["BACKUP_KEY_PURPOSE", "MAGIC", "MAX_HEADER_SIZE", "VERSION", "BackupHeader"]

MAGIC = b"CVBK"
VERSION = 1
MAX_HEADER_SIZE = 16 * 1024 * 1024  # a keyring of many tenants fits; anything larger is junk
BACKUP_KEY_PURPOSE = "backup"
"""The backup key is the platform master key ``<env>/platform/backup`` (``PlatformKey``)."""
_LABEL = b"callvault/backup-header/v1"
_PREFIX = struct.Struct(">4sBI")
_U32 = struct.Struct(">I")
_FIELDS = 9


@dataclass(frozen=True, slots=True)
class BackupHeader:
    environment: Environment
    kms: str
    """The KMS provider URI of the backed-up home (``local://``, ``aws-kms://…``)."""
    key_id: str
    key_version: int
    wrapped_dek: bytes
    created_at: datetime
    backup_id: str
    bootstrap_keyring: bytes
    """Local KMS: the keyring file as stored (sealed under the root key); else empty."""
    passphrase_salt: bytes
    """Local KMS with ``CALLVAULT_ROOT_PASSPHRASE``: the scrypt salt; else empty."""

    def encode(self) -> bytes:
        fields = [
            self.environment.value.encode(),
            self.kms.encode(),
            self.key_id.encode(),
            _U32.pack(self.key_version),
            self.wrapped_dek,
            self.created_at.isoformat().encode(),
            self.backup_id.encode(),
            self.bootstrap_keyring,
            self.passphrase_salt,
        ]
        body = encode_fields(_LABEL, fields)
        if len(body) > MAX_HEADER_SIZE:
            raise BackupInvalid("backup header too large (keyring over 16 MiB)")
        return _PREFIX.pack(MAGIC, VERSION, len(body)) + body

    @staticmethod
    def read_from(read: Callable[[int], bytes]) -> tuple[BackupHeader, bytes]:
        """Parse the header from a stream; returns it and its exact bytes (the context)."""
        prefix = read(_PREFIX.size)
        if len(prefix) != _PREFIX.size:
            raise BackupInvalid("not a callvault backup (file too short)")
        magic, version, length = _PREFIX.unpack(prefix)
        if magic != MAGIC:
            raise BackupInvalid("not a callvault backup (bad magic)")
        if version != VERSION:
            raise BackupInvalid(f"unsupported backup format version {version}")
        if length > MAX_HEADER_SIZE:
            raise BackupInvalid("backup header length out of range")
        body = read(length)
        if len(body) != length:
            raise BackupInvalid("backup header truncated")
        return _parse(body), prefix + body


def _parse(body: bytes) -> BackupHeader:
    fields = _decode_fields(body)
    try:
        environment = Environment(fields[0].decode())
        (version,) = _U32.unpack(fields[3])
        created = datetime.fromisoformat(fields[5].decode())
        header = BackupHeader(
            environment=environment,
            kms=fields[1].decode(),
            key_id=fields[2].decode(),
            key_version=version,
            wrapped_dek=fields[4],
            created_at=created,
            backup_id=fields[6].decode(),
            bootstrap_keyring=fields[7],
            passphrase_salt=fields[8],
        )
    except (ValueError, struct.error, UnicodeDecodeError):
        raise BackupInvalid("malformed backup header") from None
    if header.encode()[_PREFIX.size :] != body:  # one encoding only: no malleable variants
        raise BackupInvalid("malformed backup header")
    return header


def _decode_fields(body: bytes) -> list[bytes]:
    """The inverse of ``encode_fields`` for exactly ``_FIELDS`` fields and our label."""
    try:
        (label_len,) = struct.unpack_from(">H", body, 0)
        offset = 2 + label_len
        if body[2:offset] != _LABEL:
            raise BackupInvalid("malformed backup header")
        (count,) = struct.unpack_from(">H", body, offset)
        offset += 2
        if count != _FIELDS:
            raise BackupInvalid("malformed backup header")
        fields = []
        for _ in range(count):
            (size,) = _U32.unpack_from(body, offset)
            offset += 4
            if offset + size > len(body):
                raise BackupInvalid("malformed backup header")
            fields.append(body[offset : offset + size])
            offset += size
    except struct.error:
        raise BackupInvalid("malformed backup header") from None
    if offset != len(body):
        raise BackupInvalid("malformed backup header (trailing bytes)")
    return fields
