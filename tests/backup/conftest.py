"""Fixtures for the backup tests: a home (tenants ``acme`` and ``globex``) whose callers
have recordings, transcripts and analytics rows in the real embedded stores, with the
SHA-256 of every plaintext kept aside; and helpers to open everything in another home."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callvault import Environment, Vault
from callvault.api import ApiServices
from callvault.api._analytics import Analytics
from callvault.api._recordings import Recordings
from callvault.api._schemas import AnalyticsCreate, TranscriptCreate
from callvault.api._transcripts import Transcripts
from callvault.backup import RestoreSummary, create_backup, restore_backup
from callvault.erasure import Erasures, Target

ALICE, BOB = "+15550001111", "sip:bob@example.com"
Item = tuple[str, str, str]  # (tenant, kind, id)


@dataclass
class Stores:
    """The API's domain services over one home (what the routes call)."""

    vault: Vault
    services: ApiServices
    recordings: Recordings
    transcripts: Transcripts
    analytics: Analytics

    @classmethod
    def over(cls, vault: Vault) -> Stores:
        services = ApiServices.embedded(vault)
        assert services.records is not None
        return cls(
            vault,
            services,
            Recordings(vault, services.objects, 8 << 20, services.upload_claims),
            Transcripts(vault, services.records),
            Analytics(vault, services.records),
        )

    def open_item(self, item: Item) -> bytes:
        tenant, kind, record_id = item
        if kind == "recording":
            opened = self.recordings.open(tenant, record_id)
            return b"".join(opened.iter_plaintext(0, opened.length - 1))
        if kind == "transcript":
            view = self.transcripts.get(tenant, record_id, sensitive=True)
            return view.model_dump_json().encode()
        return self.analytics.get(tenant, record_id).model_dump_json().encode()

    def digest(self, item: Item) -> str:
        return hashlib.sha256(self.open_item(item)).hexdigest()

    def erase(self, tenant: str, target: Target) -> None:
        erasures = Erasures(self.vault, self.services.objects, self.services.records)
        request = erasures.schedule(tenant, target, grace_days=0)
        assert [r.id for r in erasures.run_due()] == [request.id]


@dataclass
class World:
    stores: Stores
    items: dict[Item, str] = field(default_factory=dict)
    """Every item's plaintext SHA-256 when it was written."""
    owner: dict[Item, str | None] = field(default_factory=dict)

    @property
    def vault(self) -> Vault:
        return self.stores.vault

    @property
    def home(self) -> Path:
        return self.stores.vault.home

    def add_call(self, tenant: str, caller: str | None, tag: str, size: int) -> None:
        audio = hashlib.shake_256(tag.encode()).digest(size)
        rec = ("rec-" + tag).replace("+", "")
        self.stores.recordings.put(tenant, rec, caller, [audio])
        self._keep((tenant, "recording", rec), caller, audio)
        if caller is not None:
            body = TranscriptCreate(call_id=f"call-{tag}", caller=caller, text=f"hello {tag}")
            tid = self.stores.transcripts.add(tenant, body)
            self._keep((tenant, "transcript", tid), caller, None)
        row = AnalyticsCreate(call_id=f"call-{tag}", caller=caller, duration_seconds=12.5)
        aid = self.stores.analytics.add(tenant, row)
        self._keep((tenant, "analytics", aid), caller, None)

    def _keep(self, item: Item, caller: str | None, plaintext: bytes | None) -> None:
        digest = self.stores.digest(item)
        if plaintext is not None:
            assert digest == hashlib.sha256(plaintext).hexdigest()
        self.items[item] = digest
        self.owner[item] = caller

    def of(self, tenant: str, caller: str | None) -> list[Item]:
        return [i for i in self.items if i[0] == tenant and self.owner[i] == caller]

    def backup(self, out: Path) -> Path:
        create_backup(self.vault, out, self.stores.services.objects)
        return out

    def restore(self, backup: Path, target: Path, **options: object) -> RestoreSummary:
        options.setdefault("tombstones", self.home / "tombstones")
        return restore_backup(
            backup,
            target,
            Environment.DEV,
            root_key_file=self.home / "root.key",
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
def world(vault: Vault) -> Iterator[World]:
    world = World(Stores.over(vault))
    for tenant in ("acme", "globex"):
        world.add_call(tenant, ALICE, f"{tenant}-a1", 40_000)
        world.add_call(tenant, BOB, f"{tenant}-b1", 20_000)
    world.add_call("acme", ALICE, "acme-a2", 70_000)  # > 4 Cobblestone chunks
    world.add_call("acme", None, "acme-anon", 1_000)
    yield world
    world.stores.services.close()


@pytest.fixture
def opened() -> Iterator[list[Stores]]:
    """Stores opened over restored homes, closed at the end."""
    found: list[Stores] = []
    yield found
    for stores in found:
        stores.services.close()
