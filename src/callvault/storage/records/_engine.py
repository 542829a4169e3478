"""Engines for the records store: SQLite (embedded default) or PostgreSQL over verified TLS.

Every engine is built from a URL that ``check_database_url`` accepted; there is no other
constructor, so a weak ``sslmode`` cannot reach a connection. PostgreSQL connections are
checked once more when they open: the driver must report TLS in use with protocol TLSv1.3,
or the connection is closed and refused (fail closed even if libpq chose otherwise).

SQLite files are created owner-only (0600) and run with ``secure_delete`` so deleted rows are
overwritten rather than left in free pages.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL

from callvault.errors import ConfigError
from callvault.storage.records._url import check_database_url
from callvault.transport.trace import current_trace, record_tls_values

__all__ = ["RECORDS_DB_FILE", "check_tls_session", "create_records_engine", "embedded_url"]

RECORDS_DB_FILE = "records.db"
_SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA secure_delete = ON",
    "PRAGMA busy_timeout = 5000",
)
_SESSION_TLS = "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def embedded_url(home: Path) -> str:
    """The embedded default: ``records.db`` in the callvault home directory."""
    return f"sqlite:///{home / RECORDS_DB_FILE}"


def create_records_engine(url: str | URL) -> Engine:
    """An engine for ``url`` after ``check_database_url`` accepted it."""
    checked = check_database_url(url)
    if checked.get_backend_name() == "sqlite":
        return _sqlite_engine(checked)
    engine = create_engine(checked, pool_pre_ping=True, pool_size=5, max_overflow=5)
    event.listen(engine, "connect", _verify_postgres_tls)
    event.listen(engine, "checkout", _trace_checkout)
    return engine


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        if not path.parent.is_dir():
            raise ConfigError(f"records database directory does not exist: {path.parent}")
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def check_tls_session(ssl_in_use: bool, protocol: str | None) -> None:
    """Refuse a PostgreSQL session that is not TLS 1.3 (the last line of defence)."""
    if not ssl_in_use:
        raise ConfigError("database connection refused: TLS is not in use")
    if protocol != "TLSv1.3":
        raise ConfigError(f"database connection refused: TLS protocol {protocol!r}, need TLSv1.3")


def _verify_postgres_tls(dbapi_connection: Any, record: Any) -> None:
    # psycopg exposes whether TLS is in use but not the protocol; the server's own view of
    # this session (pg_stat_ssl) gives it, one query per new pooled connection.
    protocol = cipher = None
    ssl_in_use = bool(dbapi_connection.pgconn.ssl_in_use)
    if ssl_in_use:
        row = dbapi_connection.execute(_SESSION_TLS).fetchone()
        dbapi_connection.rollback()
        if row is not None and row[0]:
            protocol, cipher = row[1], row[2]
    try:
        check_tls_session(ssl_in_use, protocol)
    except ConfigError:
        dbapi_connection.close()
        raise
    record.info["callvault_tls"] = (protocol, cipher)


def _trace_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Each use of a pooled connection is a hop of the current call's trace, if any: the
    session's TLS as the server saw it when the connection was made (it cannot change)."""
    if current_trace() is None:
        return
    protocol, cipher = record.info.get("callvault_tls", (None, None))
    info = dbapi_connection.info
    record_tls_values(
        "postgresql",
        f"{info.host}:{info.port}",
        protocol=protocol or "none",
        cipher=cipher or "none",
        authenticated_by="sslmode=verify-full: chain to sslrootcert and host name",
    )
