"""The rewrap job's checkpoint file and its one-job-per-home lock.

The checkpoint (``keys/rewrap-state.json``, written atomically after every batch) names the
last *completed* batch: the stream it belongs to (``managed``, ``objects:<tenant>``,
``transcripts:<tenant>``, ``analytics:<tenant>``) and the last item key in it, plus the
counts so far. A rerun after a crash resumes right after it. Items of the batch that was
cut short are simply met again: they are at the primary version already, so they are
counted as current and not wrapped a second time (the job is idempotent; the checkpoint
only saves re-reading what is done).

A checkpoint applies only to the same scope (``--tenant``) and the same primary versions:
after another rotation, items before the cursor may be behind again, so the walk restarts.
It is deleted when a run completes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callvault._atomic import atomic_write
from callvault.errors import ConfigError, InvalidRequest

__all__ = ["LOCK_FILE", "STATE_FILE", "Checkpoint", "RewrapInProgress", "job_lock"]

STATE_FILE = Path("keys") / "rewrap-state.json"
LOCK_FILE = Path("keys") / "rewrap.lock"
_FORMAT = "callvault-rewrap-state/v1"


class RewrapInProgress(InvalidRequest):
    """Another rewrap job holds this home's lock."""


@contextlib.contextmanager
def job_lock(home: Path) -> Iterator[None]:
    """Hold the home's rewrap lock, or raise ``RewrapInProgress`` at once. The kernel drops
    a ``flock`` when its holder dies, so a killed job never leaves the lock behind."""
    path = home / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RewrapInProgress("another `callvault keys rewrap` is running") from None
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    scope: str
    """The tenant the job covers, ``*`` for all."""
    primaries: Mapping[str, int]
    stream: str
    after: str
    counts: Mapping[str, int]

    def applies_to(self, scope: str, primaries: Mapping[str, int]) -> bool:
        return self.scope == scope and dict(self.primaries) == dict(primaries)

    @classmethod
    def load(cls, home: Path) -> Checkpoint | None:
        try:
            data: Any = json.loads((home / STATE_FILE).read_bytes())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise ConfigError(f"{home / STATE_FILE} is corrupted ({exc}); delete it") from None
        try:
            if data["format"] != _FORMAT:
                raise ValueError("unknown format")
            return cls(
                scope=str(data["scope"]),
                primaries={str(k): int(v) for k, v in data["primaries"].items()},
                stream=str(data["stream"]),
                after=str(data["after"]),
                counts={str(k): int(v) for k, v in data["counts"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{home / STATE_FILE} is malformed ({exc}); delete it") from None

    def save(self, home: Path) -> None:
        document = {
            "format": _FORMAT,
            "scope": self.scope,
            "primaries": dict(self.primaries),
            "stream": self.stream,
            "after": self.after,
            "counts": dict(self.counts),
            "updated_at": datetime.now(UTC).isoformat(),
        }
        path = home / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, json.dumps(document, indent=1, sort_keys=True).encode() + b"\n")

    @staticmethod
    def clear(home: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            (home / STATE_FILE).unlink()
