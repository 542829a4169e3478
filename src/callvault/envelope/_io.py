"""Adapters from files, bytes and iterators to the exact reads the opener needs."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from callvault.errors import OpenError
from callvault.format import ReadAt

__all__ = ["IterReader", "read_at_for", "read_exact"]


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
