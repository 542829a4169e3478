"""The audit log's open file descriptors and its inter-process lock.

Opening the log, its index and its lock file for every append costs more than the append's
own write. ``OpenFiles`` keeps the three descriptors open for the process's lifetime and
notices when a path no longer names the file a descriptor refers to (replaced, deleted and
recreated), by comparing inode numbers, so it never writes into or locks an orphan file.

Not thread-safe by itself: ``AuditStore`` uses it only from the one thread that holds the
group commit (a batch's leader, or ``locked()``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from callvault._atomic import fsync_dir

__all__ = ["OpenFiles", "inode_size"]

_WRITE = os.O_WRONLY | os.O_APPEND | os.O_CREAT


class OpenFiles:
    def __init__(self, directory: Path, log_path: Path, index_path: Path, lock: Path) -> None:
        self._directory = directory
        self._log_path = log_path
        self._index_path = index_path
        self._lock_path = lock
        self._lock_fd: int | None = None
        self._log_fd: int | None = None
        self._index_fd: int | None = None
        self._pid = os.getpid()

    @contextlib.contextmanager
    def flock(self) -> Iterator[None]:
        """Exclusive across processes (``flock`` on ``log.lock``), held for the block."""
        fd = self._locked_fd()
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    @property
    def is_open(self) -> bool:
        return self._log_fd is not None

    def open(self) -> None:
        """Open (creating if need be) the log and the index for appending."""
        if self._log_fd is not None and self._index_fd is not None:
            return
        self.close()
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        created = not self._log_path.exists()
        self._log_fd = os.open(self._log_path, _WRITE, 0o600)
        self._index_fd = os.open(self._index_path, _WRITE, 0o600)
        if created:  # the new file's name must survive a crash too
            fsync_dir(self._directory)

    def fds(self) -> tuple[int, int]:
        if self._log_fd is None or self._index_fd is None:
            raise RuntimeError("audit files are not open")
        return self._log_fd, self._index_fd

    def reopen_if_replaced(self) -> None:
        """Reopen when a path names another file than the descriptor (or none at all)."""
        log_fd, index_fd = self.fds()
        if not (_same(log_fd, self._log_path) and _same(index_fd, self._index_path)):
            self.close()
            self.open()

    def close(self) -> None:
        """Close the log and the index (not the lock, which may be held)."""
        for fd in (self._log_fd, self._index_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._log_fd = self._index_fd = None

    def _locked_fd(self) -> int:
        if self._pid != os.getpid():
            # A forked child shares the parent's open lock file description, so its flock
            # would not exclude the parent: open its own. Closing (never unlocking) our
            # copies leaves the parent's lock and files alone.
            for fd in (self._lock_fd, self._log_fd, self._index_fd):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._lock_fd = self._log_fd = self._index_fd = None
            self._pid = os.getpid()
        while True:
            if self._lock_fd is None:
                self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            fd = self._lock_fd
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _same(fd, self._lock_path):
                return fd
            # Another process locks the file now at that path: ours is an orphan.
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            self._lock_fd = None


def inode_size(path: str) -> tuple[int, int]:
    """(inode, size) of ``path``; (-1, -1) if it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return -1, -1
    return st.st_ino, st.st_size


def _same(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
