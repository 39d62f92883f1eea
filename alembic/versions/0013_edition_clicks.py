"""edition clicks: one counter per (edition, item), never per member

Revision ID: 0013h
Revises: 0012v
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0013h"
down_revision = "0013c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edition_clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"], ["editions.id"],
            name=op.f("fk_edition_clicks_edition_id_editions"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["edition_items.id"],
            name=op.f("fk_edition_clicks_item_id_edition_items"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edition_clicks")),
        sa.UniqueConstraint("edition_id", "item_id", name="uq_edition_clicks_edition_item"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("edition_clicks")
