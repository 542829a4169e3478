"""``RecordStore``: transcripts and analytics rows for many tenants, in one database.

The store keeps what the layer above sealed; it never sees plaintext or keys. Every method
takes the tenant first, and every statement goes through ``_scoped`` (tenant in the WHERE
clause); on PostgreSQL each transaction is also bound to the tenant for row-level security,
so isolation holds even against SQL that forgets the filter.

SQLAlchemy *Core*, not the ORM: rows here are immutable values, and Core keeps every
statement explicit (the tenant filter is visible in code review) with no identity map or
session cache that could hand one tenant an object loaded for another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from callvault._ids import check_object_id
from callvault.storage.records._claims import UploadClaims
from callvault.storage.records._engine import create_records_engine
from callvault.storage.records._errors import RecordExists, RecordNotFound
from callvault.storage.records._guards import check_store_ready, tenant_transaction
from callvault.storage.records._records import (
    AnalyticsRow,
    NewAnalytics,
    NewTranscript,
    Transcript,
    check_blind_index,
)
from callvault.storage.records._rewrite import (
    SealedTable,
    count_sealed,
    iter_sealed,
    replace_sealed,
)
from callvault.storage.records._schema import TENANT_TABLES, analytics, transcripts
from callvault.storage.records._scoped import delete_where, insert_row, select_where

__all__ = ["RecordStore"]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # SQLite keeps no zone (every time the store writes is UTC); PostgreSQL answers in the
    # session's zone. Either way the caller gets UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RecordStore:
    """Tenant-scoped storage of sealed transcripts and analytics rows."""

    def __init__(self, engine: Engine, *, clock: Clock = _utc_now) -> None:
        check_store_ready(engine)
        self._engine = engine
        self._clock = clock

    @classmethod
    def open(cls, url: str | URL, *, clock: Clock = _utc_now) -> RecordStore:
        """Build the engine (``check_database_url`` applies) and check it is ready."""
        engine = create_records_engine(url)
        try:
            return cls(engine, clock=clock)
        except BaseException:
            engine.dispose()
            raise

    def close(self) -> None:
        self._engine.dispose()

    @property
    def claims(self) -> UploadClaims:
        """Upload leases in the same database, shared by every API replica using it."""
        return UploadClaims(self._engine, clock=self._clock)

    def _tenant_tx(self, tenant: str) -> AbstractContextManager[Connection]:
        return tenant_transaction(self._engine, tenant)

    # -- transcripts --------------------------------------------------------------------

    def add_transcript(self, tenant: str, record: NewTranscript) -> str:
        values = {
            "id": record.id,
            "call_id": record.call_id,
            "caller_index": record.caller_index,
            "sealed": record.sealed,
        }
        return self._insert(transcripts, "transcript", tenant, values)

    def get_transcript(self, tenant: str, record_id: str) -> Transcript:
        return _transcript(self._get(transcripts, "transcript", tenant, record_id))

    def find_transcripts_by_caller_index(self, tenant: str, index: bytes) -> list[Transcript]:
        return [_transcript(row) for row in self._find_by_index(transcripts, tenant, index)]

    def delete_transcript(self, tenant: str, record_id: str) -> bool:
        return self._delete_one(transcripts, tenant, record_id)

    def delete_transcripts_by_caller_index(self, tenant: str, index: bytes) -> int:
        return self._delete_by_index(transcripts, tenant, index)

    # -- analytics ----------------------------------------------------------------------

    def add_analytics(self, tenant: str, record: NewAnalytics) -> str:
        values = {
            "id": record.id,
            "call_id": record.call_id,
            "caller_index": record.caller_index,
            "duration_seconds": float(record.duration_seconds),
            "outcome": record.outcome,
            "sentiment": record.sentiment,
            "sealed_fields": record.sealed_fields,
        }
        return self._insert(analytics, "analytics row", tenant, values)

    def get_analytics(self, tenant: str, record_id: str) -> AnalyticsRow:
        return _analytics(self._get(analytics, "analytics row", tenant, record_id))

    def find_analytics_by_caller_index(self, tenant: str, index: bytes) -> list[AnalyticsRow]:
        return [_analytics(row) for row in self._find_by_index(analytics, tenant, index)]

    def delete_analytics(self, tenant: str, record_id: str) -> bool:
        return self._delete_one(analytics, tenant, record_id)

    def delete_analytics_by_caller_index(self, tenant: str, index: bytes) -> int:
        return self._delete_by_index(analytics, tenant, index)

    # -- whole tenant -------------------------------------------------------------------

    def delete_all_for_tenant(self, tenant: str) -> int:
        """Delete every row of ``tenant`` in one transaction; returns the number deleted."""
        with self._tenant_tx(tenant) as connection:
            return sum(
                connection.execute(delete_where(table, tenant)).rowcount for table in TENANT_TABLES
            )

    # -- sealed values in place: the rewrap job (``_rewrite``) ----------------------------

    def count_sealed(self, tenant: str, table: SealedTable) -> int:
        return count_sealed(self._engine, tenant, table)

    def iter_sealed(
        self, tenant: str, table: SealedTable, *, after: str = "", page: int = 500
    ) -> Iterator[list[tuple[str, bytes]]]:
        """Pages of ``(id, sealed value)`` of ``tenant``'s rows in id order, after ``after``."""
        return iter_sealed(self._engine, tenant, table, after=after, page=page)

    def replace_sealed(
        self, tenant: str, table: SealedTable, record_id: str, old: bytes, new: bytes
    ) -> bool:
        """Replace one row's sealed value if it is still ``old`` (compare-and-swap)."""
        return bool(replace_sealed(self._engine, tenant, table, [(record_id, old, new)]))

    def replace_sealed_many(
        self, tenant: str, table: SealedTable, changes: Sequence[tuple[str, bytes, bytes]]
    ) -> list[str]:
        """``replace_sealed`` for ``(id, old, new)`` triples in one transaction; returns the
        ids replaced (a row deleted or changed meanwhile is not)."""
        return replace_sealed(self._engine, tenant, table, changes)

    # -- shared -------------------------------------------------------------------------

    def _insert(self, table: Table, kind: str, tenant: str, values: dict[str, Any]) -> str:
        values["created_at"] = _aware(self._clock())
        try:
            with self._tenant_tx(tenant) as connection:
                connection.execute(insert_row(table, tenant, values))
        except IntegrityError:
            raise RecordExists(kind) from None
        return str(values["id"])

    def _get(self, table: Table, kind: str, tenant: str, record_id: str) -> Row[Any]:
        check_object_id(record_id)
        with self._tenant_tx(tenant) as connection:
            row = connection.execute(select_where(table, tenant, table.c.id == record_id)).first()
        if row is None:
            raise RecordNotFound(kind)
        return row

    def _find_by_index(self, table: Table, tenant: str, index: bytes) -> list[Row[Any]]:
        check_blind_index(index)
        with self._tenant_tx(tenant) as connection:
            statement = select_where(table, tenant, table.c.caller_index == index)
            return list(connection.execute(statement))

    def _delete_one(self, table: Table, tenant: str, record_id: str) -> bool:
        check_object_id(record_id)
        with self._tenant_tx(tenant) as connection:
            statement = delete_where(table, tenant, table.c.id == record_id)
            return connection.execute(statement).rowcount > 0

    def _delete_by_index(self, table: Table, tenant: str, index: bytes) -> int:
        check_blind_index(index)
        with self._tenant_tx(tenant) as connection:
            statement = delete_where(table, tenant, table.c.caller_index == index)
            return connection.execute(statement).rowcount


def _transcript(row: Row[Any]) -> Transcript:
    return Transcript(
        id=row.id,
        tenant=row.tenant,
        call_id=row.call_id,
        caller_index=bytes(row.caller_index),
        sealed=bytes(row.sealed),
        created_at=_aware(row.created_at),
    )


def _analytics(row: Row[Any]) -> AnalyticsRow:
    return AnalyticsRow(
        id=row.id,
        tenant=row.tenant,
        call_id=row.call_id,
        caller_index=None if row.caller_index is None else bytes(row.caller_index),
        duration_seconds=float(row.duration_seconds),
        outcome=row.outcome,
        sentiment=row.sentiment,
        sealed_fields=bytes(row.sealed_fields),
        created_at=_aware(row.created_at),
    )
