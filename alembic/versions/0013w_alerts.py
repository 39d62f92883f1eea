"""alerts: members' saved archive filters, mailed with the new matches

Revision ID: 0013w
Revises: 0012v
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0013w"
down_revision = "0013h"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("filter", sa.String(length=2000), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("token_salt", sa.String(length=32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("confirmed_at", TS, nullable=True),
        sa.Column("paused_at", TS, nullable=True),
        sa.Column("last_article_id", sa.Integer(), nullable=False),
        sa.Column("last_run_at", TS, nullable=True),
        sa.Column("last_sent_at", TS, nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_alerts_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_member_id", "alerts", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_member_id", table_name="alerts")
    op.drop_table("alerts")
