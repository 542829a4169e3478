"""Length-prefixed canonical encoding shared by the header, the context and the wrap AAD.

Every variable field is preceded by its length, so two different field lists can never
encode to the same bytes (unlike string concatenation with separators).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

__all__ = ["encode_fields", "encode_fields_tail", "encode_tail"]

_U16 = struct.Struct(">H").pack
_U32 = struct.Struct(">I").pack


def encode_fields(label: bytes, fields: Sequence[bytes]) -> bytes:
    """``u16(len(label)) || label || u16(n) || (u32(len(f)) || f)`` for each of the n fields."""
    return encode_fields_tail(label, fields, b"", 0)


def encode_tail(fields: Sequence[bytes]) -> bytes:
    """The ``(u32(len(f)) || f)...`` part of ``fields``: what a field list contributes to
    any encoding it ends. The object context's five fields end both the wrap AAD and the
    body context, so each context encodes them once (``ObjectContext``), not per use."""
    parts = []
    for field in fields:
        parts.append(_U32(len(field)))  # struct.error past 4 GiB: nothing that large
        parts.append(field)
    return b"".join(parts)


def encode_fields_tail(label: bytes, fields: Sequence[bytes], tail: bytes, tail_n: int) -> bytes:
    """``encode_fields(label, [*fields, *rest])`` where ``tail = encode_tail(rest)`` and
    ``tail_n = len(rest)``: byte for byte the same encoding, with ``rest`` pre-encoded."""
    n = len(fields) + tail_n
    if len(label) > 0xFFFF or n > 0xFFFF:
        raise ValueError("label or field list too long to encode")
    # One join over pre-bound packers: this runs several times per sealed object.
    parts = [_U16(len(label)), label, _U16(n)]
    for field in fields:
        parts.append(_U32(len(field)))
        parts.append(field)
    parts.append(tail)
    return b"".join(parts)
