"""The tombstone ledger: key-destruction records kept *apart* from data backups.

A backup taken before an erasure still holds the erased keys (wrapped). So every erasure
first appends a **tombstone** naming every key it is about to destroy (and, for a record
erasure, the record it deletes), durably (``fsync``), and only then destroys anything;
``restore`` re-applies every tombstone before the restored home can be used. The ledger
lives in ``[backup] tombstones_dir`` (default ``<home>/tombstones``), which ``backup
create`` never includes: a backup can never roll it back.

``ledger.jsonl``: one line per entry, each the canonical JSON that ``ReceiptKey.sign``
produces (``{"receipt": body, "signature": …}``, Ed25519 by the home's erasure-receipt key,
whose private half only the KMS can unwrap). Line 0 is a *genesis* entry with a random
ledger id; every body carries ``seq`` and ``prev`` (SHA-256 of the previous line), so an
edited, inserted, reordered or removed line breaks a signature or the chain. What one
cannot detect from the ledger alone is the removal of its *last* lines; a backup records
the ledger head it saw (so lines up to it are checked), and docs/backup.md says what
covers the rest. Appends serialise on ``ledger.lock``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from callvault._atomic import exclusive_lock, fsync_dir
from callvault._ids import DataClass
from callvault._vault import Vault
from callvault.erasure._keys import tenant_master_key_ids
from callvault.erasure._model import ErasureKind, ErasureRequest
from callvault.erasure._receipts import ReceiptKey, canonical
from callvault.errors import ConfigError, RestoreRefused
from callvault.keys import ManagedKeyStore
from callvault.keys._managed import PENDING_SUFFIX

__all__ = [
    "LEDGER_FILE",
    "TOMBSTONE_FORMAT",
    "LedgerHead",
    "TombstoneLedger",
    "ledger_for",
    "record_tombstone",
    "verify_ledger",
]

LEDGER_FILE = "ledger.jsonl"
TOMBSTONE_FORMAT = "callvault-tombstone/v1"
_SIGN_LABEL = b"callvault/erasure-receipt/v1\n"  # the label ReceiptKey.sign signs under
_GENESIS_PREV = "0" * 64


@dataclass(frozen=True, slots=True)
class LedgerHead:
    ledger_id: str
    seq: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"ledger_id": self.ledger_id, "seq": self.seq, "sha256": self.sha256}


def ledger_for(vault: Vault) -> TombstoneLedger:
    return TombstoneLedger(vault.settings.backup.tombstones_path(vault.home))


def record_tombstone(vault: Vault, request: ErasureRequest) -> None:
    """Append (once per erasure id) the tombstone of ``request``, before it destroys."""
    tenant = request.tenant
    body: dict[str, Any] = {
        "erasure_id": request.id,
        "tenant": tenant,
        "kind": request.kind.value,
        "managed_keys": [],
        "managed_prefix": None,
        "master_keys": [],
        "record": None,
    }
    if request.kind is ErasureKind.SUBJECT:
        names = [f"{tenant}/{c.value}/subject/{request.target}" for c in DataClass]
        body["managed_keys"] = names + [name + PENDING_SUFFIX for name in names]
    elif request.kind is ErasureKind.TENANT:
        managed = ManagedKeyStore(vault.home / "keys" / "managed.json")
        body["managed_prefix"] = f"{tenant}/"
        body["managed_keys"] = managed.names_with_prefix(f"{tenant}/")
        body["master_keys"] = tenant_master_key_ids(vault, tenant)
    else:
        assert request.record_kind is not None
        body["record"] = {"id": request.target, "kind": request.record_kind.value}
    ledger_for(vault).append(ReceiptKey(vault.home, vault.provider), vault, body)


class TombstoneLedger:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LEDGER_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    def ensure(self, signer: ReceiptKey, vault: Vault) -> LedgerHead:
        """Create the ledger (its genesis entry) unless it exists; return its head."""
        with self._locked():
            lines = self._lines()
            if not lines:
                lines = [self._write(signer, vault, {"kind": "genesis"}, [], new_id=True)]
            return _head(lines)

    def append(self, signer: ReceiptKey, vault: Vault, fields: dict[str, Any]) -> None:
        with self._locked():
            lines = self._lines()
            if not lines:
                lines = [self._write(signer, vault, {"kind": "genesis"}, [], new_id=True)]
            if any(_body(line).get("erasure_id") == fields["erasure_id"] for line in lines):
                return  # a resumed erasure: its tombstone is already durable
            self._write(signer, vault, fields, lines)

    def lines(self) -> list[bytes]:
        return self._lines() if self.exists() else []

    def _write(
        self,
        signer: ReceiptKey,
        vault: Vault,
        fields: dict[str, Any],
        lines: list[bytes],
        new_id: bool = False,
    ) -> bytes:
        ledger_id = secrets.token_hex(16) if new_id else str(_body(lines[0])["ledger_id"])
        body = {
            **fields,
            "format": TOMBSTONE_FORMAT,
            "ledger_id": ledger_id,
            "environment": vault.environment.value,
            "seq": len(lines),
            "prev": hashlib.sha256(lines[-1]).hexdigest() if lines else _GENESIS_PREV,
            "at": datetime.now(UTC).isoformat(),
        }
        line = signer.sign(body)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.directory)
        return line

    @contextlib.contextmanager
    def _locked(self) -> Any:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with exclusive_lock(self.directory / "ledger.lock"):
            self._repair_torn_tail()
            yield

    def _repair_torn_tail(self) -> None:
        """A line without its newline was never fsynced to completion, so the erasure that
        wrote it never destroyed anything: cut it off (under the lock)."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            os.truncate(self.path, data.rfind(b"\n") + 1)

    def _lines(self) -> list[bytes]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return [line + b"\n" for line in data.split(b"\n")[:-1]]


def verify_ledger(
    lines: list[bytes], public_key: Ed25519PublicKey, environment: str
) -> list[dict[str, Any]]:
    """Every entry's body, after checking signatures, the chain and the environment;
    ``RestoreRefused`` naming the first bad line otherwise."""
    raw = public_key.public_bytes_raw()
    bodies: list[dict[str, Any]] = []
    prev = _GENESIS_PREV
    for number, line in enumerate(lines):
        try:
            document = json.loads(line)
            body, signature = document["receipt"], document["signature"]
            if canonical(document) + b"\n" != line or set(document) != {"receipt", "signature"}:
                raise ValueError("not canonical")
            if base64.b64decode(signature["public_key"], validate=True) != raw:
                raise ValueError("signed by another key")
            public_key.verify(
                base64.b64decode(signature["value"], validate=True), _SIGN_LABEL + canonical(body)
            )
            if body["format"] != TOMBSTONE_FORMAT or body["seq"] != number:
                raise ValueError("out of sequence")
            if body["prev"] != prev or body["environment"] != environment:
                raise ValueError("chain broken or another environment")
            if number and body["ledger_id"] != bodies[0]["ledger_id"]:
                raise ValueError("another ledger's entry")
            if (number == 0) != (body["kind"] == "genesis"):
                raise ValueError("misplaced genesis entry")
        except (ValueError, KeyError, TypeError, InvalidSignature) as exc:
            raise RestoreRefused(
                f"tombstone ledger entry {number} does not verify ({exc or 'bad signature'}): "
                "a tombstone was altered, removed or inserted; refusing to restore"
            ) from None
        bodies.append(body)
        prev = hashlib.sha256(line).hexdigest()
    return bodies


def _head(lines: list[bytes]) -> LedgerHead:
    return LedgerHead(
        str(_body(lines[0])["ledger_id"]), len(lines) - 1, hashlib.sha256(lines[-1]).hexdigest()
    )


def _body(line: bytes) -> dict[str, Any]:
    try:
        body: dict[str, Any] = json.loads(line)["receipt"]
    except (ValueError, KeyError, TypeError):
        raise ConfigError("the tombstone ledger is corrupt (see docs/backup.md)") from None
    return body
