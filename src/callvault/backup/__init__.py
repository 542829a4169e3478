"""Encrypted backups, and the tombstone ledger that keeps erasures effective across them.

``create_backup(vault, out, objects)`` writes one file: a header (environment, backup key,
wrapped DEK, bootstrap keyring) and a Cobblestone-256 body of records, objects and key
metadata under a fresh DEK from the environment's backup key ``<env>/platform/backup``.
``restore_backup(path, home, environment, …)`` rebuilds a home from it into an empty
directory, re-applying every tombstone written since (``record_tombstone``, called by an
erasure before it destroys keys). The format and procedure are in docs/backup.md.
"""

from callvault.backup._create import BackupSummary, create_backup
from callvault.backup._format import BACKUP_KEY_PURPOSE, BackupHeader
from callvault.backup._restore import RestoreSummary, restore_backup
from callvault.erasure import (
    LEDGER_FILE,
    TOMBSTONE_FORMAT,
    LedgerHead,
    TombstoneLedger,
    ledger_for,
    record_tombstone,
    verify_ledger,
)
from callvault.errors import BackupInvalid, RestoreRefused

__all__ = [
    "BACKUP_KEY_PURPOSE",
    "LEDGER_FILE",
    "TOMBSTONE_FORMAT",
    "BackupHeader",
    "BackupInvalid",
    "BackupSummary",
    "LedgerHead",
    "RestoreRefused",
    "RestoreSummary",
    "TombstoneLedger",
    "create_backup",
    "ledger_for",
    "record_tombstone",
    "restore_backup",
    "verify_ledger",
]
