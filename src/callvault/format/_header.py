"""callvault's envelope header (format v1): magic, version, key reference, wrapped DEK.

The header is parsed strictly; anything unexpected is an ``OpenError``, because the header
comes from storage and storage is not trusted. Byte layout: docs/format.md.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass, field

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
    encoded: bytes = field(init=False, repr=False, compare=False)
    """Its part of a header: ``u8(len(provider)) || provider || u16(len(key id)) || key id
    || u32(version)``, encoded once per reference (references are memoised, headers are
    encoded per object)."""

    def __post_init__(self) -> None:
        if not _PROVIDER.fullmatch(self.provider):
            raise ValueError("provider scheme must match [a-z][a-z0-9-]{0,31}")
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError("key id has characters outside [A-Za-z0-9._:/#=+-] or bad length")
        if not 1 <= self.version <= 0xFFFFFFFF:
            raise ValueError("key version must be in 1..2**32-1")
        provider, key_id = self.provider.encode(), self.key_id.encode()
        encoded = b"".join(
            (
                _U8.pack(len(provider)),
                provider,
                _U16.pack(len(key_id)),
                key_id,
                _U32.pack(self.version),
            )
        )
        object.__setattr__(self, "encoded", encoded)

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
        """Parse exactly one header; ``data`` must be the whole header (see header_length).

        Only the canonical encoding parses (``parse(b).encode() == b`` for every ``b`` that
        parses; a property test holds it to that): every byte is either checked against
        the one value the format allows (the prefix by ``header_length``, the key
        reference part by re-encoding it once per distinct byte string, each length by the
        bytes it announces, nothing after the wrapped DEK) or is a field's value. So no
        second byte string opens as the same header, and no per-object re-encoding is
        needed to show it.

        Any bytes-like input gives a ``Header`` of ``bytes`` fields (hashable, immutable:
        key look-ups memoise on them)."""
        data = bytes(data)  # no copy when it is bytes already
        try:
            total = header_length(data[:PREFIX_SIZE])
            if len(data) != total:
                raise OpenError
            # The key reference part (provider, key id, version) repeats across every object
            # under one key: parsed once per distinct byte string (``_key_reference_at``).
            key_id_at = PREFIX_SIZE + 1 + data[PREFIX_SIZE]
            (klen,) = _U16.unpack_from(data, key_id_at)
            pos = key_id_at + 2 + klen + 4
            if pos > total:
                raise OpenError
            key_ref = _key_reference_at(data[PREFIX_SIZE:pos])
            slen = data[pos]
            pos += 1
            subject_key_id = data[pos : pos + slen]
            pos += slen
            (wlen,) = _U16.unpack_from(data, pos)
            pos += 2
            wrapped = data[pos : pos + wlen]
            pos += wlen
            if pos != total or len(subject_key_id) != slen or len(wrapped) != wlen:
                raise OpenError
            return cls(key_ref, subject_key_id, wrapped)  # sizes checked by the constructor
        except (IndexError, struct.error, UnicodeDecodeError, ValueError) as exc:
            raise OpenError from exc

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
    ref = key_ref.encoded
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


# Per object, a header is parsed or encoded and a body context built, but what a key
# reference contributes to either is constant per key: built once. Bounded, since parsing
# sees key references from untrusted headers (only valid ones are kept: a constructor that
# raises caches nothing).
@functools.lru_cache(maxsize=1024)
def _key_reference_at(encoded: bytes) -> KeyReference:
    """The ``KeyReference`` whose ``encoded`` is exactly these bytes, else ``ValueError``
    (or the decoding's error): a header's key reference part, parsed and validated."""
    plen = encoded[0]
    provider = encoded[1 : 1 + plen].decode("ascii")
    (klen,) = _U16.unpack_from(encoded, 1 + plen)
    key_id = encoded[3 + plen : 3 + plen + klen].decode("utf-8")
    (version,) = _U32.unpack_from(encoded, 3 + plen + klen)
    ref = KeyReference(provider, key_id, version)
    if ref.encoded != encoded:  # a short field, or trailing bytes: not this reference
        raise ValueError("malformed key reference")
    return ref


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
