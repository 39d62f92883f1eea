"""data version: one counter bumped by every write the public archive shows

Revision ID: 0012v
Revises: 0010s
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from alembic import op

revision = "0012v"
down_revision = "0010s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":  # stored naive UTC, as UTCDateTime does
        now = now.replace(tzinfo=None)
    op.bulk_insert(table, [{"id": 1, "version": 1, "changed_at": now}])


def downgrade() -> None:
    op.drop_table("data_version")
