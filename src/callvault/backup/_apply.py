"""Re-applying tombstones to a restored home before anyone can use it.

For each verified tombstone (``_tombstones.verify_ledger``), in ledger order:

* managed keys it names (a subject's keys in every class and their ``#pending``
  replacements; a tenant's keys by prefix) are tombstoned again in ``keys/managed.json``;
* master keys it names (a tenant erasure) are destroyed again in the restored provider
  (the local keyring; on a shared KMS they are already gone, which is checked);
* a record erasure's record is dropped from the staged objects or rows.

Then every named key is checked to *be* destroyed; if any is not, the restore fails
closed. Tombstones of erasures older than the backup are harmless: destroying twice is a
no-op.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callvault._ids import DataClass
from callvault._vault import Vault
from callvault.backup._spool import Spooled
from callvault.erasure._keys import destroy_master_key
from callvault.errors import KeyDestroyed, KeyNotFound, RestoreRefused
from callvault.keys import ManagedKeyStore
from callvault.keys.providers import KeyState
from callvault.storage.objects import object_key

__all__ = ["Applied", "apply_tombstones"]

_META = ":meta"  # a recording's sealed sidecar (api._recordings; erasure._data repeats it)
_TABLE_OF = {"transcript": "transcripts", "analytics": "analytics"}


@dataclass(slots=True)
class Applied:
    tombstones: int = 0
    managed_keys: set[str] = field(default_factory=set)
    master_keys: set[str] = field(default_factory=set)
    deleted_rows: set[tuple[str, str, str]] = field(default_factory=set)
    """(table, tenant, id) of rows a record erasure removed after the backup."""
    deleted_objects: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "tombstones": self.tombstones,
            "managed_keys": len(self.managed_keys),
            "master_keys": sorted(self.master_keys),
            "records": len(self.deleted_rows) + self.deleted_objects,
        }


def apply_tombstones(vault: Vault, staging: Path, bodies: Iterable[dict[str, Any]]) -> Applied:
    managed = ManagedKeyStore(vault.home / "keys" / "managed.json")
    applied = Applied()
    for body in bodies:
        if body["kind"] == "genesis":
            continue
        applied.tombstones += 1
        names = [str(n) for n in body.get("managed_keys") or []]
        if prefix := body.get("managed_prefix"):
            names += managed.names_with_prefix(str(prefix))
        managed.destroy(names)
        applied.managed_keys.update(names)
        for key_id in body.get("master_keys") or []:
            destroy_master_key(vault, str(key_id))
            applied.master_keys.add(str(key_id))
        if record := body.get("record"):
            _drop_record(staging, str(body["tenant"]), record, applied)
    _check_destroyed(vault, managed, applied)
    return applied


def _drop_record(staging: Path, tenant: str, record: dict[str, Any], applied: Applied) -> None:
    record_id, kind = str(record["id"]), str(record["kind"])
    if kind == "recording":
        for object_id in (record_id + _META, record_id):
            key = object_key(tenant, DataClass.RECORDING, object_id)
            with contextlib.suppress(FileNotFoundError):
                Spooled.object_path(staging, key).unlink()
                applied.deleted_objects += 1
    else:
        applied.deleted_rows.add((_TABLE_OF[kind], tenant, record_id))


def _check_destroyed(vault: Vault, managed: ManagedKeyStore, applied: Applied) -> None:
    for name in sorted(applied.managed_keys):
        try:
            record = managed.get(name)
        except KeyDestroyed:
            continue
        if record is not None:
            raise RestoreRefused(f"managed key {name} is still live after its tombstone")
    for key_id in sorted(applied.master_keys):
        try:
            state = vault.provider.describe_key(key_id).state
        except KeyNotFound:
            continue
        if state not in (KeyState.DESTROYED, KeyState.PENDING_DELETION):
            raise RestoreRefused(f"master key {key_id} is still {state.value} after its tombstone")
