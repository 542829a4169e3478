"""``create_backup``: one home's records, objects and key metadata, sealed into one file.

Order is what makes the backup *consistent* (docs/backup.md): records first (one database
snapshot), then objects, then the home's files (key metadata) **last**. Keys are only ever
added (new tenants, subject keys, master-key versions) or tombstoned, never taken back, so
key metadata read after the data covers every key any backed-up object or row was sealed
under. Each home file is replaced atomically by its writers, so reading it once gives one
complete version. Objects deleted while the backup runs are skipped.

The body is sealed under a fresh DEK from the environment's backup key (the platform master
key ``<env>/platform/backup``), written to a 0600 temporary file beside ``out`` and renamed
into place only when complete.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from callvault._atomic import atomic_file
from callvault._vault import Vault
from callvault.auth._platform_keys import PlatformKey
from callvault.backup._archive import ArchiveWriter
from callvault.backup._format import BACKUP_KEY_PURPOSE, BackupHeader
from callvault.backup._layout import HOME, OBJECTS, RECORDS, home_files, local_keyring
from callvault.backup._records import dump_tables
from callvault.erasure._receipts import ReceiptKey
from callvault.erasure._tombstones import ledger_for
from callvault.keys.providers._root_key import PASSPHRASE_SALT_FILE
from callvault.storage.objects import ObjectNotFound, ObjectReader, ObjectStore

__all__ = ["BackupSummary", "create_backup", "dek_fields"]

Progress = Callable[[int], None]
_BLOCK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BackupSummary:
    path: Path
    backup_id: str
    environment: str
    key_id: str
    key_version: int
    created_at: datetime
    members: int
    objects: int
    records: dict[str, int]
    bytes: int
    ledger: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "backup_id": self.backup_id,
            "environment": self.environment,
            "backup_key": {"key_id": self.key_id, "version": self.key_version},
            "created_at": self.created_at.isoformat(),
            "members": self.members,
            "objects": self.objects,
            "records": self.records,
            "bytes": self.bytes,
            "tombstone_ledger": self.ledger,
        }


def dek_fields(backup_id: str) -> list[bytes]:
    """What the backup DEK's wrap is bound to (with the purpose ``backup``)."""
    return [b"backup-dek", backup_id.encode()]


def create_backup(
    vault: Vault,
    out: Path,
    objects: ObjectStore,
    *,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackupSummary:
    home = vault.home
    # Both must exist before the key metadata is read, so that every later tombstone is
    # signed by a key this backup knows and lands in a ledger whose head it records.
    signer = ReceiptKey(home, vault.provider)
    signer.public_key()
    ledger = ledger_for(vault)
    head = ledger.ensure(signer, vault)

    backup_id = secrets.token_hex(16)
    platform = PlatformKey(vault.provider, BACKUP_KEY_PURPOSE)
    dek, wrapped = platform.generate(dek_fields(backup_id), "backup data key")
    keyring = local_keyring(vault.settings.kms)
    salt = home / PASSPHRASE_SALT_FILE
    header = BackupHeader(
        environment=vault.environment,
        kms=vault.settings.kms,
        key_id=platform.key_id,
        key_version=wrapped.version,
        wrapped_dek=wrapped.blob,
        created_at=clock(),
        backup_id=backup_id,
        bootstrap_keyring=(home / keyring).read_bytes() if keyring is not None else b"",
        passphrase_salt=salt.read_bytes() if salt.is_file() else b"",
    )
    context = header.encode()
    counts: dict[str, int] = {}
    with atomic_file(out, mode=0o600) as handle:
        handle.write(context)
        writer = ArchiveWriter(handle, dek.secret_bytes(), context)
        for table, lines in dump_tables(
            home, vault.settings.storage.records_url, lambda: [t.id for t in vault.tenants.list()]
        ):
            counts[table] = 0
            writer.add(RECORDS + table, _counting(lines, counts, table, progress))
        n_objects = 0
        for key in objects.list(""):
            try:
                reader = objects.open_reader(key)  # pins one version of the object
            except ObjectNotFound:
                continue  # deleted since it was listed: not part of this backup
            with reader:
                writer.add(OBJECTS + key, _object_pieces(reader, progress))
            n_objects += 1
        for relative in home_files(home, {out, ledger.directory}):
            try:
                source = (home / relative).open("rb")
            except FileNotFoundError:
                continue  # removed since the walk (a finished job's state file)
            with source:
                writer.add(HOME + relative, _file_pieces(source, progress))
        writer.finish({"backup_id": backup_id, "tombstone_ledger": head.as_json()})
        size = handle.tell()
    return BackupSummary(
        out,
        backup_id,
        vault.environment.value,
        platform.key_id,
        wrapped.version,
        header.created_at,
        len(writer.members),
        n_objects,
        counts,
        size,
        head.as_json(),
    )


def _counting(
    lines: Iterator[bytes], counts: dict[str, int], table: str, progress: Progress | None
) -> Iterator[bytes]:
    for piece in lines:
        counts[table] += piece.count(b"\n")
        if progress is not None:
            progress(len(piece))
        yield piece


def _object_pieces(reader: ObjectReader, progress: Progress | None) -> Iterator[bytes]:
    for offset in range(0, reader.size, _BLOCK):
        piece = reader.read_at(offset, _BLOCK)
        if progress is not None:
            progress(len(piece))
        yield piece


def _file_pieces(handle: BinaryIO, progress: Progress | None) -> Iterator[bytes]:
    while piece := handle.read(_BLOCK):
        if progress is not None:
            progress(len(piece))
        yield piece
