"""Length-prefixed canonical encoding shared by the header, the context and the wrap AAD.

Every variable field is preceded by its length, so two different field lists can never
encode to the same bytes (unlike string concatenation with separators).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["encode_fields"]


def encode_fields(label: bytes, fields: Sequence[bytes]) -> bytes:
    """``u16(len(label)) || label || u16(n) || (u32(len(f)) || f)`` for each of the n fields."""
    if len(label) > 0xFFFF or len(fields) > 0xFFFF:
        raise ValueError("label or field list too long to encode")
    out = bytearray(len(label).to_bytes(2, "big"))
    out += label
    out += len(fields).to_bytes(2, "big")
    for field in fields:
        out += len(field).to_bytes(4, "big")  # OverflowError past 4 GiB: nothing that large
        out += field
    return bytes(out)
