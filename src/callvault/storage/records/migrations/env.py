"""Alembic environment for the records schema: online only, on the connection that
``run_migrations`` passes in (no ini file, no URL of its own, so no second path to the
database that could skip ``check_database_url``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from callvault.errors import ConfigError
from callvault.storage.records._schema import VERSION_TABLE, metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(_connection, Connection):
    raise ConfigError("records migrations run only through run_migrations(engine)")
_run(_connection)
