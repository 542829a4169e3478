"""What of a home goes into a backup, and under which member names.

Members are ``records/<table>`` (JSON lines), ``objects/<tenant>/<class>/<id>`` (the sealed
bytes as stored) and ``home/<path>`` (every other file of the home: configuration, tenant
directory, managed keys, the local keyring as stored, signing-key and API-key stores,
erasure requests and receipts, …). A home file is left out when it is:

* ``root.key``: the root key never travels with what it protects; the operator supplies it;
* ``records.db`` (and its journals) and ``objects/``: taken through their stores instead;
* ``audit/``: an append-only ledger like the tombstones; a restore must never roll it back;
* the tombstone directory (when inside the home): the whole point is that it stays apart;
* ``tls/``: private keys of the local CA and serving certificate; ``serve`` issues fresh
  ones (short-lived by design) rather than carrying keys in every backup;
* lock files and temporary files (``*.lock``, ``.*.tmp``), and the output file itself.

Symlinks and other non-regular files are skipped (never followed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from callvault.errors import ConfigError

__all__ = [
    "EXCLUDED_TOP",
    "HOME",
    "OBJECTS",
    "RECORDS",
    "home_files",
    "local_keyring",
]

HOME, OBJECTS, RECORDS = "home/", "objects/", "records/"
EXCLUDED_TOP = frozenset({"root.key", "objects", "audit", "tls"})
_RECORDS_FILES = ("records.db", "records.db-journal", "records.db-wal", "records.db-shm")


def local_keyring(kms: str) -> PurePosixPath | None:
    """The local KMS keyring's path relative to the home; None for other providers."""
    parts = urlsplit(kms)
    if parts.scheme != "local":
        return None
    relative = PurePosixPath((parts.netloc + parts.path).strip("/") or "keys/keyring.cvkr")
    if kms.startswith("local:///") or ".." in relative.parts:
        raise ConfigError("backup needs the local keyring inside the home (kms = local://…)")
    return relative


def home_files(home: Path, exclude: set[Path]) -> Iterator[str]:
    """Relative POSIX paths of the home's files that belong in a backup, sorted."""
    skip = {p.resolve() for p in exclude}
    found: list[str] = []
    for directory, dirs, files in os.walk(home, followlinks=False):
        here = Path(directory)
        relative_dir = here.relative_to(home)
        dirs[:] = sorted(
            d
            for d in dirs
            if not (relative_dir == Path(".") and d in EXCLUDED_TOP)
            and (here / d).resolve() not in skip
        )
        for name in files:
            path = here / name
            if _excluded(relative_dir, name) or path.resolve() in skip:
                continue
            if not path.is_file() or path.is_symlink():
                continue
            found.append((relative_dir / name).as_posix())
    return iter(sorted(found))


def _excluded(relative_dir: Path, name: str) -> bool:
    if name.endswith(".lock") or (name.startswith(".") and name.endswith(".tmp")):
        return True
    top = relative_dir == Path(".")
    return top and (name in EXCLUDED_TOP or name in _RECORDS_FILES)
