"""Sealing: fresh DEK from the hierarchy, header, then the Cobblestone-256 body.

Streaming runs in constant memory: it reads whole 16 KiB chunks in 1 MiB blocks and
encrypts into one reused output buffer, so memory does not grow with the object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from callvault.format import IO_BLOCK, BodyEncryptor, ObjectContext
from callvault.keys import KeyHierarchy

__all__ = ["Progress", "seal_bytes", "seal_iter", "seal_stream"]

Progress = Callable[[int], None]
"""Called with the number of plaintext bytes just processed (for progress bars)."""


def _start(hierarchy: KeyHierarchy, context: ObjectContext) -> tuple[bytes, BodyEncryptor]:
    dek, header = hierarchy.new_data_key(context)
    return header.encode(), BodyEncryptor(dek.secret_bytes(), header.body_context(context))


def seal_bytes(hierarchy: KeyHierarchy, context: ObjectContext, plaintext: bytes) -> bytes:
    header, encryptor = _start(hierarchy, context)
    return header + encryptor.update(plaintext) + encryptor.finalize()


def seal_stream(
    hierarchy: KeyHierarchy,
    context: ObjectContext,
    src: BinaryIO,
    dst: BinaryIO,
    progress: Progress | None = None,
) -> int:
    """Seal everything readable from ``src`` into ``dst``; returns the plaintext size."""
    header, encryptor = _start(hierarchy, context)
    dst.write(header)
    inbuf = bytearray(IO_BLOCK)
    inview = memoryview(inbuf)
    outbuf = bytearray(BodyEncryptor.output_bound(IO_BLOCK))
    outview = memoryview(outbuf)
    total = 0
    while True:
        n = _fill(src, inview)
        if n == 0:
            break
        written = encryptor.update_into(inview[:n], outbuf)
        dst.write(outview[:written])
        total += n
        if progress is not None:
            progress(n)
        if n < IO_BLOCK:
            break
    dst.write(encryptor.finalize())
    return total


def seal_iter(
    hierarchy: KeyHierarchy, context: ObjectContext, chunks: Iterable[bytes]
) -> Iterator[bytes]:
    """Seal an iterable of plaintext pieces, yielding ciphertext pieces as they are ready."""
    header, encryptor = _start(hierarchy, context)
    yield header
    for piece in chunks:
        out = encryptor.update(piece)
        if out:
            yield out
    yield encryptor.finalize()


def _fill(src: BinaryIO, view: memoryview) -> int:
    """Read until ``view`` is full or the source ends (pipes return short reads)."""
    filled = 0
    readinto = getattr(src, "readinto", None)
    while filled < len(view):
        if readinto is not None:
            n = readinto(view[filled:])
        else:
            data = src.read(len(view) - filled)
            n = len(data)
            view[filled : filled + n] = data
        if not n:
            break
        filled += n
    return filled
