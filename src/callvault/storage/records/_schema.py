"""The tables, as SQLAlchemy Core metadata: the model the migrations must match.

Columns a query needs (tenant, ids, the blind index, clear analytics labels, times) are in
clear; everything that could identify or describe a person is in the ``sealed`` /
``sealed_fields`` bytes the layer above produced. The store never sees plaintext or keys.

The primary key is ``(tenant, id)``, not ``id`` alone: with a global key, inserting an id that
another tenant already uses would fail and so reveal that the id exists elsewhere.

A change here needs a new revision under ``migrations/versions``; a test fails until the two
agree (alembic's autogenerate comparison must find no difference).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Double,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

__all__ = [
    "BLIND_INDEX_SIZE",
    "TENANT_SETTING",
    "TENANT_TABLES",
    "VERSION_TABLE",
    "analytics",
    "metadata",
    "transcripts",
]

BLIND_INDEX_SIZE = 32  # HMAC-SHA256
VERSION_TABLE = "callvault_records_version"
TENANT_SETTING = "callvault.tenant"  # the PostgreSQL session setting the RLS policies read

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

transcripts = Table(
    "transcripts",
    metadata,
    Column("id", String(128), nullable=False),
    Column("tenant", String(63), nullable=False),
    Column("call_id", String(128), nullable=False),
    Column("caller_index", LargeBinary(BLIND_INDEX_SIZE), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant", "id"),
    Index(None, "tenant", "caller_index"),
    Index(None, "tenant", "call_id"),
)

analytics = Table(
    "analytics",
    metadata,
    Column("id", String(128), nullable=False),
    Column("tenant", String(63), nullable=False),
    Column("call_id", String(128), nullable=False),
    Column("caller_index", LargeBinary(BLIND_INDEX_SIZE), nullable=True),
    Column("duration_seconds", Double, nullable=False),
    Column("outcome", String(32), nullable=True),
    Column("sentiment", String(32), nullable=True),
    Column("sealed_fields", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant", "id"),
    Index(None, "tenant", "caller_index"),
    Index(None, "tenant", "call_id"),
)

TENANT_TABLES = (transcripts, analytics)
