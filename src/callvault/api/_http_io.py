"""The two HTTP-side helpers recordings need: a bridge from the async request body to the
synchronous seal pipeline, and the parser of ``Range`` headers.

**Body bridge.** Sealing and the object stores are synchronous (they do file and KMS I/O),
so a PUT runs them in a worker thread. That thread pulls the body one ASGI message at a
time from the event loop (``anyio.from_thread.run``), so at most one received piece is held
in memory, and a slow store slows the client down (backpressure) instead of the body piling
up in RAM.

**Range.** One ``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` range (RFC 9110 §14.1.2). A
malformed, multi-range or unsatisfiable header is answered 416 (with
``Content-Range: bytes */N``) rather than silently ignored: a client asking for part of a
recording must never mistake the whole for its part.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import anyio.from_thread

from callvault.api._errors import RangeNotSatisfiable

__all__ = ["body_pieces", "parse_range"]

_RANGE = re.compile(r"bytes=([0-9]{0,19})-([0-9]{0,19})")


def body_pieces(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """Iterate ``request.stream()`` from a worker thread (see the module docstring)."""

    async def next_piece() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (piece := anyio.from_thread.run(next_piece)) is not None:
        if piece:
            yield piece


def parse_range(header: str | None, length: int) -> tuple[int, int] | None:
    """The inclusive ``(start, end)`` asked for, ``None`` without a header, else 416."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", ""):
        raise RangeNotSatisfiable(length)
    first, last = match.groups()
    if not first:  # suffix: the last n bytes
        count = int(last)
        if count == 0 or length == 0:
            raise RangeNotSatisfiable(length)
        return max(0, length - count), length - 1
    start = int(first)
    end = int(last) if last else length - 1
    if start >= length or end < start:
        raise RangeNotSatisfiable(length)
    return start, min(end, length - 1)
