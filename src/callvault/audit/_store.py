"""The audit log's files: an append-only log of framed sealed entries and a leaf index.

``audit/log.cvl`` is a sequence of frames ``u32 length || payload`` (payload: the sealed
entry, see ``AuditKeys.seal``). ``append`` writes one frame and ``fsync``s the file before
returning, so an entry is on disk before the action it records is acknowledged.
``audit/log.idx`` holds ``u64 end offset || leaf hash`` per entry for fast proofs; it is a
cache: written after the log and without fsync, because it can always be rebuilt from the
log. Appends from several processes serialise on ``audit/log.lock``.

Crash recovery (under the lock, before each append): complete frames the index does not yet
list are indexed; a torn final frame (a crash mid-write, never acknowledged) is cut off. A
log *shorter* than its index was truncated by someone: appending then fails closed.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from callvault._atomic import exclusive_lock
from callvault.audit._merkle import leaf_hash
from callvault.errors import ConfigError

__all__ = ["MAX_ENTRY_BYTES", "AuditStore", "Frames", "read_frames"]

MAX_ENTRY_BYTES = 64 * 1024
_LEN = struct.Struct(">I")
_INDEX = struct.Struct(">Q32s")


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
        if offset + _LEN.size > len(data):
            return Frames(payloads, ends, offset)
        (length,) = _LEN.unpack_from(data, offset)
        end = offset + _LEN.size + length
        if length > MAX_ENTRY_BYTES or end > len(data):
            return Frames(payloads, ends, offset)
        payloads.append(data[offset + _LEN.size : end])
        ends.append(end)
        offset = end
    return Frames(payloads, ends, None)


class AuditStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.log_path = directory / "log.cvl"
        self.index_path = directory / "log.idx"
        self.lock_path = directory / "log.lock"
        self._thread_lock = threading.Lock()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """This process's threads and other processes, one at a time."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._thread_lock, exclusive_lock(self.lock_path):
            yield

    def append(self, seal: Callable[[int], bytes]) -> tuple[int, bytes]:
        """Seal the next entry for its sequence number, write it durably; (seq, leaf hash).

        The caller must hold ``locked()``.
        """
        seq, _ = self._recover()
        payload = seal(seq)
        if len(payload) > MAX_ENTRY_BYTES:
            raise ConfigError("audit entry too large")
        created = not self.log_path.exists()
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            frame = _LEN.pack(len(payload)) + payload
            if os.write(fd, frame) != len(frame):
                raise OSError("short write to the audit log")
            os.fsync(fd)
            end = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.directory)
        leaf = leaf_hash(payload)
        with open(self.index_path, "ab") as index:
            index.write(_INDEX.pack(end, leaf))
        return seq, leaf

    def leaf_hashes(self) -> list[bytes]:
        """Leaf hashes of every indexed entry (run ``recover`` first for the latest)."""
        return [leaf for _, leaf in self._index()]

    def recover(self) -> int:
        """Index any unindexed complete frames, cut a torn tail; the entry count."""
        with self.locked():
            return self._recover()[0]

    def read_log(self) -> bytes:
        try:
            return self.log_path.read_bytes()
        except FileNotFoundError:
            return b""

    def _index_tail(self) -> tuple[int, int]:
        """(entries indexed, end offset of the last); a torn index record is cut off."""
        try:
            handle = open(self.index_path, "r+b")  # noqa: SIM115
        except FileNotFoundError:
            return 0, 0
        with handle:
            size = os.fstat(handle.fileno()).st_size
            count = size // _INDEX.size
            if size != count * _INDEX.size:
                handle.truncate(count * _INDEX.size)
            if count == 0:
                return 0, 0
            handle.seek((count - 1) * _INDEX.size)
            end, _ = _INDEX.unpack(handle.read(_INDEX.size))
            return count, int(end)

    def _index(self) -> list[tuple[int, bytes]]:
        try:
            raw = self.index_path.read_bytes()
        except FileNotFoundError:
            return []
        usable = len(raw) - len(raw) % _INDEX.size
        return [_INDEX.unpack_from(raw, i) for i in range(0, usable, _INDEX.size)]

    def _recover(self) -> tuple[int, int]:
        # O(1) in the log's length: the index's size and its last record, not its content.
        count, last_end = self._index_tail()
        size = self.log_path.stat().st_size if self.log_path.exists() else 0
        if size < last_end:
            raise ConfigError(
                "the audit log is shorter than its index: it was truncated; "
                "run `callvault audit verify`"
            )
        if size == last_end:
            return count, size
        with open(self.log_path, "rb") as handle:
            handle.seek(last_end)
            frames = read_frames(handle.read())
        ends = [last_end + e for e in frames.ends]
        with open(self.index_path, "ab") as out:
            for payload, end in zip(frames.payloads, ends, strict=True):
                out.write(_INDEX.pack(end, leaf_hash(payload)))
        good_end = ends[-1] if ends else last_end
        if frames.torn_at is not None:
            with open(self.log_path, "r+b") as handle:
                handle.truncate(good_end)
                os.fsync(handle.fileno())
        return count + len(frames.payloads), good_end


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
