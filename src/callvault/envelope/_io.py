"""Adapters from files, bytes and iterators to the exact reads the opener needs."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, Protocol

from callvault.errors import OpenError
from callvault.format import ReadAt

__all__ = ["BlockOutput", "IterReader", "read_at_for", "read_blocks", "read_exact"]


def read_exact(src: BinaryIO | IterReader, size: int) -> bytes:
    """Exactly ``size`` bytes, or OpenError (a short header is a malformed ciphertext)."""
    parts = []
    remaining = size
    while remaining:
        part = src.read(remaining)
        if not part:
            raise OpenError
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def read_blocks(src: BinaryIO, size: int) -> Iterator[bytes | memoryview]:
    """Blocks of at most ``size`` bytes until the source ends.

    The first two blocks come from ``read()``, sized by what there is, so an object of a
    block or two allocates no more than a bare read loop would. A source that has filled
    two whole blocks is a long stream: later blocks are read into one reused buffer, which
    is allocated (and page-faulted) once instead of once per block. A yielded view is valid
    until the next block is requested.
    """
    for _ in range(2):
        block = src.read(size)
        if not block:
            return
        yield block
        if len(block) < size:
            break
    readinto = getattr(src, "readinto", None)
    if len(block) < size or readinto is None:
        while block := src.read(size):
            yield block
        return
    view = memoryview(bytearray(size))
    while n := readinto(view):
        yield view[:n]


class _StreamCipher(Protocol):
    def update(self, data: bytes | bytearray | memoryview) -> bytes: ...

    def update_into(self, data: bytes | bytearray | memoryview, out: bytearray) -> int: ...


class BlockOutput:
    """Where a streamed cipher writes each block's output.

    The first block gets a fresh output of its own size, exactly as a bare one-shot call
    would, so an object that fits in one block costs one allocation. Later blocks share one
    buffer, grown only when a block needs more room (``bound(len(block))`` bytes): a long
    stream allocates (and page-faults) its output memory once, and a short tail block does
    not cost a full-size buffer. A returned view is valid until the next ``process`` call.
    """

    def __init__(self, bound: Callable[[int], int]) -> None:
        self._bound = bound
        self._buffer = bytearray()
        self._started = False

    def process(self, cipher: _StreamCipher, block: bytes | memoryview) -> bytes | memoryview:
        if not self._started:
            self._started = True
            return cipher.update(block)
        if len(self._buffer) < (need := self._bound(len(block))):
            self._buffer = bytearray(need)
        return memoryview(self._buffer)[: cipher.update_into(block, self._buffer)]


class IterReader:
    """A minimal ``read(n)`` over an iterable of byte strings."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it: Iterator[bytes] = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            try:
                piece = next(self._it)
            except StopIteration:
                break
            self._buffer += piece
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def rest(self) -> Iterator[bytes]:
        """What is left, piece by piece as the iterable produces it (buffered bytes first)."""
        if self._buffer:
            out, self._buffer = self._buffer, b""
            yield out
        yield from self._it


def read_at_for(src: BinaryIO | bytes | bytearray | memoryview) -> tuple[ReadAt, int]:
    """A positional reader over ``src`` and its total size."""
    if isinstance(src, bytes | bytearray | memoryview):
        view = memoryview(src)
        return (lambda offset, size: bytes(view[offset : offset + size])), len(view)
    try:
        fd = src.fileno()
    except (AttributeError, OSError):
        fd = -1
    if fd >= 0:
        size = os.fstat(fd).st_size
        return (lambda offset, n: os.pread(fd, n, offset)), size

    def _seek_read(offset: int, n: int) -> bytes:
        src.seek(offset)
        return src.read(n)

    end = src.seek(0, os.SEEK_END)
    return _seek_read, end
