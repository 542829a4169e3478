"""``LocalObjectStore``: sealed objects as files under one directory (the embedded default).

Layout: ``<root>/<tenant>/<class>/<object-id>``, directories 0700, files 0600. A write goes
to a uniquely named temporary file beside its target (``.<object-id>.<random>.tmp``; a
leading dot can never be a valid object id, so listings skip it), is fsynced, renamed over
the target and the directory fsynced. So a crash at any point leaves under the final name
either the previous complete object or the new complete one, and concurrent writers of one
key never tear it: each renames a complete file, and the last rename wins. A crash can
leave a temporary file behind (sealed bytes, never plaintext); ``remove_stale_temporaries``
sweeps them. Reads use ``os.pread``, so range reads touch only the bytes they need.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from callvault._atomic import fsync_dir
from callvault.errors import InvalidRequest
from callvault.storage.objects._base import (
    STREAM_BLOCK,
    ObjectInfo,
    ObjectStat,
    Source,
    iter_source,
)
from callvault.storage.objects._errors import ObjectNotFound, ObjectStoreError
from callvault.storage.objects._keys import check_key, check_prefix
from callvault.storage.objects._reader import ObjectReader

__all__ = ["LocalObjectReader", "LocalObjectStore"]

_DIR_MODE = 0o700
_FILE_MODE = 0o600
_TMP_SUFFIX = ".tmp"


class LocalObjectReader(ObjectReader):
    """An open object file: ``fileno`` lets callvault's range reader ``pread`` it directly."""

    def __init__(self, key: str, fd: int) -> None:
        super().__init__(key, os.fstat(fd).st_size)
        self._fd = fd

    def fileno(self) -> int:
        self._check_open()
        return self._fd

    def _fetch(self, offset: int, size: int) -> bytes:
        return os.pread(self._fd, size, offset)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


class LocalObjectStore:
    """Sealed objects in a local directory (see the module docstring for the guarantees)."""

    def __init__(self, root: Path) -> None:
        root = Path(root)
        try:
            root.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            info = root.lstat()
        except OSError as exc:
            raise ObjectStoreError(f"cannot use object store root {root}: {exc}") from None
        if not stat.S_ISDIR(info.st_mode):
            raise ObjectStoreError(f"object store root {root} is not a directory")
        if info.st_mode & 0o022:
            # Anyone else who can write here could replace or delete sealed objects, or
            # plant symlinks: refuse rather than trust such a directory.
            raise ObjectStoreError(f"object store root {root} is writable by group or others")
        self.root = root

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    # -- writing ----------------------------------------------------------------------

    def put_stream(self, key: str, chunks: Source) -> ObjectInfo:
        path = self._path(check_key(key))
        self._make_dirs(path.parent)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}{_TMP_SUFFIX}")
        digest = hashlib.sha256()
        size = 0
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, _FILE_MODE)
            with os.fdopen(fd, "wb") as handle:
                for piece in iter_source(chunks):
                    handle.write(piece)
                    digest.update(piece)
                    size += len(piece)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            fsync_dir(path.parent)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, OSError):
                raise ObjectStoreError(f"cannot store {key!r}: {exc.strerror}") from None
            raise
        return ObjectInfo(key, size, digest.hexdigest(), datetime.now(UTC))

    def delete(self, key: str) -> None:
        path = self._path(check_key(key))
        try:
            path.unlink()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise ObjectStoreError(f"cannot delete {key!r}: {exc.strerror}") from None
        fsync_dir(path.parent)

    def remove_stale_temporaries(self, older_than_seconds: float = 3600.0) -> int:
        """Delete temporary files left by crashed writers; returns how many. Only files
        older than the limit go, so a write in progress is never swept from under it."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for tmp in self.root.glob(f"*/*/.*{_TMP_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                if tmp.lstat().st_mtime < cutoff:
                    tmp.unlink()
                    removed += 1
        return removed

    # -- reading ----------------------------------------------------------------------

    def open_reader(self, key: str) -> LocalObjectReader:
        path = self._path(check_key(key))
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise ObjectStoreError(f"cannot open {key!r}: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ObjectStoreError(f"{key!r} is not a regular file")
        return LocalObjectReader(key, fd)

    def get_stream(self, key: str) -> Iterator[bytes]:
        reader = self.open_reader(key)
        return _stream(reader)

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def stat(self, key: str) -> ObjectStat:
        try:
            info = self._path(check_key(key)).lstat()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        if not stat.S_ISREG(info.st_mode):
            raise ObjectStoreError(f"{key!r} is not a regular file")
        return ObjectStat(key, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))

    def list(self, prefix: str = "") -> Iterator[str]:
        parts = check_prefix(prefix)
        base = self.root.joinpath(*parts)
        depth = 3 - len(parts)
        pattern = "/".join(["*"] * depth)
        found = []
        for path in base.glob(pattern):
            # Temporaries (dot files), symlinks and stray names are never objects.
            with contextlib.suppress(InvalidRequest, FileNotFoundError):
                if stat.S_ISREG(path.lstat().st_mode):
                    found.append(check_key(path.relative_to(self.root).as_posix()))
        return iter(sorted(found))

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _make_dirs(self, directory: Path) -> None:
        """Create the tenant and class directories (0700), each made durable in its parent."""
        missing = []
        while directory != self.root and not directory.exists():
            missing.append(directory)
            directory = directory.parent
        for path in reversed(missing):
            try:
                path.mkdir(mode=_DIR_MODE)
            except FileExistsError:
                continue
            except OSError as exc:
                raise ObjectStoreError(f"cannot create {path}: {exc.strerror}") from None
            fsync_dir(path.parent)


def _stream(reader: LocalObjectReader) -> Iterator[bytes]:
    with reader:
        offset = 0
        while block := reader.read_at(offset, STREAM_BLOCK):
            yield block
            offset += len(block)
