"""Upload claims: a lease per object id being uploaded, so API replicas never race.

The table gets the same forced row-level security policy as the call-data tables: a claim
is visible and writable only inside a transaction bound to its tenant.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_MATCH = "tenant = current_setting('callvault.tenant', true)"


def upgrade() -> None:
    op.create_table(
        "upload_claims",
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("object_id", sa.String(128), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "object_id", name="pk_upload_claims"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE upload_claims ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE upload_claims FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON upload_claims USING ({_MATCH}) "
            f"WITH CHECK ({_MATCH})"
        )


def downgrade() -> None:
    op.drop_table("upload_claims")
