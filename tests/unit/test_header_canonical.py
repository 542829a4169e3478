"""Only the canonical encoding of a header parses.

``Header.parse`` does not re-encode each header to compare: it checks every byte against
the one value the format allows as it goes. These properties hold it to that: whatever
byte string parses encodes back to exactly itself, so no second encoding of a header (a
longer length field, trailing bytes, a non-minimal key reference) is ever accepted.
"""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from callvault.errors import OpenError
from callvault.format import Header, KeyReference, encode_header

VALID = [
    encode_header(KeyReference("local", "dev/acme/default", 3), b"", b"w" * 60),
    encode_header(KeyReference("acme-hsm", "dev/acme/cmk#1", 1), b"\x01" * 32, b"w" * 28),
]


def _field(draw: st.DrawFn, value: bytes, width: str) -> bytes:
    """``value`` after a length prefix that is usually right and sometimes anything."""
    right = len(value)
    limit = 255 if width == ">B" else 0xFFFF
    length = draw(st.one_of(st.just(right), st.integers(0, min(limit, right + 3))))
    return struct.pack(width, length) + value


@st.composite
def header_like(draw: st.DrawFn) -> bytes:
    """Byte strings shaped like a header, each part right or slightly wrong."""
    provider = draw(st.sampled_from([b"local", b"acme-hsm", b"", b"LOCAL", b"l\xff"]))
    key_id = draw(st.sampled_from([b"dev/acme/default", b"", b"dev/\x00", b"dev/acme/cmk#1"]))
    version = draw(st.sampled_from([b"\x00\x00\x00\x01", b"\x00\x00\x00\x00", b"\x00\x00\x01"]))
    subject = draw(st.sampled_from([b"", b"\x01" * 32, b"\x01" * 31]))
    wrapped = draw(st.sampled_from([b"w" * 60, b"w", b""]))
    body = (
        _field(draw, provider, ">B")
        + _field(draw, key_id, ">H")
        + version
        + _field(draw, subject, ">B")
        + _field(draw, wrapped, ">H")
        + draw(st.sampled_from([b"", b"\x00", b"xx"]))
    )
    total = draw(st.one_of(st.just(8 + len(body)), st.integers(0, 8 + len(body) + 2)))
    flags = draw(st.sampled_from([0, 0, 1]))
    return b"CVLT" + bytes([1, flags]) + struct.pack(">H", total) + body


@settings(max_examples=400, deadline=None)
@given(data=header_like())
def test_whatever_parses_encodes_back_to_itself(data: bytes) -> None:
    try:
        header = Header.parse(data)
    except OpenError:
        return
    assert header.encode() == data


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(VALID),
    edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=3),
    cut=st.integers(0, 3),
    extra=st.binary(max_size=3),
    fix_total=st.booleans(),
)
def test_edited_headers_parse_only_as_themselves(
    base: bytes, edits: list[tuple[int, int]], cut: int, extra: bytes, fix_total: bool
) -> None:
    data = bytearray(base)
    for at, value in edits:
        data[at % len(data)] = value
    data = data[: len(data) - cut] + extra
    if fix_total:  # keep the announced length consistent so the fields themselves are tried
        data[6:8] = struct.pack(">H", len(data))
    try:
        header = Header.parse(bytes(data))
    except OpenError:
        return
    assert header.encode() == bytes(data)


def test_the_valid_headers_parse() -> None:
    """The properties above are not vacuous: their starting points parse."""
    for encoded in VALID:
        assert Header.parse(encoded).encode() == encoded
        assert Header.parse(memoryview(encoded)).encode() == encoded
