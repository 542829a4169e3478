"""Length-prefixed canonical encoding shared by the header, the context and the wrap AAD.

Every variable field is preceded by its length, so two different field lists can never
encode to the same bytes (unlike string concatenation with separators).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

__all__ = ["encode_fields"]

_U16 = struct.Struct(">H").pack
_U32 = struct.Struct(">I").pack


def encode_fields(label: bytes, fields: Sequence[bytes]) -> bytes:
    """``u16(len(label)) || label || u16(n) || (u32(len(f)) || f)`` for each of the n fields."""
    if len(label) > 0xFFFF or len(fields) > 0xFFFF:
        raise ValueError("label or field list too long to encode")
    # One join over pre-bound packers: this runs several times per sealed object.
    parts = [_U16(len(label)), label, _U16(len(fields))]
    for field in fields:
        parts.append(_U32(len(field)))  # struct.error past 4 GiB: nothing that large
        parts.append(field)
    return b"".join(parts)
