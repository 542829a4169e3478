"""Opening: parse the header, recover the DEK, decrypt the body (whole, streamed or a range).

Every failure that concerns the ciphertext is the one ``OpenError``; key destruction,
unavailability and environment mismatch keep their own errors (they are facts about keys,
not oracles about the ciphertext). A header whose key id names no environment at all is
just an unknown key: an ``OpenError`` like any other bad header, not an
``EnvironmentMismatch``. Streaming releases a chunk's plaintext only after its tag
verified; a streamed open that fails has released at most the authenticated prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

from callvault._ids import Environment
from callvault.envelope._io import IterReader, read_at_for, read_exact
from callvault.envelope._pump import pump
from callvault.envelope._seal import Progress
from callvault.errors import OpenError
from callvault.format import (
    ENCRYPTED_CHUNK_SIZE,
    IO_BLOCK,
    MAX_HEADER_SIZE,
    PREFIX_SIZE,
    BodyDecryptor,
    Header,
    ObjectContext,
    RangeReader,
    header_length,
)
from callvault.keys import KeyHierarchy, KeyMaterial
from callvault.keys.providers import check_key_environment

__all__ = ["open_bytes", "open_iter", "open_stream", "range_reader"]

_READ_BLOCK = (IO_BLOCK // 16384) * ENCRYPTED_CHUNK_SIZE


def _read_header(src: BinaryIO | IterReader) -> Header:
    prefix = read_exact(src, PREFIX_SIZE)
    return Header.parse(prefix + read_exact(src, header_length(prefix) - PREFIX_SIZE))


def _read_header_and_block(src: BinaryIO) -> tuple[Header, memoryview]:
    """The header and the body bytes that came with it in the same (bounded) read.

    One read of up to a header and a block: an in-memory stream at its start returns its
    whole content without a copy when that covers it, and a file costs one read, not three.
    A short read (a pipe) is topped up to the whole header.
    """
    data = src.read(MAX_HEADER_SIZE + _READ_BLOCK)
    if len(data) < PREFIX_SIZE:  # (a read may give any bytes-like object: join as bytes)
        data = bytes(data) + read_exact(src, PREFIX_SIZE - len(data))
    size = header_length(data[:PREFIX_SIZE])
    if len(data) < size:
        data = bytes(data) + read_exact(src, size - len(data))
    return Header.parse(data[:size]), memoryview(data)[size:]


def _data_key(hierarchy: KeyHierarchy, header: Header, context: ObjectContext) -> KeyMaterial:
    """The DEK. The header's key id is checked first, the same way whichever key wraps the
    DEK: one of no environment is an unknown key (``OpenError``), one of another environment
    is the explicit ``EnvironmentMismatch``."""
    key_id = header.key_ref.key_id
    if not key_id.startswith(hierarchy.scope_prefix):  # (this environment's: the usual case)
        scope = key_id.split("/", 1)[0]
        if scope not in _ENVIRONMENTS:
            raise OpenError
        if scope != hierarchy.environment.value:
            check_key_environment(key_id, hierarchy.environment)  # the explicit mismatch
    return hierarchy.data_key(header, context)


_ENVIRONMENTS = frozenset(environment.value for environment in Environment)


def _names_an_environment(key_id: str) -> bool:
    return key_id.split("/", 1)[0] in _ENVIRONMENTS


def _decryptor(hierarchy: KeyHierarchy, header: Header, context: ObjectContext) -> BodyDecryptor:
    dek = _data_key(hierarchy, header, context)
    return BodyDecryptor(dek.secret_bytes(), header.body_context(context))


def open_bytes(hierarchy: KeyHierarchy, context: ObjectContext, sealed: bytes) -> bytes:
    if len(sealed) < PREFIX_SIZE:
        raise OpenError
    size = header_length(sealed[:PREFIX_SIZE])
    header = Header.parse(sealed[:size])
    decryptor = _decryptor(hierarchy, header, context)
    return decryptor.update(memoryview(sealed)[size:]) + decryptor.finalize()


def open_stream(
    hierarchy: KeyHierarchy,
    context: ObjectContext,
    src: BinaryIO,
    dst: BinaryIO,
    progress: Progress | None = None,
) -> int:
    """Open ``src`` into ``dst``; returns the plaintext size.

    Plaintext reaches ``dst`` chunk by authenticated chunk (the decryptor holds back each
    chunk until its tag verified). ``dst.write`` must consume what it is given before
    returning (files and ``BytesIO`` do): the view it gets is released, and its buffer
    reused, right after.
    """
    header, first = _read_header_and_block(src)
    decryptor = _decryptor(hierarchy, header, context)
    with first:
        _, written = pump(decryptor, first, src, dst, _READ_BLOCK, progress)
    tail = decryptor.finalize()
    dst.write(tail)
    return written + len(tail)


def open_iter(
    hierarchy: KeyHierarchy, context: ObjectContext, chunks: Iterable[bytes]
) -> Iterator[bytes]:
    """Open an iterable of ciphertext pieces, yielding authenticated plaintext pieces.

    Each piece is decrypted as it arrives (large ones in 1 MiB blocks), so plaintext is
    yielded as soon as its chunk authenticates rather than after a block has accumulated.
    """
    reader = IterReader(chunks)
    decryptor = _decryptor(hierarchy, _read_header(reader), context)
    for piece in reader.rest():
        view = memoryview(piece)
        for start in range(0, len(view), _READ_BLOCK):
            out = decryptor.update(view[start : start + _READ_BLOCK])
            if out:
                yield out
    yield decryptor.finalize()


def range_reader(
    hierarchy: KeyHierarchy,
    context: ObjectContext,
    src: BinaryIO | bytes | bytearray | memoryview,
) -> RangeReader:
    """A reader of plaintext ranges that decrypts only the chunks each range covers."""
    read_at, size = read_at_for(src)
    prefix = read_at(0, PREFIX_SIZE)
    if len(prefix) != PREFIX_SIZE:
        raise OpenError
    header_size = header_length(prefix)
    header_bytes = read_at(0, header_size)
    if len(header_bytes) != header_size:
        raise OpenError
    header = Header.parse(header_bytes)
    dek = _data_key(hierarchy, header, context)
    return RangeReader(
        read_at, header_size, size - header_size, dek.secret_bytes(), header.body_context(context)
    )
