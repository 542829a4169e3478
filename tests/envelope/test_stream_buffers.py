"""The streaming pump's reused buffers (envelope/_pump.py) and the open's first read.

What the speed-ups must not cost: a destination can never see its data change after the
write returned (buffers are reused across blocks and objects), concurrent streams never
share a buffer, a failed stream returns nothing to the pool, steady-state streams allocate
no block-sized objects, and the one-read header path still copes with pipes.
"""

from __future__ import annotations

import io
import os
import threading
import tracemalloc
from typing import BinaryIO, cast

import pytest

from callvault import DataClass, Vault
from callvault.envelope import _pump
from callvault.errors import OpenError
from callvault.format import ObjectContext

MIB = 1 << 20


class _KeepingSink(io.RawIOBase):
    """A (contract-breaking) destination that keeps what ``write`` hands it, uncopied."""

    def __init__(self) -> None:
        self.kept: list[bytes | bytearray | memoryview] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.kept.append(data)
        return len(data)


class _Pipe(io.RawIOBase):
    """A pipe-like source: each read returns at most ``limit`` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        self._data, self._pos, self._limit = memoryview(data), 0, limit
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.reads += 1
        n = min(len(buffer), self._limit, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


def _ctx(vault: Vault, name: str = "obj-1") -> ObjectContext:
    return vault.context("acme", DataClass.RECORDING, name)


def _sealed(vault: Vault, data: bytes, name: str = "obj-1") -> bytes:
    dst = io.BytesIO()
    vault.seal_stream(_ctx(vault, name), io.BytesIO(data), dst)
    return dst.getvalue()


def test_a_kept_view_is_released_never_overwritten(vault: Vault) -> None:
    """Views handed to ``dst.write`` are released when it returns: a sink that kept one
    gets an error on use, never bytes that a later block or object wrote over it."""
    data = os.urandom(3 * MIB + 5)
    sink = _KeepingSink()
    vault.seal_stream(_ctx(vault), io.BytesIO(data), cast(BinaryIO, sink))
    views = [v for v in sink.kept if isinstance(v, memoryview)]
    assert len(views) >= 3  # every block went out as a view of a reused buffer
    vault.seal_stream(_ctx(vault, "obj-2"), io.BytesIO(os.urandom(MIB)), io.BytesIO())
    for view in views:
        with pytest.raises(ValueError, match="released"):
            bytes(view)


def test_pool_is_bounded_and_concurrent_streams_stay_apart(vault: Vault) -> None:
    """Eight threads seal and open distinct multi-block objects at once: every output is
    its own (no buffer shared between streams) and the pool keeps at most its bound."""
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            data = os.urandom(2 * MIB + i * 1000)
            ctx = _ctx(vault, f"t-{i}")
            for _ in range(3):
                sealed = io.BytesIO()
                vault.seal_stream(ctx, io.BytesIO(data), sealed)
                out = io.BytesIO()
                vault.open_stream(ctx, io.BytesIO(sealed.getvalue()), out)
                assert out.getvalue() == data
                assert vault.open(ctx, sealed.getvalue()) == data
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(_pump.POOL) <= _pump._POOL_KEEP


def test_a_failed_open_returns_no_buffer_and_later_streams_are_sound(vault: Vault) -> None:
    data = os.urandom(2 * MIB)
    sealed = bytearray(_sealed(vault, data))
    sealed[-(MIB // 2)] ^= 1  # a chunk of the second block
    pool = _pump.POOL
    while len(pool):  # start empty: only this test's streams fill it
        pool.take()
    out = io.BytesIO()
    with pytest.raises(OpenError):
        vault.open_stream(_ctx(vault), io.BytesIO(bytes(sealed)), out)
    assert len(pool) == 0
    assert len(out.getvalue()) < len(data)  # only the authenticated prefix came out
    assert out.getvalue() == data[: len(out.getvalue())]
    good = io.BytesIO()
    vault.open_stream(_ctx(vault), io.BytesIO(_sealed(vault, data)), good)
    assert good.getvalue() == data
    assert len(pool) == 2


@pytest.mark.parametrize("limit", [1, 3, 8, 50, 16_401])
def test_open_stream_tops_up_a_short_first_read(vault: Vault, limit: int) -> None:
    """The header and first block come from one read when the source allows it; a pipe
    that returns less than a header (even less than the 8-byte prefix) is topped up."""
    data = os.urandom(40_000)
    src = _Pipe(_sealed(vault, data), limit)
    out = io.BytesIO()
    assert vault.open_stream(_ctx(vault), cast(BinaryIO, src), out) == len(data)
    assert out.getvalue() == data


@pytest.mark.parametrize("cut", [0, 3, 8, 40])
def test_open_stream_of_a_truncated_header_is_the_opaque_error(vault: Vault, cut: int) -> None:
    sealed = _sealed(vault, b"x" * 100)
    with pytest.raises(OpenError):
        vault.open_stream(_ctx(vault), io.BytesIO(sealed[:cut]), io.BytesIO())


def test_open_stream_reads_header_and_first_block_at_once(vault: Vault) -> None:
    """A 1 MiB object from a file: one read for header + body, one that finds the end."""
    data = os.urandom(MIB)
    src = _Pipe(_sealed(vault, data), 1 << 30)
    out = io.BytesIO()
    vault.open_stream(_ctx(vault), cast(BinaryIO, src), out)
    assert out.getvalue() == data
    assert src.reads == 2


def test_steady_state_streams_allocate_no_block_sized_objects(vault: Vault) -> None:
    """With the pool warm, sealing and opening 1 MiB from memory into a warm destination
    allocates no Python object near a block's size: no fresh outputs, no read copies."""
    data = os.urandom(MIB)
    ctx = _ctx(vault)
    sealed = _sealed(vault, data)
    seal_dst, open_dst = io.BytesIO(), io.BytesIO()
    for _ in range(2):  # warm the pool and both destinations
        seal_dst.seek(0)
        vault.seal_stream(ctx, io.BytesIO(data), seal_dst)
        open_dst.seek(0)
        vault.open_stream(ctx, io.BytesIO(sealed), open_dst)
    tracemalloc.start()
    try:
        seal_dst.seek(0)
        vault.seal_stream(ctx, io.BytesIO(data), seal_dst)
        open_dst.seek(0)
        vault.open_stream(ctx, io.BytesIO(sealed), open_dst)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 128 * 1024, peak
    assert open_dst.getvalue()[:MIB] == data


def test_open_takes_any_bytes_like_sealed_object(vault: Vault) -> None:
    """A sealed object in a bytearray or memoryview (what a socket read gives) opens like
    bytes: the header's fields come out as bytes, whatever the input."""
    data = os.urandom(40_000)
    sealed = _sealed(vault, data)
    for form in (bytearray(sealed), memoryview(sealed), memoryview(bytearray(sealed))):
        assert vault.open(_ctx(vault), form) == data  # type: ignore[arg-type]
        got = vault.range_reader(_ctx(vault), form).read(100, 20_000)
        assert got == vault.range_reader(_ctx(vault), sealed).read(100, 20_000)
        assert got.startswith(data[100:20_000])


def test_the_pump_gives_the_cipher_pieces_of_a_block_and_loses_no_byte() -> None:
    """Reads stay whole blocks, the cipher gets them in ``SLICES`` pieces: every byte goes
    through once, in order, and the progress callback still counts whole blocks."""

    class Copy:
        def __init__(self) -> None:
            self.sizes: list[int] = []

        def update_into(self, data: bytes | bytearray | memoryview, out: bytearray) -> int:
            n = len(data)
            out[:n] = data
            self.sizes.append(n)
            return n

    data = os.urandom(2 * MIB + 12_345)
    cipher, src, dst, progress = Copy(), io.BytesIO(data), io.BytesIO(), []
    read, written = _pump.pump(cipher, src.read(MIB), src, dst, MIB, progress.append)
    assert dst.getvalue() == data and read == written == len(data)
    assert max(cipher.sizes) == MIB // _pump.SLICES and len(cipher.sizes) == 2 * _pump.SLICES + 1
    assert progress == [MIB, MIB, 12_345]
    # A first block a little longer than a block (an open's, with the body prefix): its
    # few extra bytes go with the last piece instead of costing one more cipher call.
    piece = MIB // _pump.SLICES
    data = os.urandom(MIB + 56 + MIB)
    cipher, src, dst = Copy(), io.BytesIO(data), io.BytesIO()
    read, written = _pump.pump(cipher, src.read(MIB + 56), src, dst, MIB, None)
    assert dst.getvalue() == data and read == written == len(data)
    assert cipher.sizes == [piece] * (_pump.SLICES - 1) + [piece + 56] + [piece] * _pump.SLICES
