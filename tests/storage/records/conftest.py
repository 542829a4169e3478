"""Fixtures for the records-store tests.

SQLite needs nothing. PostgreSQL tests use the server that ``scripts/services/postgres.sh``
starts (TLS 1.3 only, hostssl + scram): ``eval "$(scripts/services/postgres.sh env)"`` exports
``CALLVAULT_TEST_PG_URL`` (application role) and ``CALLVAULT_TEST_PG_OWNER_URL`` (owner role).
Without them the PostgreSQL tests are skipped, unless ``CALLVAULT_TEST_PG_REQUIRED=1`` (CI),
when they fail instead: a missing server must never pass as green.

Each test module that uses ``pg_db`` gets its own fresh database (created by the owner role,
migrated to head, access granted to the application role) and drops it afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url

from callvault.storage.records import RecordStore, create_records_engine, run_migrations

APP_VAR = "CALLVAULT_TEST_PG_URL"
OWNER_VAR = "CALLVAULT_TEST_PG_OWNER_URL"
REQUIRED_VAR = "CALLVAULT_TEST_PG_REQUIRED"


@dataclass(frozen=True)
class PgServer:
    app_url: URL
    owner_url: URL


@dataclass(frozen=True)
class PgDatabase:
    """A fresh, migrated database: ``app_url`` for the store, ``owner_url`` for admin."""

    name: str
    app_url: URL
    owner_url: URL


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


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    app, owner = os.environ.get(APP_VAR), os.environ.get(OWNER_VAR)
    if not app or not owner:
        message = (
            f"PostgreSQL not configured ({APP_VAR}, {OWNER_VAR}): run "
            "scripts/services/postgres.sh start and eval its `env` output"
        )
        if os.environ.get(REQUIRED_VAR) == "1":
            pytest.fail(message)
        pytest.skip(message)
    return PgServer(make_url(app), make_url(owner))


@pytest.fixture(scope="module")
def pg_db(pg_server: PgServer) -> Iterator[PgDatabase]:
    name = f"cvt_{secrets.token_hex(6)}"
    admin = create_records_engine(pg_server.owner_url).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        db = PgDatabase(
            name, pg_server.app_url.set(database=name), pg_server.owner_url.set(database=name)
        )
        owner = create_records_engine(db.owner_url)
        try:
            run_migrations(owner, grant_to=pg_server.app_url.username)
        finally:
            owner.dispose()
        yield db
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    finally:
        admin.dispose()


@pytest.fixture
def pg_store(pg_db: PgDatabase) -> Iterator[RecordStore]:
    store = RecordStore.open(pg_db.app_url, clock=TickingClock())
    try:
        yield store
    finally:
        for tenant in ("acme", "globex"):
            store.delete_all_for_tenant(tenant)
        store.close()


@pytest.fixture
def app_engine(pg_db: PgDatabase) -> Iterator[Engine]:
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
