"""bounces: the report mail's key, so one report read twice (a crash between applying it
and marking it done) is applied once — alert mails included, which have no delivery row

Revision ID: 0014b
Revises: 0013o
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0014b"
down_revision = "0013o"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bounces") as batch:
        batch.add_column(sa.Column("report_key", sa.String(length=64), nullable=True))
    op.create_index("ix_bounces_member_report", "bounces", ["member_id", "report_key"])


def downgrade() -> None:
    op.drop_index("ix_bounces_member_report", table_name="bounces")
    with op.batch_alter_table("bounces") as batch:
        batch.drop_column("report_key")
