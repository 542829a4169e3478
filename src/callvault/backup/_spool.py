"""Unpacking a backup body into a private staging directory, checked against its manifest.

Nothing here is final: members land in the staging directory (home files in place, objects
and records in ``.restore/``), each hashed as it is written, and only when the stream has
ended cleanly and every member matches the manifest (names, order, sizes, SHA-256) does the
caller go on. Every name was checked by ``check_name`` and is mapped below the staging
directory only; a home member that names a file a backup never holds is refused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from callvault.backup._archive import MANIFEST, ArchiveReader, Member
from callvault.backup._layout import EXCLUDED_TOP, HOME, OBJECTS, RECORDS
from callvault.backup._records import TABLES
from callvault.errors import BackupInvalid, InvalidRequest
from callvault.storage.objects import check_key

__all__ = ["SPOOL_DIR", "Spooled", "spool"]

SPOOL_DIR = ".restore"


@dataclass(slots=True)
class Spooled:
    manifest: dict[str, Any]
    objects: list[str] = field(default_factory=list)
    """Object keys, in backup order; their bytes are in ``<staging>/.restore/objects/``."""
    tables: list[str] = field(default_factory=list)

    @staticmethod
    def object_path(staging: Path, key: str) -> Path:
        return staging / SPOOL_DIR / "objects" / key

    @staticmethod
    def table_path(staging: Path, table: str) -> Path:
        return staging / SPOOL_DIR / "records" / f"{table}.jsonl"


def spool(src: BinaryIO, dek: bytes, context: bytes, staging: Path) -> Spooled:
    reader = ArchiveReader(src, dek, context)
    seen: list[Member] = []
    names: set[str] = set()
    objects: list[str] = []
    tables: list[str] = []
    manifest: dict[str, Any] | None = None
    for kind, name, pieces in reader.members():
        if kind == MANIFEST:
            manifest = reader.manifest(pieces)
            break
        if name in names:
            raise BackupInvalid(f"member {name!r} appears twice")
        names.add(name)
        target = _target(staging, name, objects, tables)
        seen.append(_write(target, name, pieces))
    reader.finish()
    if manifest is None or manifest.get("members") != [m.as_json() for m in seen]:
        raise BackupInvalid("the backup's members do not match its manifest")
    return Spooled(manifest, objects, tables)


def _target(staging: Path, name: str, objects: list[str], tables: list[str]) -> Path:
    if name.startswith(OBJECTS):
        key = name.removeprefix(OBJECTS)
        try:
            check_key(key)
        except InvalidRequest:
            raise BackupInvalid(f"invalid object key in the backup: {key[:80]!r}") from None
        objects.append(key)
        return Spooled.object_path(staging, key)
    if name.startswith(RECORDS):
        table = name.removeprefix(RECORDS)
        if table not in TABLES:
            raise BackupInvalid(f"unknown records table in the backup: {table[:80]!r}")
        tables.append(table)
        return Spooled.table_path(staging, table)
    if name.startswith(HOME):
        relative = name.removeprefix(HOME)
        top = relative.split("/", 1)[0]
        if top in EXCLUDED_TOP or top == SPOOL_DIR or top.startswith("records.db"):
            raise BackupInvalid(f"a backup never holds {relative[:80]!r}")
        return staging / relative
    raise BackupInvalid(f"unknown member {name[:80]!r}")


def _write(target: Path, name: str, pieces: Iterator[bytes]) -> Member:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for piece in pieces:
            digest.update(piece)
            size += len(piece)
            handle.write(piece)
    return Member(name, size, digest.hexdigest())
