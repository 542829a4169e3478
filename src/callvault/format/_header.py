"""callvault's envelope header (format v1): magic, version, key reference, wrapped DEK.

The header is parsed strictly; anything unexpected is an ``OpenError``, because the header
comes from storage and storage is not trusted. Byte layout: docs/format.md.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass

from callvault.errors import OpenError
from callvault.format._context import ObjectContext
from callvault.format._encoding import encode_fields_tail

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_HEADER_SIZE",
    "PREFIX_SIZE",
    "Header",
    "KeyReference",
    "body_context",
    "encode_header",
    "header_length",
    "wrap_aad",
]

MAGIC = b"CVLT"
FORMAT_VERSION = 1
PREFIX_SIZE = 8  # magic(4) version(1) flags(1) header length(2)
MAX_HEADER_SIZE = 8192
SUBJECT_KEY_ID_SIZE = 32
MAX_WRAPPED_SIZE = 4096
_PROVIDER = re.compile(r"[a-z][a-z0-9-]{0,31}")
_KEY_ID = re.compile(r"[A-Za-z0-9._:/#=+-]{1,512}")
# Pre-compiled field codecs: a header is encoded or parsed (and re-encoded) per object.
_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_PREFIX_TAIL = struct.Struct(">BBH")
_BODY_MAGIC = MAGIC + bytes([FORMAT_VERSION, 0])


@dataclass(frozen=True, slots=True)
class KeyReference:
    """Which master key (provider scheme, key id, version) protects an object's DEK."""

    provider: str
    key_id: str
    version: int

    def __post_init__(self) -> None:
        if not _PROVIDER.fullmatch(self.provider):
            raise ValueError("provider scheme must match [a-z][a-z0-9-]{0,31}")
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError("key id has characters outside [A-Za-z0-9._:/#=+-] or bad length")
        if not 1 <= self.version <= 0xFFFFFFFF:
            raise ValueError("key version must be in 1..2**32-1")

    def __str__(self) -> str:
        return f"{self.provider}://{self.key_id}#v{self.version}"


@dataclass(frozen=True, slots=True)
class Header:
    """A parsed v1 header. ``subject_key_id`` is empty when the DEK is wrapped by the master
    key directly, or the 32-byte blind id of the subject key that wraps it."""

    key_ref: KeyReference
    subject_key_id: bytes
    wrapped_dek: bytes

    def __post_init__(self) -> None:
        if len(self.subject_key_id) not in (0, SUBJECT_KEY_ID_SIZE):
            raise ValueError("subject key id must be empty or 32 bytes")
        if not 1 <= len(self.wrapped_dek) <= MAX_WRAPPED_SIZE:
            raise ValueError("wrapped DEK must be 1..4096 bytes")

    def encode(self) -> bytes:
        return encode_header(self.key_ref, self.subject_key_id, self.wrapped_dek)

    @classmethod
    def parse(cls, data: bytes) -> Header:
        """Parse exactly one header; ``data`` must be the whole header (see header_length)."""
        try:
            total = header_length(data[:PREFIX_SIZE])
            if len(data) != total:
                raise OpenError
            pos = PREFIX_SIZE
            (plen,) = _U8.unpack_from(data, pos)
            pos += 1
            provider = data[pos : pos + plen].decode("ascii")
            pos += plen
            (klen,) = _U16.unpack_from(data, pos)
            pos += 2
            key_id = data[pos : pos + klen].decode("utf-8")
            pos += klen
            (version,) = _U32.unpack_from(data, pos)
            pos += 4
            (slen,) = _U8.unpack_from(data, pos)
            pos += 1
            subject_key_id = data[pos : pos + slen]
            pos += slen
            (wlen,) = _U16.unpack_from(data, pos)
            pos += 2
            wrapped = data[pos : pos + wlen]
            pos += wlen
            if pos != total or len(subject_key_id) != slen or len(wrapped) != wlen:
                raise OpenError
            header = cls(_key_reference(provider, key_id, version), subject_key_id, wrapped)
        except (struct.error, UnicodeDecodeError, ValueError) as exc:
            raise OpenError from exc
        if header.encode() != data:  # only one encoding is canonical
            raise OpenError
        return header

    def body_context(self, context: ObjectContext) -> bytes:
        """The C2SP *context* of the body: the header's immutable fields and the object context.

        Key version and wrapped DEK are left out on purpose: a rewrap under a newer master key
        version replaces them without re-encrypting the body. Editing them still fails to
        open: the wrapped DEK is authenticated under the version's key, and a wrong DEK fails
        the body's commitment.
        """
        return body_context(self.key_ref, self.subject_key_id, context)

    def wrap_aad(self, context: ObjectContext) -> bytes:
        """Associated data of the DEK wrap: key reference and the object context."""
        return wrap_aad(self.key_ref, self.subject_key_id, context)


def encode_header(key_ref: KeyReference, subject_key_id: bytes, wrapped_dek: bytes) -> bytes:
    """``Header(key_ref, subject_key_id, wrapped_dek).encode()`` without building the
    ``Header`` (sealing encodes one per object); the same checks on sizes."""
    if len(subject_key_id) not in (0, SUBJECT_KEY_ID_SIZE):
        raise ValueError("subject key id must be empty or 32 bytes")
    if not 1 <= len(wrapped_dek) <= MAX_WRAPPED_SIZE:
        raise ValueError("wrapped DEK must be 1..4096 bytes")
    ref = _encoded_key_ref(key_ref)
    total = PREFIX_SIZE + len(ref) + 3 + len(subject_key_id) + len(wrapped_dek)
    if total > MAX_HEADER_SIZE:
        raise ValueError("header too large")
    return b"".join(
        (
            MAGIC,
            _PREFIX_TAIL.pack(FORMAT_VERSION, 0, total),
            ref,
            _U8.pack(len(subject_key_id)),
            subject_key_id,
            _U16.pack(len(wrapped_dek)),
            wrapped_dek,
        )
    )


def body_context(key_ref: KeyReference, subject_key_id: bytes, context: ObjectContext) -> bytes:
    """``Header.body_context`` of a header with this key reference and subject key id."""
    prefix = _body_context_prefix(
        key_ref.provider, key_ref.key_id, subject_key_id, len(context.fields())
    )
    return prefix + context.encoded_tail()


def wrap_aad(key_ref: KeyReference, subject_key_id: bytes, context: ObjectContext) -> bytes:
    """Associated data of the DEK wrap.

    When the KMS wraps the DEK (no subject key), the key version is not in it: the KMS binds
    the version of the key that wraps, and a wrap must be made before its version is known.
    When a subject key wraps the DEK, the version is in it: a subject key has no versions,
    so nothing else would authenticate the header's version field (it could be edited and
    the object would still open).
    """
    fields = [key_ref.provider.encode(), key_ref.key_id.encode(), subject_key_id]
    if subject_key_id:
        fields.append(_U32.pack(key_ref.version))
    return encode_fields_tail(
        b"callvault/dek-wrap/v1", fields, context.encoded_tail(), len(context.fields())
    )


# Per object, a header is encoded (sealing; parsing re-encodes it) and a body context is
# built, but what a key reference contributes to either is constant per key: encoded once.
# Bounded, since parsing sees key references from untrusted headers (only valid ones are
# kept: a constructor that raises caches nothing).
_key_reference = functools.lru_cache(maxsize=1024)(KeyReference)


@functools.lru_cache(maxsize=1024)
def _encoded_key_ref(key_ref: KeyReference) -> bytes:
    """``u8(len(provider)) || provider || u16(len(key id)) || key id || u32(version)``."""
    provider, key_id = key_ref.provider.encode(), key_ref.key_id.encode()
    return b"".join(
        (
            _U8.pack(len(provider)),
            provider,
            _U16.pack(len(key_id)),
            key_id,
            _U32.pack(key_ref.version),
        )
    )


@functools.lru_cache(maxsize=1024)
def _body_context_prefix(provider: str, key_id: str, subject_key_id: bytes, tail_n: int) -> bytes:
    """All of ``Header.body_context`` but the object context's pre-encoded fields."""
    fields = [_BODY_MAGIC, provider.encode(), key_id.encode(), subject_key_id]
    return encode_fields_tail(b"callvault/body-context/v1", fields, b"", tail_n)


def header_length(prefix: bytes) -> int:
    """Validate the fixed 8-byte prefix and return the total header length it announces."""
    if len(prefix) != PREFIX_SIZE or prefix[:4] != MAGIC:
        raise OpenError
    version, flags, total = _PREFIX_TAIL.unpack_from(prefix, 4)
    if version != FORMAT_VERSION or flags != 0 or not PREFIX_SIZE < total <= MAX_HEADER_SIZE:
        raise OpenError
    return int(total)
