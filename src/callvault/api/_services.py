"""What the API runs on: the vault plus its stores and credential verifiers, in one value.

Routes reach these through ``request.app.state.services``; nothing is a module global, so
tests build an app over any home and several apps can live in one process.

``from_settings`` wires what ``[storage]`` in callvault.toml names: records in SQLite at
``home/records.db`` (the embedded default, migrated on start) or in PostgreSQL (never
migrated by the API: its role may not own the tables, see docs/storage.md), and sealed
objects in ``home/objects`` or an S3 bucket. ``embedded`` is the one-command default
whatever the settings say.
"""

from __future__ import annotations

from dataclasses import dataclass

from callvault._vault import Vault
from callvault.api._recordings import Claims, ProcessClaims
from callvault.audit import AuditLog, attach_audit
from callvault.auth import ApiKeyStore, SigningKeyRing, TokenService
from callvault.storage.objects import LocalObjectStore, ObjectStore, open_s3_store
from callvault.storage.records import (
    RecordStore,
    create_records_engine,
    embedded_url,
    run_migrations,
)

__all__ = ["OBJECTS_DIR", "ApiServices"]

OBJECTS_DIR = "objects"


@dataclass(frozen=True, slots=True)
class ApiServices:
    vault: Vault
    objects: ObjectStore
    keyring: SigningKeyRing
    tokens: TokenService
    api_keys: ApiKeyStore
    upload_claims: Claims
    """Upload leases: ``records.claims`` when there is a records store (shared by every
    replica on that database), else in-process."""
    audit: AuditLog
    """The vault's one audit log (``attach_audit``: key events go there too); every data
    access and admin action of the API is appended to it before it is acknowledged."""
    records: RecordStore | None = None
    """Transcripts and analytics; ``None`` when not wired (their routes then answer 500)."""

    def close(self) -> None:
        """Release database connections (the object stores hold none)."""
        if self.records is not None:
            self.records.close()

    @property
    def max_recording_bytes(self) -> int:
        return self.vault.settings.api.max_recording_bytes

    @classmethod
    def from_settings(cls, vault: Vault) -> ApiServices:
        """The stores ``vault.settings.storage`` names; fails before serving if any is
        unreachable, insecure or (PostgreSQL) not migrated."""
        storage = vault.settings.storage
        if storage.records_url is None:
            records = _embedded_records(vault)
        else:
            records = RecordStore.open(storage.records_url)
        objects: ObjectStore
        if storage.objects == "s3":
            assert storage.s3 is not None  # StorageSettings checks it
            objects = open_s3_store(storage.s3)
        else:
            objects = LocalObjectStore(vault.home / OBJECTS_DIR)
        return cls._over(vault, objects, records)

    @classmethod
    def embedded(cls, vault: Vault, *, records: bool = True) -> ApiServices:
        """The embedded default for ``vault.home``; migrates the SQLite schema to head."""
        store = _embedded_records(vault) if records else None
        return cls._over(vault, LocalObjectStore(vault.home / OBJECTS_DIR), store)

    @classmethod
    def _over(cls, vault: Vault, objects: ObjectStore, records: RecordStore | None) -> ApiServices:
        keyring = SigningKeyRing(vault.home, vault.provider)
        return cls(
            vault=vault,
            objects=objects,
            keyring=keyring,
            tokens=TokenService(keyring),
            api_keys=ApiKeyStore(vault.home, vault.provider),
            upload_claims=records.claims if records is not None else ProcessClaims(),
            audit=attach_audit(vault),
            records=records,
        )


def _embedded_records(vault: Vault) -> RecordStore:
    engine = create_records_engine(embedded_url(vault.home))
    run_migrations(engine)
    return RecordStore(engine)
