"""A small JSON document on disk with durable atomic writes and cross-process locking.

Used for non-secret metadata (tenant directory, wrapped subject keys). Reads are served
from memory until the file changes.
"""

from __future__ import annotations

import contextlib
import json
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
        self._lock_path = path.with_name(path.name + ".lock")
        self._empty = empty
        self._lock = threading.Lock()
        self._cached: dict[str, Any] | None = None
        self._stamp: tuple[int, int, int] | None = None

    def read(self) -> dict[str, Any]:
        """The current document (do not mutate; use ``transaction``)."""
        stamp = self._stat()
        with self._lock:
            if self._cached is None or stamp != self._stamp:
                self._cached = self._load()
                self._stamp = stamp
            return self._cached

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
            self._cached = None

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            info = self._path.stat()
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
