"""Initial records schema: transcripts and analytics, tenant-isolated.

On PostgreSQL each table gets row-level security, FORCEd (so it binds the table owner too),
with one policy for every command: a row is visible and writable only when its ``tenant``
equals the transaction's ``callvault.tenant`` setting. With the setting unset,
``current_setting(..., true)`` is NULL and no row matches: fail closed.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_TABLES = ("transcripts", "analytics")
_MATCH = "tenant = current_setting('callvault.tenant', true)"


def _common_head() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "transcripts",
        *_common_head(),
        sa.Column("caller_index", sa.LargeBinary(32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_transcripts"),
    )
    op.create_table(
        "analytics",
        *_common_head(),
        sa.Column("caller_index", sa.LargeBinary(32), nullable=True),
        sa.Column("duration_seconds", sa.Double(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("sentiment", sa.String(32), nullable=True),
        sa.Column("sealed_fields", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_analytics"),
    )
    for table in _TABLES:
        op.create_index(f"ix_{table}_tenant_caller_index", table, ["tenant", "caller_index"])
        op.create_index(f"ix_{table}_tenant_call_id", table, ["tenant", "call_id"])
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING ({_MATCH}) WITH CHECK ({_MATCH})"
            )


def downgrade() -> None:
    for table in _TABLES:
        op.drop_table(table)  # its indexes and policies go with it
