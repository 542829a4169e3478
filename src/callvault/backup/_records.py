"""Records in a backup: one snapshot of every row, as JSON lines, and loading them back.

Consistency: the rows of both tables come from *one* snapshot.

* SQLite: the online backup API copies the database into a private temporary file in one
  step (a read transaction, so no writer is half-visible), and rows are read from the copy;
  the API's writers wait only for the page copy, not for the whole backup.
* PostgreSQL: one ``REPEATABLE READ, READ ONLY`` transaction; its snapshot is fixed by the
  first statement, and only then is the tenant list read (row-level security shows the
  application role one tenant at a time), so every tenant with rows in the snapshot is in
  the list.

Rows are serialised by column type (bytes as base64, times as ISO 8601), independent of the
backend, so a backup of SQLite restores into PostgreSQL and back. Upload leases are not
call data and are not kept.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, LargeBinary, Table, select, text

from callvault.errors import BackupInvalid
from callvault.storage.records import (
    RECORDS_DB_FILE,
    TENANT_SETTING,
    create_records_engine,
)
from callvault.storage.records._schema import TENANT_TABLES

__all__ = ["TABLES", "dump_tables", "insert_rows", "parse_row"]

TABLES: dict[str, Table] = {table.name: table for table in TENANT_TABLES}
_BIND = text("SELECT set_config(:name, :tenant, true)")
_BATCH = 500


def dump_tables(
    home: Path, records_url: str | None, tenants: Callable[[], list[str]]
) -> Iterator[tuple[str, Iterator[bytes]]]:
    """``(table name, JSON-lines pieces)`` for every call-data table, from one snapshot.

    A generator: the snapshot lives while it is consumed, and is released at its end."""
    if records_url is None:
        with tempfile.TemporaryDirectory(prefix="callvault-backup-") as tmp:
            copy = Path(tmp) / RECORDS_DB_FILE
            _sqlite_snapshot(home / RECORDS_DB_FILE, copy)
            engine = create_records_engine(f"sqlite:///{copy}")
            try:
                with engine.connect() as connection:
                    for name, table in TABLES.items():
                        yield (
                            name,
                            _lines(
                                connection.execute(
                                    select(table).order_by(table.c.tenant, table.c.id)
                                )
                            ),
                        )
            finally:
                engine.dispose()
        return
    engine = create_records_engine(records_url).execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    )
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(text("SELECT 1"))  # fixes the snapshot
            names = tenants()
            for name, table in TABLES.items():
                yield name, _pg_rows(connection, table, names)
    finally:
        engine.dispose()


def _sqlite_snapshot(source: Path, copy: Path) -> None:
    if not source.exists():
        raise BackupInvalid(f"no records database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _pg_rows(connection: Connection, table: Table, tenants: list[str]) -> Iterator[bytes]:
    for tenant in tenants:
        connection.execute(_BIND, {"name": TENANT_SETTING, "tenant": tenant})
        yield from _lines(_pages(connection, table, tenant))


def _pages(connection: Connection, table: Table, tenant: str) -> Iterator[Any]:
    """The tenant's rows in id order, ``_BATCH`` at a time (keyset pagination): constant
    memory without a server-side cursor that a reader stopping early would leave open."""
    last = None
    while True:
        statement = select(table).where(table.c.tenant == tenant)
        if last is not None:
            statement = statement.where(table.c.id > last)
        rows = connection.execute(statement.order_by(table.c.id).limit(_BATCH)).all()
        yield from rows
        if len(rows) < _BATCH:
            return
        last = rows[-1].id


def _lines(rows: Iterable[Any]) -> Iterator[bytes]:
    batch = bytearray()
    for row in rows:
        batch += _encode(row._mapping) + b"\n"
        if len(batch) >= 1 << 20:
            yield bytes(batch)
            batch.clear()
    if batch:
        yield bytes(batch)


def _encode(row: Any) -> bytes:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, bytes | memoryview):
            out[key] = base64.b64encode(bytes(value)).decode()
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return json.dumps(out, sort_keys=True, separators=(",", ":")).encode()


def parse_row(table: Table, line: bytes) -> dict[str, Any]:
    """One JSON line back into column values; ``BackupInvalid`` if it does not fit."""
    try:
        data = json.loads(line)
        if not isinstance(data, dict) or set(data) != {c.name for c in table.columns}:
            raise ValueError("columns differ")
        row: dict[str, Any] = {}
        for column in table.columns:
            value = data[column.name]
            if value is not None and isinstance(column.type, LargeBinary):
                value = base64.b64decode(value, validate=True)
            elif value is not None and isinstance(column.type, DateTime):
                value = datetime.fromisoformat(value)
            row[column.name] = value
    except (ValueError, TypeError) as exc:
        raise BackupInvalid(f"malformed {table.name} row in the backup: {exc}") from None
    return row


def insert_rows(engine: Engine, rows: Iterable[tuple[Table, dict[str, Any]]]) -> int:
    """Insert every row in one transaction (binding each row's tenant for PostgreSQL's
    row-level security); all or nothing. Returns the number inserted."""
    postgres = engine.dialect.name == "postgresql"
    count = 0
    with engine.begin() as connection:
        batch: list[dict[str, Any]] = []
        key: tuple[str, str] | None = None

        def flush() -> None:
            if batch and key is not None:
                if postgres:
                    connection.execute(_BIND, {"name": TENANT_SETTING, "tenant": key[1]})
                connection.execute(TABLES[key[0]].insert(), batch)
                batch.clear()

        for table, row in rows:
            if (table.name, row["tenant"]) != key or len(batch) >= _BATCH:
                flush()
                key = (table.name, row["tenant"])
            batch.append(row)
            count += 1
        flush()
    return count
