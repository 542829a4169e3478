"""What the API runs on: the vault plus its stores and credential verifiers, in one value.

Routes reach these through ``request.app.state.services``; nothing is a module global, so
tests build an app over any home and several apps can live in one process. ``embedded``
wires the one-command default (DESIGN.md): sealed objects in ``home/objects`` and records
in SQLite at ``home/records.db``, both inside the home directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from callvault._vault import Vault
from callvault.auth import ApiKeyStore, SigningKeyRing, TokenService
from callvault.storage.objects import LocalObjectStore, ObjectStore
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
    records: RecordStore | None = None
    """Transcripts and analytics; ``None`` when not wired (their routes then answer 500)."""

    @property
    def max_recording_bytes(self) -> int:
        return self.vault.settings.api.max_recording_bytes

    @classmethod
    def embedded(cls, vault: Vault, *, records: bool = True) -> ApiServices:
        """The embedded default for ``vault.home``; migrates the SQLite schema to head."""
        keyring = SigningKeyRing(vault.home, vault.provider)
        store = None
        if records:
            engine = create_records_engine(embedded_url(vault.home))
            run_migrations(engine)
            store = RecordStore(engine)
        return cls(
            vault=vault,
            objects=LocalObjectStore(vault.home / OBJECTS_DIR),
            keyring=keyring,
            tokens=TokenService(keyring),
            api_keys=ApiKeyStore(vault.home, vault.provider),
            records=store,
        )
