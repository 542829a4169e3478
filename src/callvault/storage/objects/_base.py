"""The ``ObjectStore`` interface every backend implements, and its result types.

An object store keeps *sealed* bytes only: callvault seals before it stores and opens after
it reads, so a store never sees plaintext or keys, and a backend needs no cryptography of
its own. What a store does promise is atomicity (a key names either the previous complete
object or the new complete one, never a torn or partial one), constant-memory streaming,
and cheap random access for range reads (``open_reader``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol, runtime_checkable

from callvault.storage.objects._reader import ObjectReader

__all__ = ["STREAM_BLOCK", "ObjectInfo", "ObjectStat", "ObjectStore", "Source", "iter_source"]

STREAM_BLOCK = 1024 * 1024
"""Block size for reading a file-like source and for ``get_stream`` pieces."""

Source = Iterable[bytes] | BinaryIO
"""What ``put_stream`` accepts: an iterable of byte strings or a readable binary file."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a completed ``put_stream`` stored: the digest lets a record row pin the exact
    bytes (the sealed object), so a swapped or stale object is detectable above the store."""

    key: str
    size: int
    sha256: str
    created: datetime


@dataclass(frozen=True, slots=True)
class ObjectStat:
    """Metadata of a stored object (no digest: computing one would mean reading it all)."""

    key: str
    size: int
    created: datetime


@runtime_checkable
class ObjectStore(Protocol):
    """Sealed objects under ``tenant/class/object-id`` keys (see ``object_key``)."""

    def put_stream(self, key: str, chunks: Source) -> ObjectInfo:
        """Store the bytes of ``chunks`` under ``key`` atomically, in constant memory.
        The last complete write wins; a failed write leaves the previous version."""
        ...

    def open_reader(self, key: str) -> ObjectReader:
        """A seekable read-only handle (``read_at``/``size``, or ``read``/``seek``), usable
        directly by ``Vault.range_reader``. Close it (or use ``with``) when done."""
        ...

    def get_stream(self, key: str) -> Iterator[bytes]:
        """The object's bytes, piece by piece. ``ObjectNotFound`` is raised by this call,
        not by the first ``next``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; ``ObjectNotFound`` if there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def stat(self, key: str) -> ObjectStat: ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under a whole-segment prefix (``""``, ``"tenant"``, ``"tenant/class"``),
        in sorted order."""
        ...


def iter_source(chunks: Source) -> Iterator[bytes]:
    """The pieces of a source: an iterable as it comes, a file in ``STREAM_BLOCK`` reads."""
    if isinstance(chunks, bytes | bytearray | memoryview):
        # A bare bytes object is an iterable of ints: a classic mistake, refused loudly.
        raise TypeError("put_stream takes an iterable of bytes or a binary file, not bytes")
    read = getattr(chunks, "read", None)
    if callable(read):
        while block := read(STREAM_BLOCK):
            yield bytes(block)
        return
    for piece in chunks:
        if not isinstance(piece, bytes | bytearray | memoryview):
            raise TypeError("put_stream chunks must be bytes")
        if piece:
            yield bytes(piece)
