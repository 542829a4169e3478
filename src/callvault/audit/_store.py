"""The audit log's files: an append-only log of framed sealed entries and a leaf index.

``audit/log.cvl`` is a sequence of frames ``u32 length || payload`` (payload: the sealed
entry, see ``AuditKeys.seal``). ``append`` returns only after the frame was written and the
file ``fsync``ed, so an entry is on disk before the action it records is acknowledged.
``audit/log.idx`` holds ``u64 end offset || leaf hash`` per entry for fast proofs; it is a
cache: written after the log and without fsync, because it can always be rebuilt from the
log. Appends from several processes serialise on ``audit/log.lock``.

Fast path: the files stay open (``_files``) and threads appending at once share one
``fsync`` (``_commit``): the batch's leader takes the file lock, seals each entry for the
next sequence number, writes every frame with one ``write`` and ``fsync``s once.

Crash recovery (under the lock, before a batch) runs only when the files are not as this
process left them (inode or size of the log or index changed: another process appended, or
crashed mid-write): complete frames the index does not yet list are indexed; a torn final
frame (a crash mid-write, never acknowledged) is cut off. A log *shorter* than its index
was truncated by someone: appending then fails closed.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from callvault.audit._commit import GroupCommit
from callvault.audit._files import OpenFiles as _OpenFiles
from callvault.audit._files import inode_size
from callvault.audit._frames import (
    FRAME_LEN,
    INDEX_RECORD,
    MAX_ENTRY_BYTES,
    Frames,
    read_frames,
)
from callvault.audit._merkle import leaf_hash
from callvault.errors import AuditUnavailable, ConfigError, InvalidRequest

__all__ = ["MAX_ENTRY_BYTES", "AuditStore", "Frames", "Seal", "read_frames"]

_Seen = tuple[int, int, int, int]
"""(log inode, log size, index inode, index size); -1 for a missing file."""
Seal = Callable[[int], bytes]
"""Seals an entry for the sequence number it gets: ``seq -> payload``."""

_LEN, _INDEX = FRAME_LEN, INDEX_RECORD


class AuditStore:
    """The log's files, kept open between appends; see the module docstring."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.log_path = directory / "log.cvl"
        self.index_path = directory / "log.idx"
        self._paths = (str(self.log_path), str(self.index_path))  # os.stat on str: cheaper
        self.lock_path = directory / "log.lock"
        self._commit: GroupCommit[Seal, tuple[int, bytes]] = GroupCommit(self._write_batch)
        # Touched only while holding the file lock (a batch or ``locked()``):
        self._files = _OpenFiles(directory, self.log_path, self.index_path, self.lock_path)
        self._seen: _Seen | None = None
        """(log inode, log size, index inode, index size) after this process's last write
        or recovery: the same again means no other process appended meanwhile."""
        self._count = 0
        self.batches = 0
        """Batches this process made durable (one ``fsync`` each): entries / batches is the
        group commit's sharing factor, reported by the bench."""

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """This process's threads and other processes, one at a time."""
        with self._commit.exclusive(), self._files.flock():
            yield

    def append(self, seal: Seal) -> tuple[int, bytes]:
        """Seal the next entry for its sequence number, write it durably; (seq, leaf hash).

        Concurrent calls share one ``fsync`` (group commit); each returns once its own
        entry is durable. Any failure raises ``AuditUnavailable``, chained to the cause.
        """
        outcome = self._commit.submit(seal)
        if isinstance(outcome, BaseException):
            raise AuditUnavailable(f"the audit log cannot take an entry: {_why(outcome)}") from (
                outcome
            )
        return outcome

    def leaf_hashes(self) -> list[bytes]:
        """Leaf hashes of every indexed entry (run ``recover`` first for the latest)."""
        return [leaf for _, leaf in self._index()]

    def recover(self) -> int:
        """Index any unindexed complete frames, cut a torn tail; the entry count."""
        with self.locked():
            if not self._files.is_open:  # reading only: create nothing
                return self._recover()[0]
            return self._refresh()[0]

    def read_log(self, start: int = 0) -> bytes:
        """The log's bytes from entry ``start`` on (found through the index: a page of a
        long log does not read, let alone decrypt, the entries before it)."""
        offset = self._offset_of(start) if start else 0
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(offset)
                return handle.read()
        except FileNotFoundError:
            return b""

    def _offset_of(self, seq: int) -> int:
        """Byte offset where entry ``seq`` starts: the end of entry ``seq - 1``."""
        try:
            with open(self.index_path, "rb") as handle:
                handle.seek((seq - 1) * _INDEX.size)
                record = handle.read(_INDEX.size)
        except FileNotFoundError:
            record = b""
        if len(record) != _INDEX.size:
            raise InvalidRequest(f"the audit log has no entry {seq}")
        end, _ = _INDEX.unpack(record)
        return int(end)

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

    # -- writing a batch (the group commit's leader, see _commit) -----------------------

    def _write_batch(self, seals: list[Seal]) -> list[tuple[int, bytes] | BaseException]:
        """Seal, write and ``fsync`` a batch of entries under the file lock, in order."""
        with self._files.flock():
            try:
                count, seen = self._refresh()
                outcomes: list[tuple[int, bytes] | BaseException] = []
                frames: list[bytes] = []
                leaves: list[bytes] = []
                for seal in seals:
                    try:
                        payload = seal(count + len(frames))
                        if len(payload) > MAX_ENTRY_BYTES:
                            raise ConfigError("audit entry too large")
                    except Exception as exc:  # this entry fails, its number is not used
                        outcomes.append(exc)
                        continue
                    leaves.append(leaf_hash(payload))
                    outcomes.append((count + len(frames), leaves[-1]))
                    frames.append(_LEN.pack(len(payload)) + payload)
                if frames:
                    self._write_durably(seen, count, frames, leaves)
                return outcomes
            except BaseException:
                self._forget()  # state unknown: reopen and recover before the next write
                raise

    def _write_durably(
        self,
        seen: _Seen,
        count: int,
        frames: list[bytes],
        leaves: list[bytes],
    ) -> None:
        """One ``write`` of every frame, one ``fsync``, then the index records (a cache)."""
        log_ino, end, index_ino, index_size = seen
        data = b"".join(frames)
        log_fd, index_fd = self._files.fds()
        try:
            if os.write(log_fd, data) != len(data):
                raise OSError(errno.EIO, "short write to the audit log")
            os.fsync(log_fd)
        except BaseException:
            # Not acknowledged: take the frames back out if we can, so an entry whose
            # action was refused does not stay in the log (else recovery keeps or cuts it).
            with contextlib.suppress(OSError):
                os.ftruncate(log_fd, end)
            raise
        self.batches += 1
        records = []
        for frame, leaf in zip(frames, leaves, strict=True):
            end += len(frame)
            records.append(_INDEX.pack(end, leaf))
        self._count = count + len(frames)
        index = b"".join(records)
        try:  # the index is a cache: a failure here only costs a recovery next time
            if os.write(index_fd, index) != len(index):
                raise OSError(errno.EIO, "short write to the audit index")
        except OSError:
            self._forget()
            return
        # Both files are O_APPEND and we hold the lock: their new sizes are known exactly.
        self._seen = (log_ino, end, index_ino, index_size + len(index))

    def _refresh(self) -> tuple[int, _Seen]:
        """(entries, files now); recovers only if the files changed since we last saw them."""
        self._files.open()
        seen = self._stat()
        if seen == self._seen:
            return self._count, seen
        self._files.reopen_if_replaced()
        count, _ = self._recover()
        self._seen, self._count = self._stat(), count
        return count, self._seen

    def _stat(self) -> _Seen:
        """Inode and size of the log and the index; -1 for a missing file."""
        log, index = inode_size(self._paths[0]), inode_size(self._paths[1])
        return log[0], log[1], index[0], index[1]

    def _forget(self) -> None:
        self._seen = None
        self._files.close()


def _why(exc: BaseException) -> str:
    """A failure's kind and, for our own and the OS's errors, their text (which never holds
    entry contents: the store sees only sealed payloads and never puts them in messages)."""
    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return type(exc).__name__
