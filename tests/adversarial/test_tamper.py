"""An attacker who controls storage: every edit of a sealed object fails to open, and always
with the same ``OpenError`` (one class, one message: no oracle).

Covered: every single-bit flip (header included; the exhaustive run is ``slow``), truncation,
chunk reordering, duplication and removal, splicing chunks of two objects of one context,
trailing data, swapped headers, re-headering for another tenant, and moving an object to
another tenant, object id, data class or subject. Environments are the one deliberate
exception: a context or a header naming a real other environment is the explicit
``EnvironmentMismatch`` (a fact about keys, not about the ciphertext). Streaming opens
release no plaintext of a chunk before that chunk authenticates.
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from callvault import DataClass, Environment, EnvironmentMismatch, ObjectContext, OpenError, Vault
from callvault.format import BodyDecryptor, Header, KeyReference, RangeReader, header_length

CHUNK = 16384
ENCRYPTED = CHUNK + 16
PREFIX = 56
SUBJECT = "+15551234567"
OTHER_SUBJECT = "+15557654321"
SIZE = 2 * CHUNK + 500  # two full chunks and a short final one


@dataclass(frozen=True)
class Sealed:
    vault: Vault
    ctx: ObjectContext
    plaintext: bytes
    blob: bytes

    @property
    def hlen(self) -> int:
        return header_length(self.blob[:8])

    @property
    def header(self) -> bytes:
        return self.blob[: self.hlen]

    @property
    def prefix(self) -> bytes:
        return self.blob[self.hlen : self.hlen + PREFIX]

    def chunk(self, index: int) -> bytes:
        start = self.hlen + PREFIX + index * ENCRYPTED
        return self.blob[start : start + ENCRYPTED]

    @property
    def chunks(self) -> list[bytes]:
        count = (len(self.blob) - self.hlen - PREFIX + ENCRYPTED - 1) // ENCRYPTED
        return [self.chunk(i) for i in range(count)]


def _seal(vault: Vault, subject: str | None, object_id: str = "call-1", size: int = SIZE) -> Sealed:
    ctx = vault.context("acme", DataClass.RECORDING, object_id, subject=subject)
    plaintext = os.urandom(size)
    return Sealed(vault, ctx, plaintext, vault.seal(ctx, plaintext))


@pytest.fixture(params=[None, SUBJECT], ids=["master-wrapped", "subject-wrapped"])
def sealed(request: pytest.FixtureRequest, vault: Vault) -> Sealed:
    case = _seal(vault, request.param)
    assert len(case.chunks) == 3 and len(case.chunks[2]) == 500 + 16
    assert vault.open(case.ctx, case.blob) == case.plaintext
    return case


# -- one error, every API -------------------------------------------------------------------


def _is_the_open_error(exc: BaseException) -> bool:
    return type(exc) is OpenError and exc.args == (OpenError.MESSAGE,)


def assert_open_error(call: Callable[[], object]) -> None:
    with pytest.raises(OpenError) as info:
        call()
    assert _is_the_open_error(info.value), repr(info.value)


def _range_whole(vault: Vault, ctx: ObjectContext, blob: bytes) -> object:
    reader = vault.range_reader(ctx, blob)
    if reader.length == 0:
        return reader.authenticated_length()
    return reader.read(0, reader.length - 1)


def _stream(vault: Vault, ctx: ObjectContext, blob: bytes) -> bytes:
    dst = io.BytesIO()
    vault.open_stream(ctx, io.BytesIO(blob), dst)
    return dst.getvalue()


def _pieces(blob: bytes, size: int) -> list[bytes]:
    return [blob[i : i + size] for i in range(0, len(blob), size)]


def assert_refused(vault: Vault, ctx: ObjectContext, blob: bytes) -> None:
    """No API opens ``blob`` under ``ctx``, and each says so with the one OpenError."""
    assert_open_error(lambda: vault.open(ctx, blob))
    assert_open_error(lambda: _stream(vault, ctx, blob))
    assert_open_error(lambda: b"".join(vault.open_iter(ctx, [blob])))
    assert_open_error(lambda: b"".join(vault.open_iter(ctx, _pieces(blob, 4099))))
    assert_open_error(lambda: _range_whole(vault, ctx, blob))


# -- bit flips -------------------------------------------------------------------------------


def _flip_failures(sealed: Sealed, byte_positions: Iterable[int]) -> list[tuple[int, str]]:
    """Flip each bit of each given byte in turn; return (bit index, outcome) of every flip
    that did not fail with exactly the OpenError."""
    buf = bytearray(sealed.blob)
    failures = []
    for position in byte_positions:
        original = buf[position]
        for bit in range(8):
            buf[position] = original ^ (1 << bit)
            try:
                sealed.vault.open(sealed.ctx, bytes(buf))
            except Exception as exc:
                if not _is_the_open_error(exc):
                    failures.append((position * 8 + bit, repr(exc)))
            else:
                failures.append((position * 8 + bit, "opened"))
        buf[position] = original
    return failures


def _sampled_positions(sealed: Sealed) -> list[int]:
    """Header, body prefix, the first and last 32 bytes of each full chunk (data and tag),
    and the whole final chunk."""
    positions = set(range(sealed.hlen + PREFIX))
    start = sealed.hlen + PREFIX
    for index, chunk in enumerate(sealed.chunks):
        begin = start + index * ENCRYPTED
        if len(chunk) < ENCRYPTED:
            positions.update(range(begin, begin + len(chunk)))
        else:
            positions.update(range(begin, begin + 32))
            positions.update(range(begin + len(chunk) - 32, begin + len(chunk)))
    assert max(positions) == len(sealed.blob) - 1
    return sorted(positions)


def test_bit_flips_in_header_prefix_tags_and_final_chunk(sealed: Sealed) -> None:
    assert _flip_failures(sealed, _sampled_positions(sealed)) == []


def test_header_bit_flips_are_refused_by_every_api(sealed: Sealed) -> None:
    buf = bytearray(sealed.blob)
    for position in range(sealed.hlen + PREFIX):
        original = buf[position]
        for bit in range(8):
            buf[position] = original ^ (1 << bit)
            assert_refused(sealed.vault, sealed.ctx, bytes(buf))
        buf[position] = original


@pytest.mark.slow
def test_every_single_bit_flip_fails(sealed: Sealed) -> None:
    """All ~268k bit positions of a 3-chunk object, through the real ``Vault.open``."""
    failures = _flip_failures(sealed, range(len(sealed.blob)))
    assert failures == [], f"{len(failures)} flips not refused, first: {failures[:5]}"


# -- truncation, reordering, splicing, trailing data ------------------------------------------


def test_truncation_anywhere_is_refused(sealed: Sealed) -> None:
    body = sealed.hlen + PREFIX
    n = len(sealed.blob)
    cuts = set(range(body + 1))  # inside the header and the body prefix
    for k in range(len(sealed.chunks) + 1):  # at and around every chunk boundary
        boundary = body + k * ENCRYPTED
        cuts.update({boundary - 1, boundary, boundary + 1, boundary + 15, boundary + 16})
    cuts.update(range(n - 40, n))  # every byte of the end
    for cut in sorted(c for c in cuts if 0 <= c < n):
        assert_refused(sealed.vault, sealed.ctx, sealed.blob[:cut])


def test_chunks_reordered_duplicated_or_dropped_are_refused(sealed: Sealed) -> None:
    c0, c1, c2 = sealed.chunks
    head = sealed.header + sealed.prefix
    for chunks in (
        [c1, c0, c2],  # swapped
        [c0, c0, c2],  # chunk 0 in place of chunk 1
        [c0, c1, c1, c2],  # duplicated
        [c0, c0, c1, c2],
        [c0, c2],  # dropped
        [c1, c2],
        [c0, c1],  # final chunk dropped
        [c0, c1, c2, c2],  # final chunk twice
        [c0, c1, c0, c1, c2],
    ):
        assert_refused(sealed.vault, sealed.ctx, head + b"".join(chunks))


def test_splicing_two_objects_of_the_same_context_is_refused(sealed: Sealed) -> None:
    other = Sealed(
        sealed.vault, sealed.ctx, os.urandom(SIZE), sealed.vault.seal(sealed.ctx, os.urandom(SIZE))
    )
    a0, a1, a2 = sealed.chunks
    b0, b1, b2 = other.chunks
    for blob in (
        sealed.header + sealed.prefix + a0 + b1 + a2,  # one chunk from the other object
        sealed.header + sealed.prefix + a0 + a1 + b2,
        sealed.header + sealed.prefix + b0 + b1 + b2,  # whole body from the other object
        sealed.header + other.prefix + a0 + a1 + a2,  # the other salt and commitment
        other.header + sealed.prefix + a0 + a1 + a2,  # headers swapped
        sealed.header + other.blob[other.hlen :],
    ):
        assert_refused(sealed.vault, sealed.ctx, blob)


def test_trailing_data_is_refused(sealed: Sealed) -> None:
    other = sealed.vault.seal(sealed.ctx, b"x")
    for tail in (b"\x00", os.urandom(15), os.urandom(16), os.urandom(17), sealed.chunks[0],
                 sealed.chunks[2], other, sealed.blob):
        assert_refused(sealed.vault, sealed.ctx, sealed.blob + tail)


def test_swapping_headers_between_objects_is_refused(vault: Vault) -> None:
    for subject in (None, SUBJECT):
        one = _seal(vault, subject, "call-1")
        two = _seal(vault, subject, "call-2")
        assert_refused(vault, one.ctx, two.header + one.blob[one.hlen :])
        assert_refused(vault, two.ctx, one.header + two.blob[two.hlen :])
        assert_refused(vault, one.ctx, two.blob)  # a whole object under another object id


# -- moved to another context -----------------------------------------------------------------


def _moved_contexts(ctx: ObjectContext) -> list[ObjectContext]:
    def with_(**changes: Any) -> ObjectContext:
        fields = {
            "tenant": ctx.tenant,
            "environment": ctx.environment,
            "data_class": ctx.data_class,
            "object_id": ctx.object_id,
            "subject": ctx.subject,
        }
        return ObjectContext(**{**fields, **changes})

    moved = [
        with_(tenant="globex"),  # wrong tenant (and so the wrong tenant key)
        with_(object_id="call-2"),
        with_(object_id=ctx.object_id + "0"),  # one id a prefix of the other
        with_(subject=OTHER_SUBJECT),
        with_(subject=None if ctx.subject else SUBJECT),
    ]
    moved += [with_(data_class=c) for c in DataClass if c is not ctx.data_class]
    return moved


def test_moved_to_another_context_is_refused(sealed: Sealed) -> None:
    for moved in _moved_contexts(sealed.ctx):
        assert moved != sealed.ctx
        assert_refused(sealed.vault, moved, sealed.blob)


def test_body_is_bound_to_every_context_field_even_with_the_right_key(sealed: Sealed) -> None:
    """Even a holder of the DEK cannot open the body under another context: the context is
    in the body's key derivation (environment included), not only in the DEK wrap."""
    header = Header.parse(sealed.header)
    dek = sealed.vault.keys.data_key(header, sealed.ctx).secret_bytes()
    body = sealed.blob[sealed.hlen :]
    others = _moved_contexts(sealed.ctx) + [
        ObjectContext(sealed.ctx.tenant, env, sealed.ctx.data_class, sealed.ctx.object_id,
                      sealed.ctx.subject)
        for env in Environment
        if env is not sealed.ctx.environment
    ]
    decryptor = BodyDecryptor(dek, header.body_context(sealed.ctx))
    assert decryptor.update(body) + decryptor.finalize() == sealed.plaintext
    for other in others:
        context = header.body_context(other)
        decryptor = BodyDecryptor(dek, context)
        assert_open_error(lambda d=decryptor: d.update(body) + d.finalize())  # type: ignore[misc]
        assert_open_error(lambda c=context: RangeReader(  # type: ignore[misc]
            lambda o, n: body[o : o + n], 0, len(body), dek, c))


def test_reheadered_for_another_tenant_is_refused(sealed: Sealed) -> None:
    """Rewrite the header so it names globex's master key, then open as globex."""
    header = Header.parse(sealed.header)
    globex = sealed.vault.context("globex", sealed.ctx.data_class, sealed.ctx.object_id,
                                  sealed.ctx.subject)
    globex_key = sealed.vault.keys.master_key_id("globex")
    if header.subject_key_id:
        subject_id = sealed.vault.keys.subject_key_id("globex", SUBJECT)
        sealed.vault.seal(globex, b"make sure globex has this subject's key")
    else:
        subject_id = b""
    forged = Header(KeyReference(header.key_ref.provider, globex_key, header.key_ref.version),
                    subject_id, header.wrapped_dek)
    blob = forged.encode() + sealed.blob[sealed.hlen :]
    assert_refused(sealed.vault, globex, blob)
    assert_refused(sealed.vault, sealed.ctx, blob)


def _all_ways(vault: Vault, ctx: ObjectContext, blob: bytes) -> list[Callable[[], object]]:
    return [
        lambda: vault.open(ctx, blob),
        lambda: _stream(vault, ctx, blob),
        lambda: b"".join(vault.open_iter(ctx, [blob])),
        lambda: _range_whole(vault, ctx, blob),
    ]


def test_moved_to_a_system_of_another_environment_is_an_explicit_mismatch(
    sealed: Sealed, vault_factory: Callable[..., Vault], tmp_path: Path
) -> None:
    """A dev object on a prod system names a dev key: "a key of one environment used in
    another" is the explicit ``EnvironmentMismatch`` (it depends only on what the header
    says in clear, so it is no oracle), never a plaintext."""
    prod = vault_factory(tmp_path / "prod-home", Environment.PROD)
    ctx = prod.context(sealed.ctx.tenant, sealed.ctx.data_class, sealed.ctx.object_id,
                       sealed.ctx.subject)
    assert ctx.environment is Environment.PROD
    for attempt in _all_ways(prod, ctx, sealed.blob):
        with pytest.raises(EnvironmentMismatch):
            attempt()


def test_header_naming_another_or_no_environment(sealed: Sealed) -> None:
    """Rewrite the header's key id: a real other environment's key is the explicit mismatch;
    a key id of no environment at all (as a bit flip makes) is just an unknown key."""
    header = Header.parse(sealed.header)
    _, rest = header.key_ref.key_id.split("/", 1)

    def reheadered(key_id: str) -> bytes:
        ref = KeyReference(header.key_ref.provider, key_id, header.key_ref.version)
        forged = Header(ref, header.subject_key_id, header.wrapped_dek).encode()
        return forged + sealed.blob[sealed.hlen :]

    for env in Environment:
        if env is not sealed.ctx.environment:
            for attempt in _all_ways(sealed.vault, sealed.ctx, reheadered(f"{env.value}/{rest}")):
                with pytest.raises(EnvironmentMismatch):
                    attempt()
    for scope in ("eev", "qa", "DEV", "dev-", ""):
        assert_refused(sealed.vault, sealed.ctx, reheadered(f"{scope}/{rest}"))
    assert_refused(sealed.vault, sealed.ctx, reheadered(rest))  # no scope at all


def test_a_context_of_another_environment_is_an_explicit_mismatch(sealed: Sealed) -> None:
    """The caller naming another environment than the system's is a configuration error
    (``EnvironmentMismatch``), never a plaintext."""
    ctx = sealed.ctx
    for env in Environment:
        if env is ctx.environment:
            continue
        other = ObjectContext(ctx.tenant, env, ctx.data_class, ctx.object_id, ctx.subject)
        with pytest.raises(EnvironmentMismatch):
            sealed.vault.open(other, sealed.blob)
        with pytest.raises(EnvironmentMismatch):
            sealed.vault.range_reader(other, sealed.blob)


def test_dedicated_class_keys_do_not_open_other_classes(vault: Vault) -> None:
    vault.create_tenant("initech", [DataClass.RECORDING])
    ctx = vault.context("initech", DataClass.RECORDING, "call-1")
    blob = vault.seal(ctx, b"dedicated")
    assert Header.parse(blob[: header_length(blob[:8])]).key_ref.key_id.endswith("/recording")
    for other in DataClass:
        if other is not DataClass.RECORDING:
            assert_refused(vault, vault.context("initech", other, "call-1"), blob)


# -- no plaintext before its chunk authenticates ----------------------------------------------


class _ShortReads(io.RawIOBase):
    """A pipe-like source whose reads return at most ``limit`` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        self._data, self._pos, self._limit = memoryview(data), 0, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._limit, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


def _released_by_iter(vault: Vault, ctx: ObjectContext, pieces: list[bytes]) -> bytes:
    released = bytearray()
    with pytest.raises(OpenError) as info:
        for out in vault.open_iter(ctx, pieces):
            released += out
    assert _is_the_open_error(info.value)
    return bytes(released)


def _released_by_stream(vault: Vault, ctx: ObjectContext, src: BinaryIO) -> bytes:
    dst = io.BytesIO()
    with pytest.raises(OpenError) as info:
        vault.open_stream(ctx, src, dst)
    assert _is_the_open_error(info.value)
    return dst.getvalue()


def _corrupt_chunk(sealed: Sealed, index: int) -> bytes:
    buf = bytearray(sealed.blob)
    buf[sealed.hlen + PREFIX + index * ENCRYPTED + 100] ^= 0x01
    return bytes(buf)


@pytest.mark.parametrize("bad", [0, 1, 2])
def test_streaming_releases_exactly_the_authenticated_chunks(sealed: Sealed, bad: int) -> None:
    """Chunk ``bad`` is corrupted: the output before the error is exactly the plaintext of
    the chunks before it, never a byte of chunk ``bad`` or after."""
    blob = _corrupt_chunk(sealed, bad)
    vault, ctx = sealed.vault, sealed.ctx
    before = sealed.plaintext[: bad * CHUNK]
    start = sealed.hlen + PREFIX
    cuts = [0, sealed.hlen, start] + [start + k * ENCRYPTED for k in range(1, 3)] + [len(blob)]
    per_chunk = [blob[a:b] for a, b in itertools.pairwise(cuts)]

    assert _released_by_iter(vault, ctx, per_chunk) == before
    assert _released_by_iter(vault, ctx, _pieces(blob, 1)) == before
    assert _released_by_iter(vault, ctx, _pieces(blob, 1000)) == before
    for limit in (1000, ENCRYPTED, ENCRYPTED + 1):
        src = cast(BinaryIO, _ShortReads(blob, limit))
        assert _released_by_stream(vault, ctx, src) == before
    # Bigger reads may hold back more, but never release anything unauthenticated.
    for released in (
        _released_by_iter(vault, ctx, [blob]),
        _released_by_stream(vault, ctx, io.BytesIO(blob)),
    ):
        assert before.startswith(released) and len(released) % CHUNK == 0
    # Random access: chunks before the bad one read; the bad one never does.
    reader = vault.range_reader(ctx, blob)
    if bad:
        assert reader.read(0, bad * CHUNK - 1) == before
    got = bytearray()
    with pytest.raises(OpenError):
        for piece in reader.iter_range(0, len(sealed.plaintext) - 1):
            got += piece
    assert got == before
