"""Round trips through every seal/open API, and cross-checks of the body against
``cryptography.cobblestone`` (an independent implementation of the same C2SP construction).

Sizes cover the chunk edges (0, 1, one chunk ± 1, three chunks ± 1) and random sizes up to
~200 KiB. Example counts stay modest: CI is a small machine.
"""

from __future__ import annotations

import io
import itertools
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

from cryptography.cobblestone import Cobblestone256Decryptor
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from callvault import DataClass, ObjectContext, Vault
from callvault.format import Header, RangeReader, header_length

CHUNK = 16384
ENCRYPTED = CHUNK + 16
PREFIX = 56
EDGE_SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK - 1, 3 * CHUNK, 3 * CHUNK + 1]
MAX_SIZE = 200 * 1024
SUBJECT = "+15551234567"

sizes = st.one_of(
    st.sampled_from(EDGE_SIZES), st.integers(0, MAX_SIZE), st.integers(MAX_SIZE // 2, MAX_SIZE)
)
subjects = st.sampled_from([None, SUBJECT])
seeds = st.integers(0, 2**32 - 1)
Test = TypeVar("Test", bound=Callable[..., Any])
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _edges(**fixed: object) -> Callable[[Test], Test]:
    """Run every edge size as an explicit example, whatever hypothesis draws besides."""

    def decorate(test: Test) -> Test:
        for i, size in enumerate(EDGE_SIZES):
            test = example(size=size, seed=i, subject=(None, SUBJECT)[i % 2], **fixed)(test)
        return test

    return decorate


def _plaintext(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _context(vault: Vault, subject: str | None) -> ObjectContext:
    return vault.context("acme", DataClass.RECORDING, "call-1", subject=subject)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def _expected_body_length(size: int) -> int:
    """The spec's fixed layout: full chunks, then a short (possibly empty) final one."""
    return PREFIX + (size // CHUNK) * ENCRYPTED + (size % CHUNK) + 16


class _ShortReads(io.RawIOBase):
    """A pipe-like source: each read returns at most ``limit`` bytes."""

    @classmethod
    def of(cls, data: bytes, limit: int) -> BinaryIO:
        return cast(BinaryIO, cls(data, limit))

    def __init__(self, data: bytes, limit: int) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._limit, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


# -- every API seals, every API opens -------------------------------------------------------


def _seal_all_ways(
    vault: Vault, ctx: ObjectContext, plaintext: bytes, cuts: list[int]
) -> Iterator[tuple[str, bytes]]:
    yield "seal", vault.seal(ctx, plaintext)
    dst = io.BytesIO()
    assert vault.seal_stream(ctx, io.BytesIO(plaintext), dst) == len(plaintext)
    yield "seal_stream", dst.getvalue()
    dst = io.BytesIO()
    assert vault.seal_stream(ctx, _ShortReads.of(plaintext, 5000), dst) == len(plaintext)
    yield "seal_stream(short reads)", dst.getvalue()
    yield "seal_iter", b"".join(vault.seal_iter(ctx, _split(plaintext, cuts)))


def _open_all_ways(
    vault: Vault, ctx: ObjectContext, sealed: bytes, cuts: list[int]
) -> Iterator[tuple[str, bytes]]:
    yield "open", vault.open(ctx, sealed)
    dst = io.BytesIO()
    size = vault.open_stream(ctx, io.BytesIO(sealed), dst)
    assert size == len(dst.getvalue())
    yield "open_stream", dst.getvalue()
    dst = io.BytesIO()
    vault.open_stream(ctx, _ShortReads.of(sealed, 7001), dst)
    yield "open_stream(short reads)", dst.getvalue()
    yield "open_iter", b"".join(vault.open_iter(ctx, _split(sealed, cuts)))
    reader = vault.range_reader(ctx, sealed)
    assert reader.authenticated_length() == reader.length
    yield "range_reader", reader.read(0, reader.length - 1) if reader.length else b""


@SETTINGS
@given(
    size=sizes,
    seed=seeds,
    subject=subjects,
    cuts=st.lists(st.integers(0, 2**31), max_size=6),
)
@_edges(cuts=[1, 8, 100, 16_456, 16_457, 32_856])
def test_every_api_round_trips_with_every_other(
    module_vault: Vault, size: int, seed: int, subject: str | None, cuts: list[int]
) -> None:
    plaintext = _plaintext(size, seed)
    ctx = _context(module_vault, subject)
    for sealed_by, sealed in _seal_all_ways(module_vault, ctx, plaintext, cuts):
        hlen = header_length(sealed[:8])
        assert len(sealed) - hlen == _expected_body_length(size), sealed_by
        for opened_by, opened in _open_all_ways(module_vault, ctx, sealed, cuts):
            assert opened == plaintext, (sealed_by, opened_by)


# -- the body is plain Cobblestone-256, and our random access agrees with it -----------------


@SETTINGS
@given(size=sizes, seed=seeds, subject=subjects)
@_edges()
def test_body_is_cobblestone_256_and_range_reader_agrees(
    module_vault: Vault, size: int, seed: int, subject: str | None
) -> None:
    plaintext = _plaintext(size, seed)
    ctx = _context(module_vault, subject)
    sealed = module_vault.seal(ctx, plaintext)
    hlen = header_length(sealed[:8])
    header = Header.parse(sealed[:hlen])
    assert bool(header.subject_key_id) == (subject is not None)
    body = sealed[hlen:]
    dek = module_vault.keys.data_key(header, ctx).secret_bytes()
    body_context = header.body_context(ctx)

    reference = Cobblestone256Decryptor(dek, body_context)
    by_cobblestone = reference.update(body) + reference.finalize()
    assert by_cobblestone == plaintext

    view = memoryview(sealed)
    reader = RangeReader(
        lambda offset, n: bytes(view[offset : offset + n]), hlen, len(body), dek, body_context
    )
    assert reader.length == reader.authenticated_length() == len(by_cobblestone)
    if size:
        assert reader.read(0, size - 1) == by_cobblestone
        # Chunk by chunk, last to first: random access needs no earlier state.
        pieces = [
            reader.read(start, min(start + CHUNK, size) - 1)
            for start in reversed(range(0, size, CHUNK))
        ]
        assert b"".join(reversed(pieces)) == by_cobblestone


# -- random ranges ---------------------------------------------------------------------------


@SETTINGS
@given(size=sizes.filter(lambda n: n > 0), seed=seeds, subject=subjects, data=st.data())
def test_random_ranges_match_plaintext_slices(
    module_vault: Vault,
    size: int,
    seed: int,
    subject: str | None,
    data: st.DataObject,
) -> None:
    plaintext = _plaintext(size, seed)
    ctx = _context(module_vault, subject)
    sealed = module_vault.seal(ctx, plaintext)
    as_file = io.BytesIO(sealed)  # a seekable file-like without a descriptor
    reader = module_vault.range_reader(ctx, sealed)
    for _ in range(6):
        start = data.draw(st.integers(0, size - 1), label="start")
        end = data.draw(
            st.one_of(st.integers(start, size - 1), st.just(size - 1), st.just(start)),
            label="end",
        )
        expected = plaintext[start : end + 1]
        assert module_vault.open_range(ctx, sealed, start, end) == expected
        assert module_vault.open_range(ctx, as_file, start, end) == expected
        assert reader.read(start, end) == expected
        assert b"".join(reader.iter_range(start, end)) == expected


def test_ranges_through_a_real_file(vault: Vault, tmp_path: Path) -> None:
    plaintext = random.Random(7).randbytes(5 * CHUNK + 333)
    ctx = _context(vault, SUBJECT)
    path = tmp_path / "object.cvlt"
    with path.open("wb") as dst:
        vault.seal_stream(ctx, io.BytesIO(plaintext), dst)
    with path.open("rb") as src:
        reader = vault.range_reader(ctx, src)
        assert reader.authenticated_length() == len(plaintext)
        for start, end in [(0, 0), (CHUNK - 1, CHUNK), (2 * CHUNK + 5, 4 * CHUNK + 9),
                           (len(plaintext) - 1, len(plaintext) - 1), (0, len(plaintext) - 1)]:
            assert reader.read(start, end) == plaintext[start : end + 1]
            assert vault.open_range(ctx, src, start, end) == plaintext[start : end + 1]


# -- sealing is randomized: no key, salt or nonce is ever reused -----------------------------


def test_sealing_twice_uses_a_fresh_data_key_and_salt(vault: Vault) -> None:
    for subject in (None, SUBJECT):
        ctx = _context(vault, subject)
        plaintext = b"same words, same context" * 100
        one, two = vault.seal(ctx, plaintext), vault.seal(ctx, plaintext)
        h1, h2 = header_length(one[:8]), header_length(two[:8])
        first, second = Header.parse(one[:h1]), Header.parse(two[:h2])
        assert first.key_ref == second.key_ref
        assert first.subject_key_id == second.subject_key_id
        assert first.wrapped_dek != second.wrapped_dek
        dek1 = vault.keys.data_key(first, ctx).secret_bytes()
        dek2 = vault.keys.data_key(second, ctx).secret_bytes()
        assert dek1 != dek2
        assert one[h1 : h1 + 24] != two[h2 : h2 + 24]  # salts
        assert one[h1:] != two[h2:]
        assert vault.open(ctx, one) == vault.open(ctx, two) == plaintext
