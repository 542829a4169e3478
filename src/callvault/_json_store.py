"""A small JSON document on disk with durable atomic writes and cross-process locking.

Used for non-secret metadata (tenant directory, wrapped subject keys). Reads are served
from memory until the file changes.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from callvault._atomic import atomic_write, exclusive_lock
from callvault.errors import ConfigError

__all__ = ["JsonStore"]


class JsonStore:
    def __init__(self, path: Path, empty: Callable[[], dict[str, Any]]) -> None:
        self._path = path
        self._path_str = str(path)  # os.stat(str): no pathlib conversion per read
        self._lock_path = path.with_name(path.name + ".lock")
        self._empty = empty
        self._lock = threading.Lock()
        # (stamp, document) replaced as a whole, so a read that finds the stamp unchanged
        # needs no lock (every seal reads the tenant directory); the lock orders reloads.
        self._snapshot: tuple[tuple[int, int, int] | None, dict[str, Any]] | None = None

    def read(self) -> dict[str, Any]:
        """The current document (do not mutate; use ``transaction``)."""
        stamp = self._stat()
        snapshot = self._snapshot
        if snapshot is not None and snapshot[0] == stamp:
            return snapshot[1]
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or snapshot[0] != stamp:
                snapshot = self._snapshot = (stamp, self._load())
            return snapshot[1]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self._lock_path):
            document = self._load()
            yield document
            atomic_write(
                self._path, json.dumps(document, sort_keys=True, indent=1).encode() + b"\n"
            )
        with self._lock:
            self._snapshot = None

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            info = os.stat(self._path_str)
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _load(self) -> dict[str, Any]:
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return self._empty()
        try:
            document: dict[str, Any] = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{self._path} is corrupted: {exc.msg}") from None
        return document
