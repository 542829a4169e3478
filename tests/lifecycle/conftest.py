"""Fixtures for the lifecycle jobs: a populated home over SQLite or PostgreSQL records (and
local or S3 objects), and a vault whose provider reports every key operation in memory.

PostgreSQL and S3 follow the suite's rules (tests/conftest.py, tests/storage/objects):
without their servers those variants skip, unless ``CALLVAULT_TEST_PG_REQUIRED=1`` /
``CALLVAULT_TEST_S3_REQUIRED=1``, when they fail.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from callvault import Vault
from callvault.api import OBJECTS_DIR
from callvault.keys import MemoryKeyEvents
from callvault.keys.providers import ProviderSettings, open_provider
from callvault.storage.objects import LocalObjectStore, ObjectStore, S3Settings, open_s3_store
from callvault.storage.records import (
    RecordStore,
    create_records_engine,
    embedded_url,
    run_migrations,
)


def _load(name: str) -> ModuleType:
    qualified = f"callvault_tests_lifecycle{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(qualified, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


population = _load("_population")


@dataclass
class Stores:
    vault: Vault
    objects: ObjectStore
    records: RecordStore
    backend: str


def with_events(vault: Vault) -> tuple[Vault, MemoryKeyEvents]:
    """The same home opened again, its provider reporting to an in-memory sink."""
    sink = MemoryKeyEvents()
    settings = ProviderSettings(vault.home, vault.environment, events=sink)
    return Vault(vault.home, vault.settings, open_provider(vault.settings.kms, settings)), sink


def _sqlite(vault: Vault) -> RecordStore:
    engine = create_records_engine(embedded_url(vault.home))
    run_migrations(engine)
    return RecordStore(engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, vault: Vault) -> Iterator[Stores]:
    if request.param == "sqlite":
        records = _sqlite(vault)
    else:
        records = RecordStore.open(request.getfixturevalue("pg_database")().app_url)
    try:
        yield Stores(vault, LocalObjectStore(vault.home / OBJECTS_DIR), records, request.param)
    finally:
        records.close()


@pytest.fixture
def sqlite_stores(vault: Vault) -> Iterator[Stores]:
    records = _sqlite(vault)
    try:
        yield Stores(vault, LocalObjectStore(vault.home / OBJECTS_DIR), records, "sqlite")
    finally:
        records.close()


@pytest.fixture
def s3_objects(radosgw_bucket: tuple[Any, Any, str]) -> ObjectStore:
    """A store on a fresh bucket of the radosgw that scripts/services/radosgw.sh runs."""
    server, _client, bucket = radosgw_bucket
    settings = S3Settings(
        bucket=bucket,
        prefix="calls/",
        endpoint_url=server.endpoint,
        ca_bundle=Path(server.ca),
        region="us-east-1",
        addressing_style="path",
        server_side_encryption=False,  # radosgw ignores SSE-S3 silently (see objects tests)
    )
    return open_s3_store(settings, session=server.session())


@pytest.fixture(scope="session")
def kit() -> ModuleType:
    """``_population``: populate, open_all, sealed_values, master_wrapped, managed_versions."""
    return population


@pytest.fixture(scope="session")
def events_vault() -> Any:
    return with_events
