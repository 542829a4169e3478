"""The bench-only baseline: a ``Vault`` whose cryptography is the identity function.

The API benchmark compares the real service with *the same service minus encryption*. To
make "the same" exact, nothing in ``src/`` changes: this subclass is plugged into
``ApiServices`` in place of the real vault, so TLS, JWT checks, the HTTP streaming bridge,
the object store (temp file + fsync + rename), the records store and every route are the
production code, and only what ``Vault`` does to the bytes differs:

* ``seal``/``open`` return their input; ``seal_iter``/``open_iter`` pass the pieces
  through unchanged (same piece sizes reach the object store as in the real pipeline);
* ``range_reader`` returns ``PlainRangeReader``, which reads the stored object in
  ``CHUNK_SIZE`` pieces at their offsets, as the real ``RangeReader`` does per encrypted
  chunk, minus key unwrap, key derivation and AES-GCM.

What it deliberately keeps: tenant lookups and ``keys.subject_key_id`` (the caller's blind
index, which transcript search needs whether or not the document is encrypted). What it
drops is therefore exactly the per-object envelope (fresh DEK, KMS wrap/unwrap, header,
commitment) and the body cipher: the cost the benchmark must attribute to encryption.

It stores plaintext on disk by design; it lives under ``bench/`` and is never importable
from ``callvault``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from callvault import Vault
from callvault.envelope import Progress
from callvault.errors import InvalidRequest
from callvault.format import CHUNK_SIZE, ObjectContext, RangeReader

__all__ = ["PlainRangeReader", "PlaintextVault"]

Source = BinaryIO | bytes | bytearray | memoryview


class PlaintextVault(Vault):
    """``Vault`` with seal/open as the identity (bench baseline only: stores plaintext)."""

    @classmethod
    def over(cls, vault: Vault) -> PlaintextVault:
        """The same home, settings and KMS provider as ``vault`` (keys still work)."""
        return cls(vault.home, vault.settings, vault.provider)

    def seal(self, context: ObjectContext, plaintext: bytes) -> bytes:
        return bytes(plaintext)

    def open(self, context: ObjectContext, sealed: bytes) -> bytes:
        return bytes(sealed)

    def seal_iter(self, context: ObjectContext, chunks: Iterable[bytes]) -> Iterator[bytes]:
        yield from chunks

    def open_iter(self, context: ObjectContext, chunks: Iterable[bytes]) -> Iterator[bytes]:
        yield from chunks

    def seal_stream(
        self, context: ObjectContext, src: BinaryIO, dst: BinaryIO, progress: Progress | None = None
    ) -> int:
        return _copy(src, dst)

    def open_stream(
        self, context: ObjectContext, src: BinaryIO, dst: BinaryIO, progress: Progress | None = None
    ) -> int:
        return _copy(src, dst)

    def range_reader(self, context: ObjectContext, src: Source) -> RangeReader:
        return PlainRangeReader(src)


def _copy(src: BinaryIO, dst: BinaryIO) -> int:
    start = dst.tell() if dst.seekable() else 0
    shutil.copyfileobj(src, dst)
    return dst.tell() - start if dst.seekable() else 0


class PlainRangeReader(RangeReader):
    """``RangeReader``'s interface over a plaintext blob (no parent state: every public
    method is overridden, so the parent's key material is never needed)."""

    _plain_read: Callable[[int, int], bytes]
    _plain_size: int

    def __init__(self, src: Source) -> None:  # the parent's __init__ would derive keys
        if isinstance(src, bytes | bytearray | memoryview):
            view = memoryview(src)
            self._plain_size = len(view)
            self._plain_read = lambda offset, size: bytes(view[offset : offset + size])
        elif hasattr(src, "read_at") and hasattr(src, "size"):  # ObjectReader
            self._plain_size = int(src.size)
            self._plain_read = src.read_at
        else:
            self._plain_size = src.seek(0, 2)

            def seek_read(offset: int, size: int) -> bytes:
                src.seek(offset)
                return src.read(size)

            self._plain_read = seek_read

    @property
    def length(self) -> int:
        return self._plain_size

    def authenticated_length(self) -> int:
        return self._plain_size

    def read(self, start: int, end: int) -> bytes:
        return b"".join(self.iter_range(start, end))

    def iter_range(self, start: int, end: int) -> Iterator[bytes]:
        """``start..end`` inclusive, read in ``CHUNK_SIZE`` pieces as the real reader does."""
        if not 0 <= start <= end < self._plain_size:
            raise InvalidRequest(f"range {start}-{end} is outside 0-{self._plain_size - 1}")
        position = start
        while position <= end:
            size = min(CHUNK_SIZE - position % CHUNK_SIZE, end + 1 - position)
            yield self._plain_read(position, size)
            position += size
