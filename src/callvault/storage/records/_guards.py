"""Checks that run before the store serves a single request, and the per-transaction tenant
binding that PostgreSQL's row-level security reads.

The store refuses to start (``ConfigError``) when:

- the schema is not at the packaged head revision (run ``run_migrations`` first);
- on PostgreSQL, the session role is a superuser or has BYPASSRLS (policies do not apply to
  them), or owns the tables or can become their owner (an owner can switch RLS off), or a
  tenant table does not have row-level security enabled *and* forced.

So a misconfigured deployment fails at start-up instead of silently serving every tenant's
rows to every other tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

from callvault._ids import check_tenant_id
from callvault.errors import ConfigError
from callvault.storage.records._migrate import current_revision, head_revision
from callvault.storage.records._schema import ISOLATED_TABLES, TENANT_SETTING

__all__ = ["bind_tenant", "check_store_ready", "tenant_transaction"]

_ROLE_SQL = text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
_TABLES_SQL = text(
    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
    " pg_has_role(c.relowner, 'MEMBER') AS can_own"
    " FROM pg_class c WHERE c.relname = ANY(:names)"
    " AND c.relnamespace = to_regnamespace(current_schema())"
)


def check_store_ready(engine: Engine) -> None:
    with engine.connect() as connection:
        found = current_revision(connection)
        head = head_revision()
        if found != head:
            raise ConfigError(
                f"records schema is at revision {found or 'none'}, expected {head}: "
                "run `callvault db migrate` (as the schema owner) first"
            )
        if engine.dialect.name == "postgresql":
            _check_postgres_role(connection)


def _check_postgres_role(connection: Connection) -> None:
    role = connection.execute(_ROLE_SQL).one()
    if role.rolsuper or role.rolbypassrls:
        raise ConfigError(
            "the records store refuses a superuser or BYPASSRLS database role: row-level "
            "security would not isolate tenants; connect as the application role"
        )
    names = [table.name for table in ISOLATED_TABLES]
    rows = {row.relname: row for row in connection.execute(_TABLES_SQL, {"names": names})}
    for name in names:
        row = rows.get(name)
        if row is None or not (row.relrowsecurity and row.relforcerowsecurity):
            raise ConfigError(f"table {name!r} lacks forced row-level security; re-run migrations")
        if row.can_own:
            raise ConfigError(
                f"the database role owns (or can act as the owner of) table {name!r} and could "
                "disable row-level security; connect as a separate, non-owner application role"
            )


def bind_tenant(connection: Connection, tenant: str) -> None:
    """Bind the current PostgreSQL transaction to ``tenant`` (``SET LOCAL`` semantics: it
    ends with the transaction, so a pooled connection never carries it to the next user)."""
    connection.execute(
        text("SELECT set_config(:name, :tenant, true)"), {"name": TENANT_SETTING, "tenant": tenant}
    )


@contextmanager
def tenant_transaction(engine: Engine, tenant: str) -> Iterator[Connection]:
    """One transaction for ``tenant``: the only way the store touches tenant tables."""
    check_tenant_id(tenant)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            bind_tenant(connection, tenant)
        yield connection
