"""Random access touches only the chunks that cover the range.

Readers are built over a counting ``read_at``, so each test sees exactly which byte spans of
the stored object were read: at construction only the 56-byte body prefix (the header too,
through ``Vault.range_reader``); for a range, the encrypted chunks that cover it (plus the
final chunk when the range reaches the end, which proves the object is not truncated).
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from callvault import DataClass, InvalidRequest, ObjectContext, OpenError, Vault
from callvault.format import Header, RangeReader, header_length

CHUNK = 16384
ENCRYPTED = CHUNK + 16
PREFIX = 56
MIB = 1 << 20
KIB = 1 << 10
PERIOD = MIB + 7  # the plaintext pattern repeats, but never at a chunk-aligned distance
PATTERN = random.Random(20261128).randbytes(PERIOD)


def pattern(start: int, end: int) -> bytes:
    """Bytes ``start..end`` (inclusive) of the endless plaintext pattern."""
    out = bytearray()
    pos = start
    while pos <= end:
        offset = pos % PERIOD
        take = min(PERIOD - offset, end + 1 - pos)
        out += PATTERN[offset : offset + take]
        pos += take
    return bytes(out)


class PatternSource(io.RawIOBase):
    """``size`` bytes of the pattern, produced as read: no need to hold the plaintext."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._size - self._pos)
        if n:
            buffer[:n] = pattern(self._pos, self._pos + n - 1)
        self._pos += n
        return n

    @classmethod
    def of(cls, size: int) -> BinaryIO:
        return cast(BinaryIO, cls(size))


@dataclass
class Stored:
    """A sealed object, and what a reader needs to open it at the format level."""

    vault: Vault
    ctx: ObjectContext
    size: int
    blob: bytes
    hlen: int = field(init=False)

    def __post_init__(self) -> None:
        self.hlen = header_length(self.blob[:8])

    @property
    def header(self) -> Header:
        return Header.parse(self.blob[: self.hlen])

    @property
    def dek(self) -> bytes:
        return self.vault.keys.data_key(self.header, self.ctx).secret_bytes()

    @property
    def body_context(self) -> bytes:
        return self.header.body_context(self.ctx)

    def counting_reader(
        self, blob: bytes | None = None
    ) -> tuple[RangeReader, list[tuple[int, int]]]:
        data = memoryview(self.blob if blob is None else blob)
        calls: list[tuple[int, int]] = []

        def read_at(offset: int, size: int) -> bytes:
            calls.append((offset, size))
            return bytes(data[offset : offset + size])

        reader = RangeReader(read_at, self.hlen, len(data) - self.hlen, self.dek, self.body_context)
        return reader, calls

    def span(self, index: int) -> tuple[int, int]:
        """(offset in the blob, encrypted size) of chunk ``index``, from the spec's layout."""
        full = self.size // CHUNK
        size = ENCRYPTED if index < full else self.size % CHUNK + 16
        return self.hlen + PREFIX + index * ENCRYPTED, size


def _seal_pattern(vault: Vault, size: int, dst: BinaryIO) -> ObjectContext:
    ctx = vault.context("acme", DataClass.RECORDING, f"big-{size}", subject="+15551234567")
    assert vault.seal_stream(ctx, PatternSource.of(size), dst) == size
    return ctx


@pytest.fixture(scope="module", params=[8 * MIB, 8 * MIB + 1234], ids=["8MiB", "8MiB+1234"])
def stored(request: pytest.FixtureRequest, module_vault: Vault) -> Stored:
    dst = io.BytesIO()
    ctx = _seal_pattern(module_vault, request.param, dst)
    return Stored(module_vault, ctx, request.param, dst.getvalue())


def _ranges(size: int) -> dict[str, tuple[int, int]]:
    return {
        "first KiB": (0, KIB - 1),
        "inside one chunk": (5 * CHUNK + 100, 5 * CHUNK + 100 + KIB - 1),
        "across a chunk boundary": (7 * CHUNK - 512, 7 * CHUNK + 511),
        "middle": (size // 2 - 300, size // 2 - 300 + KIB - 1),
        "one byte": (size // 3, size // 3),
        "last KiB": (size - KIB, size - 1),
        "last byte": (size - 1, size - 1),
    }


def _expected_chunks(stored: Stored, start: int, end: int) -> list[tuple[int, int]]:
    indexes = set(range(start // CHUNK, end // CHUNK + 1))
    if end == stored.size - 1:
        indexes.add(stored.size // CHUNK)  # the final chunk, possibly empty
    return sorted(stored.span(i) for i in indexes)


# -- what each read touches ------------------------------------------------------------------


def test_construction_reads_only_the_body_prefix(stored: Stored) -> None:
    reader, calls = stored.counting_reader()
    assert calls == [(stored.hlen, PREFIX)]
    assert reader.length == stored.size


@pytest.mark.parametrize("name", list(_ranges(0)))
def test_a_range_reads_only_its_covering_chunks(stored: Stored, name: str) -> None:
    start, end = _ranges(stored.size)[name]
    reader, calls = stored.counting_reader()
    del calls[:]
    assert reader.read(start, end) == pattern(start, end)
    assert sorted(calls) == _expected_chunks(stored, start, end)
    assert len(calls) == len(set(calls))  # no chunk read twice
    assert sum(size for _, size in calls) <= 2 * ENCRYPTED


def test_vault_range_reader_reads_header_prefix_and_covering_chunks(stored: Stored) -> None:
    class Counting(io.BytesIO):  # a file-like without a descriptor: read via seek + read
        read_bytes = 0

        def read(self, size: int | None = -1) -> bytes:
            out = super().read(size)
            self.read_bytes += len(out)
            return out

    src = Counting(stored.blob)
    reader = stored.vault.range_reader(stored.ctx, src)
    assert src.read_bytes == 8 + stored.hlen + PREFIX  # prefix, whole header, body prefix
    for start, end in _ranges(stored.size).values():
        before = src.read_bytes
        assert reader.read(start, end) == pattern(start, end)
        assert src.read_bytes - before <= 2 * ENCRYPTED


def test_authenticated_length_reads_the_final_chunk_once(stored: Stored) -> None:
    reader, calls = stored.counting_reader()
    del calls[:]
    assert reader.authenticated_length() == stored.size
    assert calls == [stored.span(stored.size // CHUNK)]
    assert reader.authenticated_length() == stored.size
    assert len(calls) == 1


# -- truncated bodies --------------------------------------------------------------------------


def test_truncated_bodies_are_caught_when_the_length_matters(stored: Stored) -> None:
    start_of = stored.hlen + PREFIX
    for cut in (
        len(stored.blob) - 1,  # last byte missing
        len(stored.blob) - 16,
        start_of + 100 * ENCRYPTED + 20,  # cut inside chunk 100
        start_of + 100 * ENCRYPTED + 16,  # looks like a full chunk and an empty final one
        start_of + 200 * ENCRYPTED + 5000,
    ):
        blob = stored.blob[:cut]
        if (cut - start_of) % ENCRYPTED < 16:  # no room for a final chunk: refused at once
            with pytest.raises(OpenError):
                stored.counting_reader(blob)
            continue
        reader, _ = stored.counting_reader(blob)
        assert reader.length < stored.size
        with pytest.raises(OpenError):
            reader.authenticated_length()
        # A range that ends where the (wrong) message seems to end must fail too.
        with pytest.raises(OpenError):
            reader.read(reader.length - 10, reader.length - 1)
        with pytest.raises(OpenError):
            stored.vault.open_range(stored.ctx, blob, reader.length - 1, reader.length - 1)
        # Earlier ranges are each authenticated by their own chunks and stay readable.
        assert reader.read(0, KIB - 1) == pattern(0, KIB - 1)
        assert stored.vault.open_range(stored.ctx, blob, CHUNK, 3 * CHUNK) == pattern(
            CHUNK, 3 * CHUNK
        )


def test_body_cut_at_a_chunk_boundary_does_not_open(stored: Stored) -> None:
    for chunks in (0, 1, 100, stored.size // CHUNK):
        blob = stored.blob[: stored.hlen + PREFIX + chunks * ENCRYPTED]
        with pytest.raises(OpenError):
            stored.counting_reader(blob)
        with pytest.raises(OpenError):
            stored.vault.range_reader(stored.ctx, blob)


# -- bad requests ------------------------------------------------------------------------------


def _bad_ranges(length: int) -> list[tuple[int, int]]:
    return [(length, length), (0, length), (-1, 5), (5, 4), (length - 1, length + 100),
            (length + 1, length + 2)]


def test_out_of_range_requests_are_invalid_and_read_nothing(stored: Stored) -> None:
    reader, calls = stored.counting_reader()
    del calls[:]
    for start, end in _bad_ranges(stored.size):
        with pytest.raises(InvalidRequest):
            reader.read(start, end)
        with pytest.raises(InvalidRequest):
            list(reader.iter_range(start, end))
        with pytest.raises(InvalidRequest):
            stored.vault.open_range(stored.ctx, stored.blob, start, end)
    assert calls == []


def test_an_empty_object_has_no_ranges(vault: Vault) -> None:
    ctx = vault.context("acme", DataClass.TRANSCRIPT, "empty")
    blob = vault.seal(ctx, b"")
    reader = vault.range_reader(ctx, blob)
    assert reader.length == reader.authenticated_length() == 0
    for start, end in [(0, 0), *_bad_ranges(0)]:
        with pytest.raises(InvalidRequest):
            reader.read(start, end)


# -- a 256 MiB object, through a real file --------------------------------------------------------


@pytest.mark.slow
def test_range_of_a_256_mib_file_reads_two_chunks(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = 256 * MIB
    path = tmp_path / "big.cvlt"
    with path.open("wb") as dst:
        ctx = _seal_pattern(vault, size, dst)
    with path.open("rb") as src:
        read_bytes: list[int] = []
        real_pread: Callable[[int, int, int], bytes] = os.pread

        def counting_pread(fd: int, n: int, offset: int) -> bytes:
            out = real_pread(fd, n, offset)
            read_bytes.append(len(out))
            return out

        hlen = header_length(src.read(8))
        monkeypatch.setattr(os, "pread", counting_pread)
        reader = vault.range_reader(ctx, src)
        assert reader.length == size
        assert read_bytes == [8, hlen, PREFIX]
        del read_bytes[:]
        assert reader.authenticated_length() == size
        assert read_bytes == [16]  # 256 MiB is whole chunks: the final chunk is empty
        for start in (size // 2 - 512, 100 * CHUNK + 7, size - KIB):
            del read_bytes[:]
            assert reader.read(start, start + KIB - 1) == pattern(start, start + KIB - 1)
            assert sum(read_bytes) <= 2 * ENCRYPTED
