"""The sealed-object format, v1: callvault's header before a Cobblestone-256 body.

Pure: no I/O beyond the callables handed in, no key management. Specified in docs/format.md.
"""

from callvault.format._cobblestone import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, BodyLayout
from callvault.format._context import ObjectContext
from callvault.format._header import (
    FORMAT_VERSION,
    MAGIC,
    MAX_HEADER_SIZE,
    PREFIX_SIZE,
    Header,
    KeyReference,
    body_context,
    encode_header,
    header_length,
    wrap_aad,
)
from callvault.format._ranges import RangeReader, ReadAt
from callvault.format._stream import IO_BLOCK, BodyDecryptor, BodyEncryptor

__all__ = [
    "CHUNK_SIZE",
    "ENCRYPTED_CHUNK_SIZE",
    "FORMAT_VERSION",
    "IO_BLOCK",
    "MAGIC",
    "MAX_HEADER_SIZE",
    "PREFIX_SIZE",
    "BodyDecryptor",
    "BodyEncryptor",
    "BodyLayout",
    "Header",
    "KeyReference",
    "ObjectContext",
    "RangeReader",
    "ReadAt",
    "body_context",
    "encode_header",
    "header_length",
    "wrap_aad",
]
