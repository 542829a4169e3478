"""Schema migrations, applied programmatically from the packaged alembic scripts.

``run_migrations(engine)`` is the only entry point (there is no ``alembic.ini``): it upgrades
to head inside one transaction and, on PostgreSQL, under an advisory lock so two deployers
racing each other apply each revision once. The revision table is ``callvault_records_version``
so the records schema can share a database with other alembic-managed schemas.

On PostgreSQL the migrations run as the *owner* role; ``grant_to`` then gives the
application role exactly what the store needs (SELECT, INSERT, DELETE on the tenant tables,
SELECT on the revision table, UPDATE of three columns: an upload lease's expiry and the
sealed value of a transcript or analytics row, which the rewrap job replaces after a key
rotation) and nothing more: no other UPDATE, no DDL, and never ownership — an owner could
switch row-level security off.
"""

from __future__ import annotations

import re
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from callvault.errors import ConfigError
from callvault.storage.records._schema import (
    TENANT_TABLES,
    VERSION_TABLE,
    analytics,
    metadata,
    transcripts,
    upload_claims,
)

__all__ = ["current_revision", "head_revision", "run_migrations", "schema_drift"]

_SCRIPT_LOCATION = "callvault.storage.records:migrations"
_LOCK_KEY = 0x63_76_72_65_63  # "cvrec": serialises concurrent run_migrations on PostgreSQL
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", _SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the packaged scripts define."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise ConfigError("no records migrations are packaged")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None for an empty database)."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def schema_drift(connection: Connection) -> list[Any]:
    """Differences between the database and the model (``metadata``), as alembic's
    autogenerate sees them; empty when the migrations and the model agree."""
    context = MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
    )
    return list(compare_metadata(context, metadata))


def run_migrations(engine: Engine, *, grant_to: str | None = None) -> str:
    """Upgrade the records schema to head and return the head revision.

    ``grant_to`` (PostgreSQL only) names the application role to grant access to.
    """
    postgres = engine.dialect.name == "postgresql"
    if grant_to is not None and not postgres:
        raise ConfigError("grant_to applies to PostgreSQL only")
    if grant_to is not None and not _ROLE.fullmatch(grant_to):
        raise ConfigError("grant_to must be a plain lower-case role name")
    with engine.begin() as connection:
        if postgres:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        command.upgrade(_config(connection), "head")
        if grant_to is not None:
            _grant(connection, grant_to)
    return head_revision()


def _grant(connection: Connection, role: str) -> None:
    quote = connection.dialect.identifier_preparer.quote
    tables = ", ".join(quote(table.name) for table in TENANT_TABLES)
    connection.execute(text(f"GRANT SELECT, INSERT, DELETE ON {tables} TO {quote(role)}"))
    connection.execute(text(f"GRANT SELECT ON {quote(VERSION_TABLE)} TO {quote(role)}"))
    # Leases are renewed in place; UPDATE is granted on their expiry column and nothing else.
    claims = quote(upload_claims.name)
    connection.execute(text(f"GRANT SELECT, INSERT, DELETE ON {claims} TO {quote(role)}"))
    connection.execute(text(f"GRANT UPDATE (expires_at) ON {claims} TO {quote(role)}"))
    # The rewrap job replaces a row's sealed value (compare-and-swap, same row, same tenant):
    # UPDATE of that one column per table, never of ids, tenants or clear columns.
    for table, column in (
        (transcripts, transcripts.c.sealed),
        (analytics, analytics.c.sealed_fields),
    ):
        connection.execute(
            text(f"GRANT UPDATE ({quote(column.name)}) ON {quote(table.name)} TO {quote(role)}")
        )
