"""The log's byte layout: frames ``u32 length || payload`` and index records.

Kept apart from ``AuditStore`` because readers (``verify``, export, tests) parse frames
without the store's locks and open files. A frame longer than ``MAX_ENTRY_BYTES`` or cut
short marks where the readable log ends (``torn_at``): a crash mid-write, or damage.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["FRAME_LEN", "INDEX_RECORD", "MAX_ENTRY_BYTES", "Frames", "read_frames"]

MAX_ENTRY_BYTES = 64 * 1024
FRAME_LEN = struct.Struct(">I")
INDEX_RECORD = struct.Struct(">Q32s")
"""``u64 end offset || leaf hash``, one per entry in ``log.idx``."""


@dataclass(frozen=True, slots=True)
class Frames:
    payloads: list[bytes]
    ends: list[int]
    torn_at: int | None
    """Byte offset of an incomplete final frame, if any."""


def read_frames(data: bytes, start: int = 0) -> Frames:
    payloads: list[bytes] = []
    ends: list[int] = []
    offset = start
    while offset < len(data):
        if offset + FRAME_LEN.size > len(data):
            return Frames(payloads, ends, offset)
        (length,) = FRAME_LEN.unpack_from(data, offset)
        end = offset + FRAME_LEN.size + length
        if length > MAX_ENTRY_BYTES or end > len(data):
            return Frames(payloads, ends, offset)
        payloads.append(data[offset + FRAME_LEN.size : end])
        ends.append(end)
        offset = end
    return Frames(payloads, ends, None)
