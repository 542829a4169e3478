"""Exactly one executor per erasure request, across threads and processes.

``serve`` runs due erasures on a timer and an operator's cron may run ``callvault erasures
run-due`` at the same time, so two executors can find the same due request. The state in
``erasures.json`` alone cannot arbitrate: a request left ``running`` by a crash must be
resumable, so "running" cannot mean "someone is on it". A per-request ``flock`` can: it
is held for the whole execution, taken without waiting (a busy request is skipped, its
holder finishes it), and released by the kernel when the holder dies, so a crashed run's
request is free for the next ``run_due``. The holder re-reads the state after locking and
passes over a request that finished meanwhile, so each request runs once and gets one
receipt.

Each ``os.open`` is its own open file description, so two threads of one process exclude
each other as two processes do. A lock file is removed once its request is done: anyone who
opened it before then locks a dead inode and, re-reading the state, sees ``done``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path

from callvault.errors import InvalidRequest

__all__ = ["LOCKS_DIR", "ClaimLock", "claim_lock"]

LOCKS_DIR = "erasures.locks"
_ID = re.compile(r"er_[0-9a-f]{24}")


class ClaimLock:
    """A held claim: ``release_done`` removes the lock file of a finished request."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def release_done(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


@contextlib.contextmanager
def claim_lock(home: Path, erasure_id: str) -> Iterator[ClaimLock | None]:
    """The request's lock if free (``None`` if another executor holds it)."""
    if not _ID.fullmatch(erasure_id):
        raise InvalidRequest(f"malformed erasure id {erasure_id!r}")
    directory = home / LOCKS_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / f"{erasure_id}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        try:
            yield ClaimLock(path)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
