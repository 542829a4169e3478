"""``restore_backup``: a backup into an empty home, erasures re-applied, or nothing at all.

Steps (docs/backup.md, "Restore"): refuse a non-empty target and a backup of another
environment before writing a byte; in a private staging directory beside the target,
unwrap the DEK with the backup key (local KMS: the header's bootstrap keyring and the
operator's root key), unpack and check every member against the manifest; verify the
tombstone ledger and re-apply every tombstone; load the records and objects into the
stores the restored configuration names; and only then rename the staging directory into
place. Any failure removes the staging directory: nothing is written to the target.
(With PostgreSQL or S3 as the stores, rows and objects are written to them at the end,
after every check; they must be empty, and a failure at that point leaves them to clean.)
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callvault._atomic import atomic_write, fsync_dir
from callvault._ids import Environment
from callvault._vault import Vault
from callvault.auth._platform_keys import PlatformKey
from callvault.backup._apply import apply_tombstones
from callvault.backup._create import dek_fields
from callvault.backup._format import BACKUP_KEY_PURPOSE, BackupHeader
from callvault.backup._layout import local_keyring
from callvault.backup._restore_ledger import carry_ledger, find_ledger, receipt_public_key
from callvault.backup._spool import SPOOL_DIR, spool
from callvault.backup._stores import load_objects, load_records
from callvault.config import load_settings
from callvault.erasure._tombstones import verify_ledger
from callvault.errors import (
    BackupInvalid,
    ConfigError,
    EnvironmentMismatch,
    OpenError,
    RestoreRefused,
)
from callvault.keys import KeyMaterial
from callvault.keys.providers import ProviderSettings, WrappedKey, open_provider
from callvault.keys.providers._root_key import PASSPHRASE_SALT_FILE, ROOT_KEY_FILE

__all__ = ["RestoreSummary", "restore_backup"]


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    home: Path
    backup_id: str
    environment: str
    created_at: str
    objects: int
    records: dict[str, int]
    tombstones: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "home": str(self.home),
            "backup_id": self.backup_id,
            "environment": self.environment,
            "created_at": self.created_at,
            "objects": self.objects,
            "records": self.records,
            "tombstones_applied": self.tombstones,
        }


def restore_backup(
    source: Path,
    home: Path,
    environment: Environment,
    *,
    root_key_file: Path | None = None,
    tombstones: Path | None = None,
    accept_empty_ledger: bool = False,
) -> RestoreSummary:
    _check_empty(home)
    with source.open("rb") as src:
        header, context = BackupHeader.read_from(src.read)
        if header.environment is not environment:
            raise EnvironmentMismatch(
                f"the backup belongs to environment {header.environment.value!r}, not "
                f"{environment.value!r}; backups never cross environments (nothing restored)"
            )
        home.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = home.parent / f".{home.name}.restore-{secrets.token_hex(6)}"
        staging.mkdir(mode=0o700)
        try:
            summary = _restore_into(
                src,
                header,
                context,
                staging,
                home,
                environment,
                root_key_file,
                tombstones,
                accept_empty_ledger,
            )
            shutil.rmtree(staging / SPOOL_DIR, ignore_errors=True)
            os.rename(staging, home)  # replaces an empty directory too
            fsync_dir(home.parent)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return summary


def _restore_into(
    src: Any,
    header: BackupHeader,
    context: bytes,
    staging: Path,
    home: Path,
    environment: Environment,
    root_key_file: Path | None,
    tombstones: Path | None,
    accept_empty_ledger: bool,
) -> RestoreSummary:
    _bootstrap(staging, header, root_key_file)
    dek = _unwrap_dek(staging, header, environment)
    spooled = spool(src, dek.secret_bytes(), context, staging)
    settings = load_settings(staging)
    if settings.environment is not environment:
        raise EnvironmentMismatch(
            f"the restored configuration names environment {settings.environment.value!r} "
            f"(check CALLVAULT_ENVIRONMENT), not {environment.value!r}"
        )
    ledger_lines, ledger_source = find_ledger(
        staging,
        spooled,
        settings.backup.tombstones_path(home),
        tombstones,
        accept_empty_ledger,
    )
    vault = Vault.open_home(staging)
    bodies = verify_ledger(ledger_lines, receipt_public_key(staging), environment.value)
    applied = apply_tombstones(vault, staging, bodies)
    objects = load_objects(vault, staging, spooled)
    records = load_records(vault, staging, spooled, applied.deleted_rows)
    carry_ledger(staging, settings.backup.tombstones_dir, ledger_lines, ledger_source)
    return RestoreSummary(
        home,
        header.backup_id,
        environment.value,
        header.created_at.isoformat(),
        objects,
        records,
        applied.as_json(),
    )


def _check_empty(home: Path) -> None:
    if home.is_symlink() or (home.exists() and (not home.is_dir() or any(home.iterdir()))):
        raise RestoreRefused(f"{home} is not empty; restore only into a new or empty home")


def _bootstrap(staging: Path, header: BackupHeader, root_key_file: Path | None) -> None:
    """What the KMS needs before the body can be read: the operator's root key (as the
    home's ``root.key``), the passphrase salt and the header's bootstrap keyring."""
    if root_key_file is not None:
        atomic_write(staging / ROOT_KEY_FILE, root_key_file.read_bytes(), mode=0o600)
    if header.passphrase_salt:
        atomic_write(staging / PASSPHRASE_SALT_FILE, header.passphrase_salt, mode=0o600)
    relative = local_keyring(header.kms)
    if relative is not None:
        path = staging / relative
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(path, header.bootstrap_keyring, mode=0o600)


def _unwrap_dek(staging: Path, header: BackupHeader, environment: Environment) -> KeyMaterial:
    provider = open_provider(header.kms, ProviderSettings(staging, environment))
    platform = PlatformKey(provider, BACKUP_KEY_PURPOSE)
    if header.key_id != platform.key_id:
        raise BackupInvalid(f"the backup names key {header.key_id!r}, not {platform.key_id!r}")
    wrapped = WrappedKey(header.key_version, header.wrapped_dek)
    try:
        return platform.unwrap(wrapped, dek_fields(header.backup_id), "backup data key")
    except OpenError:
        raise BackupInvalid(
            "the backup's data key does not unwrap: corrupt or tampered header"
        ) from None
    except ConfigError as exc:  # the bootstrap keyring: wrong root key, or corrupted
        raise BackupInvalid(f"cannot open the backup's keyring: {exc}") from None
