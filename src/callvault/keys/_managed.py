"""Keys callvault manages below the master keys: per-subject keys and per-tenant index keys.

A KMS holds few master keys; a tenant has millions of callers. So each data subject gets a
256-bit key generated here, wrapped under the tenant's master key for the data class by the
KMS, and stored (wrapped only) in ``keys/managed.json``. Destroying a subject's keys leaves a
tombstone and no key bytes anywhere: every object of that subject is then cryptographically
erased, wherever its ciphertext lies.

Records are addressed by blind ids (HMAC of the subject under the tenant's index key), so
the file never holds a caller's number.

Each record keeps its *wrap history*: every master-key version it has been wrapped under
(creation, then each rewrap). A version that leaks exposes every copy of every record ever
wrapped under it (backups, old copies of this file), so revocation (``callvault keys
revoke``) re-keys exactly the records whose history holds the leaked version. Records
written before the history existed have none; for them every version up to their current
one counts as possible (``wrapped_under`` is conservative).

A record named ``<name>#pending`` is the replacement key of ``<name>`` while a revocation
re-keys it (``PENDING_SUFFIX``; ``promote`` swaps it in, in one atomic write).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callvault._json_store import JsonStore
from callvault.errors import KeyDestroyed, OpenError
from callvault.keys.providers._base import WrappedKey

__all__ = ["PENDING_SUFFIX", "ManagedKeyRecord", "ManagedKeyStore"]

PENDING_SUFFIX = "#pending"


@dataclass(frozen=True, slots=True)
class ManagedKeyRecord:
    """One wrapped managed key: which master key wraps it (on which provider: ``""`` is the
    default provider, else a name from ``[kms_providers]``), and the wrapped blob."""

    name: str
    kek_id: str
    wrapped: WrappedKey
    created_at: str
    provider: str = ""
    history: tuple[int, ...] = ()
    """Master-key versions this key was ever wrapped under; empty: unknown (old record)."""

    def wrapped_under(self, version: int) -> bool:
        """Whether this key may ever have been wrapped under ``version`` of its master key
        (without a history: any version up to the current one, conservatively)."""
        if self.history:
            return version in self.history
        return version <= self.wrapped.version


class ManagedKeyStore:
    def __init__(self, path: Path) -> None:
        self._store = JsonStore(path, lambda: {"format": "callvault-managed-keys/v1", "keys": {}})

    def get(self, name: str) -> ManagedKeyRecord | None:
        """The record, ``None`` if it never existed; ``KeyDestroyed`` if it was destroyed."""
        entry = self._store.read()["keys"].get(name)
        if entry is None:
            return None
        return _record(name, entry)

    def put_if_absent(self, record: ManagedKeyRecord) -> ManagedKeyRecord:
        """Store ``record`` unless another writer stored one first; return the winner."""
        with self._store.transaction() as doc:
            existing = doc["keys"].get(record.name)
            if existing is not None:
                return _record(record.name, existing)
            doc["keys"][record.name] = _entry(record)
        return record

    def replace(self, expected: ManagedKeyRecord, new: ManagedKeyRecord) -> bool:
        """Swap ``expected`` for ``new`` (same name) if the stored record is still
        ``expected``; False when another writer changed or destroyed it first."""
        if expected.name != new.name:
            raise ValueError("a record is replaced by one of the same name")
        with self._store.transaction() as doc:
            current = doc["keys"].get(expected.name)
            if current is None or current != _entry(expected):
                return False
            doc["keys"][expected.name] = _entry(new)
        return True

    def destroy(self, names: list[str]) -> list[str]:
        """Replace each named record by a tombstone; return the names actually destroyed."""
        destroyed = []
        now = datetime.now(UTC).isoformat()
        with self._store.transaction() as doc:
            for name in names:
                entry = doc["keys"].get(name)
                if entry is None or "destroyed_at" in entry:
                    continue
                doc["keys"][name] = {"kek_id": entry["kek_id"], "destroyed_at": now}
                destroyed.append(name)
        return destroyed

    def names_with_prefix(self, prefix: str) -> list[str]:
        return sorted(name for name in self._store.read()["keys"] if name.startswith(prefix))

    def live_records(self, prefix: str = "") -> list[ManagedKeyRecord]:
        """Every record under ``prefix`` that was not destroyed, sorted by name."""
        keys = self._store.read()["keys"]
        return [
            _record(name, keys[name])
            for name in sorted(keys)
            if name.startswith(prefix) and "destroyed_at" not in keys[name]
        ]

    def promote(self, name: str) -> bool:
        """Swap the pending record ``<name>#pending`` in for ``name``, atomically; False
        (and the pending record dropped) when ``name`` was destroyed meanwhile: an erased
        subject stays erased, its replacement key is not kept either."""
        pending_name = name + PENDING_SUFFIX
        with self._store.transaction() as doc:
            pending = doc["keys"].pop(pending_name, None)
            current = doc["keys"].get(name)
            if pending is None or current is None or "destroyed_at" in current:
                return False
            doc["keys"][name] = pending
        return True

    def replace_many(self, changes: Sequence[tuple[ManagedKeyRecord, WrappedKey]]) -> list[str]:
        """Compare-and-swap, in one atomic write: each record whose stored wrap is still the
        ``ManagedKeyRecord``'s gets the new ``WrappedKey``; return the names replaced.

        A record changed or destroyed since it was read is left alone (a destroyed key must
        never come back through a rewrap that raced the erasure)."""
        replaced: list[str] = []
        if not changes:
            return replaced
        with self._store.transaction() as doc:
            for expected, new in changes:
                entry = doc["keys"].get(expected.name)
                if entry is None or "destroyed_at" in entry:
                    continue
                if (
                    entry["kek_id"] != expected.kek_id
                    or entry.get("provider", "") != expected.provider
                    or _wrapped(entry) != expected.wrapped
                ):
                    continue
                entry["history"] = _history(entry, new.version)
                entry["version"] = new.version
                entry["blob"] = base64.b64encode(new.blob).decode()
                replaced.append(expected.name)
        return replaced


def _history(entry: dict[str, Any], new_version: int) -> list[int]:
    """The entry's history plus ``new_version``; an entry without one (written before the
    history existed) is taken to have been under every version up to its current one."""
    found = entry.get("history")
    if not isinstance(found, list):
        found = list(range(1, int(entry["version"]) + 1))
    return sorted({int(v) for v in found} | {new_version})


def _wrapped(entry: dict[str, Any]) -> WrappedKey | None:
    try:
        return WrappedKey(int(entry["version"]), base64.b64decode(entry["blob"]))
    except (KeyError, ValueError):
        return None


def _entry(record: ManagedKeyRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kek_id": record.kek_id,
        "version": record.wrapped.version,
        "blob": base64.b64encode(record.wrapped.blob).decode(),
        "created_at": record.created_at,
    }
    if record.provider:
        entry["provider"] = record.provider
    if record.history:
        entry["history"] = list(record.history)
    return entry


def _record(name: str, entry: dict[str, Any]) -> ManagedKeyRecord:
    if "destroyed_at" in entry:
        raise KeyDestroyed(f"managed key {name} was destroyed at {entry['destroyed_at']}")
    try:
        wrapped = WrappedKey(int(entry["version"]), base64.b64decode(entry["blob"]))
        return ManagedKeyRecord(
            name,
            str(entry["kek_id"]),
            wrapped,
            str(entry["created_at"]),
            str(entry.get("provider", "")),
            tuple(int(v) for v in entry.get("history", ())),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise OpenError from exc
