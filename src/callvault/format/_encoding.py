"""Length-prefixed canonical encoding shared by the header, the context and the wrap AAD.

Every variable field is preceded by its length, so two different field lists can never
encode to the same bytes (unlike string concatenation with separators).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

__all__ = ["encode_fields"]


def encode_fields(label: bytes, fields: Sequence[bytes]) -> bytes:
    """``u16(len(label)) || label || u16(n) || (u32(len(f)) || f)`` for each of the n fields."""
    parts = [struct.pack(">H", len(label)), label, struct.pack(">H", len(fields))]
    for field in fields:
        parts.append(struct.pack(">I", len(field)))
        parts.append(field)
    return b"".join(parts)
