"""Shared fixtures: a fresh callvault home (local KMS, ``dev``) with tenants ``acme`` and
``globex``. Homes are built with every ``CALLVAULT_*`` variable removed, so the developer's
or CI's environment cannot leak into a test.

PostgreSQL: the server that ``scripts/services/postgres.sh`` starts (TLS 1.3 only, hostssl +
scram); ``eval "$(scripts/services/postgres.sh env)"`` exports ``CALLVAULT_TEST_PG_URL``
(application role) and ``CALLVAULT_TEST_PG_OWNER_URL`` (owner role). Without them the
PostgreSQL tests are skipped, unless ``CALLVAULT_TEST_PG_REQUIRED=1`` (CI), when they fail
instead: a missing server must never pass as green. ``pg_database()`` creates a fresh
database (owner role, migrated to head, access granted to the application role), dropped at
the end of the session.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from callvault import Environment, Vault
from callvault.storage.records import create_records_engine, run_migrations

TENANTS = ("acme", "globex")

VaultFactory = Callable[..., Vault]


def _make_vault(home: Path, environment: Environment = Environment.DEV) -> Vault:
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("CALLVAULT_"):
                mp.delenv(name)
        Vault.init_home(home, environment)
        vault = Vault.open_home(home)
    for tenant in TENANTS:
        vault.create_tenant(tenant)
    return vault


@pytest.fixture(scope="session")
def vault_factory() -> VaultFactory:
    """``vault_factory(home, environment=Environment.DEV)``: a new home with both tenants."""
    return _make_vault


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    """A fresh home for one test."""
    return _make_vault(tmp_path / "home")


@pytest.fixture(scope="module")
def module_vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    """One home shared by a module's tests (for hypothesis, which re-runs a test body)."""
    return _make_vault(tmp_path_factory.mktemp("vault") / "home")


PG_APP_VAR = "CALLVAULT_TEST_PG_URL"
PG_OWNER_VAR = "CALLVAULT_TEST_PG_OWNER_URL"
PG_REQUIRED_VAR = "CALLVAULT_TEST_PG_REQUIRED"


@dataclass(frozen=True)
class PgServer:
    app_url: URL
    owner_url: URL


@dataclass(frozen=True)
class PgDatabase:
    """A fresh database: ``app_url`` for the store, ``owner_url`` for admin."""

    name: str
    app_url: URL
    owner_url: URL


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    app, owner = os.environ.get(PG_APP_VAR), os.environ.get(PG_OWNER_VAR)
    if not app or not owner:
        message = (
            f"PostgreSQL not configured ({PG_APP_VAR}, {PG_OWNER_VAR}): run "
            "scripts/services/postgres.sh start and eval its `env` output"
        )
        if os.environ.get(PG_REQUIRED_VAR) == "1":
            pytest.fail(message)
        pytest.skip(message)
    return PgServer(make_url(app), make_url(owner))


@pytest.fixture(scope="session")
def pg_database(pg_server: PgServer) -> Iterator[Callable[..., PgDatabase]]:
    """``pg_database(migrate=True)``: a new database on the test server."""
    admin = create_records_engine(pg_server.owner_url).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    created: list[str] = []

    def make(migrate: bool = True) -> PgDatabase:
        name = f"cvt_{secrets.token_hex(6)}"
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        created.append(name)
        db = PgDatabase(
            name, pg_server.app_url.set(database=name), pg_server.owner_url.set(database=name)
        )
        if migrate:
            owner = create_records_engine(db.owner_url)
            try:
                run_migrations(owner, grant_to=pg_server.app_url.username)
            finally:
                owner.dispose()
        return db

    try:
        yield make
    finally:
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


@dataclass(frozen=True)
class Radosgw:
    """The S3 server ``scripts/services/radosgw.sh`` runs (Ceph's RADOS Gateway, TLS 1.3)."""

    endpoint: str
    ca: str
    access_key: str
    secret_key: str

    def client(self) -> Any:
        session = self.session()
        return session.client("s3", endpoint_url=self.endpoint, verify=self.ca)

    def session(self) -> Any:
        import boto3

        return boto3.session.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )


@pytest.fixture(scope="session")
def radosgw() -> Radosgw:
    names = ("ENDPOINT", "CA", "ACCESS_KEY", "SECRET_KEY")
    found = [os.environ.get(f"CALLVAULT_TEST_S3_{name}") for name in names]
    if not all(found):
        message = "S3 server not configured: run scripts/services/radosgw.sh start, eval env"
        if os.environ.get("CALLVAULT_TEST_S3_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return Radosgw(*(str(value) for value in found))


@pytest.fixture
def radosgw_bucket(radosgw: Radosgw) -> Iterator[tuple[Radosgw, Any, str]]:
    """A fresh, empty bucket on radosgw (emptied and deleted afterwards)."""
    client = radosgw.client()
    bucket = f"cvt-{secrets.token_hex(5)}"
    client.create_bucket(Bucket=bucket)
    try:
        yield radosgw, client, bucket
    finally:
        for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
        client.delete_bucket(Bucket=bucket)
