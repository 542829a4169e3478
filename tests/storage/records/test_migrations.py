"""Migrations: an empty database reaches head, and the model matches what the migrations
built (alembic's autogenerate comparison finds nothing), on SQLite and PostgreSQL."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from callvault.errors import ConfigError
from callvault.storage.records import (
    create_records_engine,
    current_revision,
    head_revision,
    run_migrations,
    schema_drift,
)


def test_empty_sqlite_database_migrates_to_head_with_no_drift(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        assert current_revision(connection) is None
    assert run_migrations(sqlite_engine) == head_revision() == "0002"
    with sqlite_engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        assert schema_drift(connection) == []
    run_migrations(sqlite_engine)  # idempotent


def test_drift_is_detected(sqlite_engine: Engine) -> None:
    # The comparison must be able to fail: a column the model does not know is a diff.
    run_migrations(sqlite_engine)
    with sqlite_engine.begin() as connection:
        connection.execute(text("ALTER TABLE transcripts ADD COLUMN caller_number TEXT"))
    with sqlite_engine.connect() as connection:
        drift = schema_drift(connection)
    assert any(d[0] == "remove_column" and d[3].name == "caller_number" for d in drift), drift


def test_grant_to_is_postgresql_only(sqlite_engine: Engine) -> None:
    with pytest.raises(ConfigError):
        run_migrations(sqlite_engine, grant_to="callvault_app")


def test_alembic_cli_path_is_refused() -> None:
    # env.py runs only on the connection run_migrations passes in: no second way in.
    config = Config()
    config.set_main_option("script_location", "callvault.storage.records:migrations")
    config.set_main_option("sqlalchemy.url", "sqlite://")
    with pytest.raises(ConfigError, match="run_migrations"):
        command.upgrade(config, "head")


def test_migration_scripts_are_packaged() -> None:
    root = resources.files("callvault.storage.records.migrations")
    assert root.joinpath("env.py").is_file()
    assert root.joinpath("versions", "0001_initial.py").is_file()


def test_postgres_migrates_to_head_with_forced_rls(pg_db: Any) -> None:
    app_role = pg_db.app_url.username
    engine = create_records_engine(pg_db.owner_url)
    try:
        run_migrations(engine, grant_to=app_role)  # again: idempotent
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            assert schema_drift(connection) == []
            rls = connection.execute(
                text(
                    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
                    " WHERE relname IN ('transcripts', 'analytics') ORDER BY relname"
                )
            ).all()
            assert [tuple(r) for r in rls] == [
                ("analytics", True, True),
                ("transcripts", True, True),
            ]
            grants = (
                connection.execute(
                    text(
                        "SELECT privilege_type FROM information_schema.role_table_grants"
                        " WHERE grantee = :role AND table_name = 'transcripts' ORDER BY 1"
                    ),
                    {"role": app_role},
                )
                .scalars()
                .all()
            )
            assert grants == ["DELETE", "INSERT", "SELECT"]  # no UPDATE, no DDL
    finally:
        engine.dispose()
