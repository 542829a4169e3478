"""Fixtures for the records-store tests.

SQLite needs nothing. PostgreSQL tests use ``pg_database`` from tests/conftest.py (the
server ``scripts/services/postgres.sh`` starts); each test module that uses ``pg_db`` gets
its own fresh, migrated database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from callvault.storage.records import RecordStore, create_records_engine, run_migrations


class TickingClock:
    """Injected time: each call is one second after the last, so order is deterministic."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def blind_index(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.fixture
def index() -> Callable[[int], bytes]:
    """``index(n)``: a distinct 32-byte stand-in for the HMAC blind index of caller n."""
    return blind_index


@pytest.fixture(scope="module")
def pg_db(pg_database: Callable[[], Any]) -> Any:
    """A fresh, migrated database per test module."""
    return pg_database()


@pytest.fixture
def pg_store(pg_db: Any) -> Iterator[RecordStore]:
    store = RecordStore.open(pg_db.app_url, clock=TickingClock())
    try:
        yield store
    finally:
        for tenant in ("acme", "globex"):
            store.delete_all_for_tenant(tenant)
        store.close()


@pytest.fixture
def app_engine(pg_db: Any) -> Iterator[Engine]:
    """A raw engine as the application role: for SQL that bypasses the store's filters."""
    engine = create_records_engine(pg_db.app_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_records_engine(f"sqlite:///{tmp_path / 'records.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_store(sqlite_engine: Engine) -> RecordStore:
    run_migrations(sqlite_engine)
    return RecordStore(sqlite_engine, clock=TickingClock())
