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
    "ISOLATED_TABLES",
    "TENANT_SETTING",
    "TENANT_TABLES",
    "VERSION_TABLE",
    "analytics",
    "metadata",
    "transcripts",
    "upload_claims",
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

upload_claims = Table(
    "upload_claims",
    metadata,
    Column("tenant", String(63), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("holder", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant", "object_id"),
)
"""Leases on object ids being uploaded right now, so two API replicas never write one id
at once (``_claims``). Rows live for the length of an upload; none holds call data."""

TENANT_TABLES = (transcripts, analytics)
"""The tables of call data: what erasing a tenant's records deletes."""
ISOLATED_TABLES = (*TENANT_TABLES, upload_claims)
"""Every table with a ``tenant`` column, each under forced row-level security."""
