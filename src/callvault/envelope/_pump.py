"""The block pump of ``seal_stream`` and ``open_stream``: source → cipher → destination.

Where a stream's time goes besides the cipher itself is memory: every fresh output of a
megabyte is page-faulted in again (glibc hands large blocks back to the kernel), and every
copy of a block costs a third of what encrypting it does. So the pump

* takes the first block from ``read()``, which an in-memory stream at its start can return
  without any copy (``io.BytesIO`` does when one read covers its whole content);
* reads every later block with ``readinto`` into one input buffer;
* has the cipher write into one output buffer (``update_into``), never a fresh ``bytes``;
* takes both buffers from a small pool, so a server sealing object after object keeps
  reusing warm memory instead of faulting in two new megabytes per object.

Memory stays bounded: one block of input and one block's output per stream in flight, and
at most ``_POOL_KEEP`` idle buffers kept for the whole process. Each view handed to
``dst.write`` is released as soon as the call returns: a destination that kept a view
instead of consuming it finds it released (an error), never silently overwritten by the
next block or the next object. The buffers hold the last stream's data until reused, as
freed heap memory would; nothing outside the pump ever sees them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import BinaryIO, Protocol

__all__ = ["SCRATCH_SIZE", "BufferPool", "Cipher", "pump"]

SCRATCH_SIZE = 1_090_000
"""Large enough for a 1 MiB block of input (plaintext or ciphertext) and for the output of
one cipher update of it (the ``output_bound`` of either direction, prefix included)."""

_POOL_KEEP = 4

SLICES = 4
"""A block goes through the cipher in this many pieces (a quarter of 1 MiB: 16 chunks).
Reads stay 1 MiB (an in-memory source's whole content still comes without a copy), but
the cipher's output then cycles through the first quarter of the output buffer: a megabyte
of ciphertext written to one place instead of across a fresh megabyte keeps more of the
CPU's cache, and the per-object work that follows runs warmer (see bench/README.md)."""


class Cipher(Protocol):
    def update_into(self, data: bytes | bytearray | memoryview, out: bytearray) -> int: ...


class BufferPool:
    """Idle scratch buffers of ``SCRATCH_SIZE`` bytes, at most ``keep`` of them.

    ``take`` never blocks: with the pool empty (several streams at once, or a nested one)
    it allocates, and ``give`` drops what does not fit. No lock (two pairs of lock calls
    per object sealed or opened were a measurable part of the pump's bookkeeping):
    ``list.pop`` and ``list.append`` are atomic, and a ``give`` that finds the pool over
    ``keep`` (threads racing past the check) drops a buffer again before returning.
    """

    def __init__(self, keep: int = _POOL_KEEP) -> None:
        self._keep = keep
        self._idle: list[bytearray] = []

    def take(self) -> bytearray:
        try:
            return self._idle.pop()
        except IndexError:
            return bytearray(SCRATCH_SIZE)

    def give(self, buffer: bytearray) -> None:
        idle = self._idle
        if len(buffer) != SCRATCH_SIZE or len(idle) >= self._keep:
            return
        idle.append(buffer)
        if len(idle) > self._keep:
            with contextlib.suppress(IndexError):
                idle.pop()

    def __len__(self) -> int:
        return len(self._idle)


POOL = BufferPool()


def _write(dst: BinaryIO, buffer: bytearray, n: int) -> None:
    """Write ``buffer[:n]``; the view is released once ``write`` has returned."""
    with memoryview(buffer) as whole, whole[:n] as view:
        dst.write(view)


def pump(
    cipher: Cipher,
    first: bytes | memoryview,
    src: BinaryIO,
    dst: BinaryIO,
    block_size: int,
    progress: Callable[[int], None] | None,
) -> tuple[int, int]:
    """Run ``first`` and then every block of at most ``block_size`` bytes left in ``src``
    through ``cipher`` into ``dst``; returns the bytes read and written.

    ``first`` is what the caller already read (it may be empty). The source ends at the
    first empty read (a short read is not the end: pipes and sockets return them). The
    cipher's ``finalize`` is the caller's: it follows the last block.
    """
    if block_size > SCRATCH_SIZE:  # pragma: no cover - the callers' blocks are 1 MiB
        raise ValueError("block larger than the scratch buffers")
    readinto = getattr(src, "readinto", None)
    out = POOL.take()
    inbuf = POOL.take() if readinto is not None else None
    ok = False
    counts = [0, 0]
    piece = max(1, block_size // SLICES)
    try:
        _feed(cipher, first, dst, out, progress, counts, piece)
        while True:
            if inbuf is None or readinto is None:
                block = src.read(block_size)
                if not block:
                    break
                _feed(cipher, block, dst, out, progress, counts, piece)
                continue
            with memoryview(inbuf) as whole, whole[:block_size] as window:
                n = readinto(window)
                if not n:  # 0 at the end (None, "no data yet", only from non-blocking raw I/O)
                    break
                with window[:n] as block_view:
                    _feed(cipher, block_view, dst, out, progress, counts, piece)
        ok = True
        return counts[0], counts[1]
    finally:
        if ok:  # a failed stream gives nothing back: a view of it may still be in flight
            POOL.give(out)
            if inbuf is not None:
                POOL.give(inbuf)


def _feed(
    cipher: Cipher,
    block: bytes | memoryview,
    dst: BinaryIO,
    out: bytearray,
    progress: Callable[[int], None] | None,
    counts: list[int],
    piece: int,
) -> None:
    """One block through the cipher into ``dst``, ``piece`` bytes per cipher call (the
    last call up to an eighth more, rather than one more call for a few bytes);
    ``counts`` += (bytes in, bytes out)."""
    size = len(block)
    if not size:
        return
    if size <= piece:
        n = cipher.update_into(block, out)
        if n:
            _write(dst, out, n)
        counts[1] += n
    else:
        with memoryview(block) as view:
            start = 0
            while start < size:
                end = start + piece
                if size - end < piece // 8:  # a short rest (an open's first block carries
                    end = size  # the body's 56-byte prefix) rides with this piece
                with view[start:end] as part:
                    n = cipher.update_into(part, out)
                if n:
                    _write(dst, out, n)
                counts[1] += n
                start = end
    counts[0] += size
    if progress is not None:
        progress(size)
