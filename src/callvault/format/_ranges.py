"""Random access into a Cobblestone-256 body: decrypt a byte range by touching only the
chunks that cover it.

The commitment is checked once, when the reader is built (before any chunk is decrypted).
Each chunk is then authenticated on its own: its nonce encodes its index, so a chunk moved,
duplicated or taken from another message fails its tag. The total length inferred from the
body size is authenticated lazily, by decrypting the final chunk, only when a caller needs
it (``authenticated_length``, and any range that reaches the inferred end, so that reading
"the whole object" cannot return a truncated one); a range that stops before the inferred
end is correct whether or not later bytes were truncated, because every byte returned
passed the tag of its own chunk at its own index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from callvault.errors import InvalidRequest, OpenError
from callvault.format._cobblestone import (
    BODY_PREFIX_SIZE,
    CHUNK_SIZE,
    BodyLayout,
    DerivedKeys,
    derive,
)

__all__ = ["RangeReader", "ReadAt"]

ReadAt = Callable[[int, int], bytes]
"""``read_at(offset, size)``: exactly ``size`` bytes at ``offset`` of the underlying blob."""


class RangeReader:
    """Reads plaintext ranges of one body stored at ``body_offset`` in a blob."""

    __slots__ = ("_body_offset", "_keys", "_layout", "_length_checked", "_read_at")

    def __init__(
        self,
        read_at: ReadAt,
        body_offset: int,
        body_length: int,
        input_key: bytes,
        context: bytes,
    ) -> None:
        self._read_at = read_at
        self._body_offset = body_offset
        self._layout = BodyLayout(body_length)
        self._keys: DerivedKeys = derive(input_key, self._read(0, BODY_PREFIX_SIZE), context)
        self._length_checked = False

    @property
    def length(self) -> int:
        """Plaintext length inferred from the stored size (authenticate it before trusting
        it for anything but bounds; see ``authenticated_length``)."""
        return self._layout.plaintext_length

    def authenticated_length(self) -> int:
        """The plaintext length, proven by decrypting the final chunk at its index."""
        if not self._length_checked:
            self._chunk(self._layout.chunk_count - 1)
            self._length_checked = True
        return self._layout.plaintext_length

    def read(self, start: int, end: int) -> bytes:
        """Plaintext bytes ``start..end`` inclusive (HTTP Range semantics)."""
        return b"".join(self.iter_range(start, end))

    def iter_range(self, start: int, end: int) -> Iterator[bytes]:
        """Yield the plaintext of ``start..end`` inclusive, one chunk's worth at a time."""
        if not 0 <= start <= end < self.length:
            raise InvalidRequest(f"range {start}-{end} is outside 0-{self.length - 1}")
        first, last = start // CHUNK_SIZE, end // CHUNK_SIZE
        if end == self.length - 1 and last < self._layout.chunk_count - 1:
            # The range ends where the message seems to end, but the final chunk (empty: the
            # length is a multiple of the chunk size) is not among those read. Authenticate
            # it first, or a body cut after a full chunk would read as a complete message.
            self.authenticated_length()
        for index in range(first, last + 1):
            plaintext = self._chunk(index)
            lo = start - index * CHUNK_SIZE if index == first else 0
            hi = end - index * CHUNK_SIZE + 1 if index == last else CHUNK_SIZE
            yield plaintext[lo:hi]

    def _chunk(self, index: int) -> bytes:
        offset, size = self._layout.chunk_span(index)
        plaintext = self._keys.decrypt_chunk(index, self._read(offset, size))
        if index == self._layout.chunk_count - 1:
            self._length_checked = True
        return plaintext

    def _read(self, offset: int, size: int) -> bytes:
        data = self._read_at(self._body_offset + offset, size)
        if len(data) != size:
            raise OpenError
        return data
