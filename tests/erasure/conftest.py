"""Fixtures for the erasure tests: a home with tenants ``acme`` and ``globex`` whose
recordings, transcripts and analytics rows belong to known callers, over the real stores
(local objects, SQLite records); and the TLS API fixtures of tests/api, loaded from there."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callvault import DataClass, Vault
from callvault.api import ApiServices
from callvault.api._analytics import Analytics
from callvault.api._recordings import Recordings
from callvault.api._schemas import AnalyticsCreate, TranscriptCreate
from callvault.api._transcripts import Transcripts, open_for_subject
from callvault.erasure import Erasures
from callvault.storage.objects import object_key

_spec = importlib.util.spec_from_file_location(
    "_erasure_api_conftest", Path(__file__).parent.parent / "api" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_api_conftest = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _api_conftest  # its dataclasses look their module up
_spec.loader.exec_module(_api_conftest)
served = _api_conftest.served
api = _api_conftest.api
Server = _api_conftest.Server

ALICE, BOB = "+15550001111", "sip:bob@example.com"


@dataclass
class Calls:
    """What one caller has in one tenant: ids of recordings, transcripts, analytics rows."""

    recordings: list[str] = field(default_factory=list)
    transcripts: list[str] = field(default_factory=list)
    analytics: list[str] = field(default_factory=list)


@dataclass
class World:
    vault: Vault
    services: ApiServices
    erasures: Erasures
    recordings: Recordings
    transcripts: Transcripts
    analytics: Analytics
    calls: dict[tuple[str, str | None], Calls]

    def add_call(self, tenant: str, caller: str | None, n: int) -> None:
        calls = self.calls.setdefault((tenant, caller), Calls())
        tag = f"{tenant}-{'anon' if caller is None else len(self.calls)}-{n}"
        self.recordings.put(tenant, f"rec-{tag}", caller, [f"audio {tag}".encode() * 50])
        calls.recordings.append(f"rec-{tag}")
        if caller is not None:
            body = TranscriptCreate(call_id=f"call-{tag}", caller=caller, text=f"hello {tag}")
            calls.transcripts.append(self.transcripts.add(tenant, body))
        row = AnalyticsCreate(call_id=f"call-{tag}", caller=caller, duration_seconds=12.5)
        calls.analytics.append(self.analytics.add(tenant, row))

    def read_recording(self, tenant: str, recording_id: str) -> bytes:
        opened = self.recordings.open(tenant, recording_id)
        return b"".join(opened.iter_plaintext(0, opened.length - 1))

    def opens(self, tenant: str, caller: str | None) -> bool:
        """Whether every record of this caller in this tenant still opens."""
        calls = self.calls[(tenant, caller)]
        for recording_id in calls.recordings:
            assert self.read_recording(tenant, recording_id)
        for record_id in calls.transcripts:
            assert self.transcripts.get(tenant, record_id, sensitive=True).caller == caller
        for record_id in calls.analytics:
            self.analytics.get(tenant, record_id)
        return True

    def object_path(self, tenant: str, object_id: str) -> Path:
        key = object_key(tenant, DataClass.RECORDING, object_id)
        return self.vault.home / "objects" / key

    def open_raw_transcript(
        self, tenant: str, record_id: str, sealed: bytes, index: bytes
    ) -> bytes:
        return self.open_raw(DataClass.TRANSCRIPT, record_id, sealed, index, tenant)

    def open_raw(
        self,
        data_class: DataClass,
        record_id: str,
        sealed: bytes,
        index: bytes,
        tenant: str = "acme",
    ) -> bytes:
        """Open a row's sealed value as read from a database file or dump."""
        return open_for_subject(self.vault, tenant, data_class, record_id, sealed, index)[1]


@pytest.fixture
def world(vault: Vault) -> Iterator[World]:
    services = ApiServices.embedded(vault)
    assert services.records is not None
    world = World(
        vault,
        services,
        Erasures(vault, services.objects, services.records),
        Recordings(vault, services.objects, 1 << 20, services.upload_claims),
        Transcripts(vault, services.records),
        Analytics(vault, services.records),
        {},
    )
    for tenant in ("acme", "globex"):
        for caller in (ALICE, BOB):
            world.add_call(tenant, caller, 1)
            world.add_call(tenant, caller, 2)
    world.add_call("acme", None, 1)
    yield world
    services.close()


cli_serve = _api_conftest.cli_serve
run_cli = _api_conftest.run_cli
