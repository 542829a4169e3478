"""``ObjectReader``: a read-only, seekable file over a stored object, built on ``read_at``.

Random access is what range reads need: ``RangeReader`` asks for the header, the body
prefix and the chunks that cover a range, each as ``read_at(offset, size)``. A backend
supplies only ``_fetch`` (a positional read: ``os.pread`` on a file, a ranged GET on S3);
this class adds the file protocol (``read``, ``seek``, ``tell``) so the handle also works
anywhere a binary file does, e.g. ``Vault.range_reader(ctx, store.open_reader(key))``.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO

from callvault.errors import InvalidRequest

__all__ = ["ObjectReader"]


class ObjectReader(io.RawIOBase, BinaryIO):
    """One stored object, ``size`` bytes, readable at any offset. Not thread-safe for
    ``read``/``seek`` (one position); ``read_at`` keeps no state of its own."""

    def __init__(self, key: str, size: int) -> None:
        super().__init__()
        self.key = key
        self.size = size
        self._position = 0

    def _fetch(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes at ``offset`` (the caller has clamped to the object)."""
        raise NotImplementedError

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset``: exactly ``size`` unless the object ends."""
        self._check_open()
        if offset < 0 or size < 0:
            raise InvalidRequest("offset and size must not be negative")
        size = max(0, min(size, self.size - offset))
        return self._fetch(offset, size) if size else b""

    # -- the file protocol ------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self._position
        data = self.read_at(self._position, size)
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._check_open()
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self.size}.get(whence)
        if base is None:
            raise ValueError(f"invalid whence {whence}")
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        self._check_open()
        return self._position

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed object reader")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key!r} size={self.size}>"
