"""The restore's side of the tombstone ledger: find it, check it belongs to the backup,
read the key that signed it, and carry it on into the restored home (docs/backup.md).

Fail closed: no ledger, a ledger shorter than the head the backup recorded, or another
home's ledger, and the restore is refused (``--accept-empty-ledger`` is the one explicit
exception, for a first-ever restore).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from callvault._atomic import atomic_write
from callvault.backup._spool import Spooled
from callvault.erasure._receipts import RECEIPT_KEY_FILE, load_public_key
from callvault.erasure._tombstones import LEDGER_FILE, TombstoneLedger
from callvault.errors import BackupInvalid, RestoreRefused

__all__ = ["carry_ledger", "find_ledger", "receipt_public_key"]


def find_ledger(
    staging: Path,
    spooled: Spooled,
    configured: Path,
    given: Path | None,
    accept_empty: bool,
) -> tuple[list[bytes], Path | None]:
    """The ledger's lines (and its file), or refuse: fail closed without a ledger."""
    directory = (
        given
        if given is not None
        else (
            configured
            if configured.is_absolute() and not configured.is_relative_to(staging)
            else None
        )
    )
    ledger = TombstoneLedger(directory) if directory is not None else None
    if ledger is None or not ledger.exists():
        if not accept_empty:
            where = f" at {ledger.path}" if ledger is not None else ""
            raise RestoreRefused(
                f"no tombstone ledger{where}: erasures made after the backup could not be "
                "re-applied. Pass --tombstones DIR (the old home's [backup] tombstones_dir), "
                "or --accept-empty-ledger for a first-ever restore (docs/backup.md)"
            )
        return [], None
    lines = ledger.lines()
    head = spooled.manifest.get("tombstone_ledger") or {}
    seq = int(head.get("seq", -1))
    if not lines or len(lines) <= seq or seq < 0:
        raise RestoreRefused("the tombstone ledger is shorter than when the backup was made")
    if hashlib.sha256(lines[seq]).hexdigest() != head.get("sha256"):
        raise RestoreRefused("the tombstone ledger is not this home's, or was rewritten")
    return lines, ledger.path


def receipt_public_key(staging: Path) -> Ed25519PublicKey:
    try:
        entry = json.loads((staging / RECEIPT_KEY_FILE).read_bytes())
        return load_public_key(str(entry["public_key"]).encode())
    except (OSError, ValueError, KeyError) as exc:
        raise BackupInvalid(f"the backup lacks the erasure-receipt key: {exc}") from None


def carry_ledger(staging: Path, configured: str, lines: list[bytes], source: Path | None) -> None:
    """The restored home must keep honouring these tombstones in *its* later backups and
    append new ones after them: its ledger (inside the home: seeded here) starts as a copy
    of the one just applied. An absolute ``tombstones_dir`` is shared storage: the same
    ledger if it is the one given, seeded if it does not exist yet, else left alone only
    when it holds exactly these entries."""
    target_dir = Path(configured)
    if not target_dir.is_absolute():
        target_dir = staging / configured
    target = target_dir / LEDGER_FILE
    if source is not None and target.exists() and target.resolve() == source.resolve():
        return
    if target.exists():
        if target.read_bytes() != b"".join(lines):
            raise RestoreRefused(
                f"{target} holds another tombstone ledger than the one applied; restore "
                "with --tombstones naming it"
            )
        return
    target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write(target, b"".join(lines), mode=0o600)
