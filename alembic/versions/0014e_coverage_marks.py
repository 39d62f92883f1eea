"""collection: coverage_marks, the stories a cycle widened whose scores wait for its end

Revision ID: 0014e
Revises: 0014dq
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0014e"
down_revision = "0014dq"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A first cycle rewrote each article's score ~6 times, once per source that relisted
    # it (~12,000 UPDATEs of whole article rows for 2,000 articles). The stories widened
    # are now marked here, in the transaction that widens them, and rescored once when the
    # cycle ends (`db/coverage_marks.py`): a cycle killed in between leaves its marks for
    # the next one. No foreign key: a story purged meanwhile is simply not rescored.
    op.create_table(
        "coverage_marks",
        sa.Column("story_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("story_id", name=op.f("pk_coverage_marks")),
    )


def downgrade() -> None:
    op.drop_table("coverage_marks")
