"""scale-out: source leases (which collector holds a due source, until when) and the
rate-limit counters shared by every web process

Revision ID: 0013o
Revises: 0012v
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0013o"
down_revision = "0013w"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "rate_hits",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", "bucket", name=op.f("pk_rate_hits")),
    )
    op.create_index("ix_rate_hits_bucket", "rate_hits", ["bucket"])


def downgrade() -> None:
    op.drop_index("ix_rate_hits_bucket", table_name="rate_hits")
    op.drop_table("rate_hits")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
