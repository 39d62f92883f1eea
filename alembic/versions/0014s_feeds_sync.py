"""feeds_sync: the digest of the feeds.yaml the sources table was last synced from, so a
cycle that reads the same file again skips parsing and syncing it

Revision ID: 0014s
Revises: 0014b
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0014s"
down_revision = "0014b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "feeds_sync",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeds_sync")),
    )
    # The row is there from the start: collectors syncing at once only ever UPDATE it.
    op.bulk_insert(table, [{"id": 1, "digest": None, "synced_at": None}])


def downgrade() -> None:
    op.drop_table("feeds_sync")
