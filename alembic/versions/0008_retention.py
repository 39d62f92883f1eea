"""retention: re-consent asked, and sources paused after failing again and again

Revision ID: 0008r
Revises: 0007b
Create Date: 2026-12-06

`members.reconsent_asked_at`: when the one re-consent mail of the 3-year rule went out
(cleared by any action of the member); erasure follows 30 days later without an answer.
`sources.paused_at`: set when a source failed PAUSE_AFTER_FAILURES times in a row; a paused
source is not fetched until the delegate resumes it.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0008r"
down_revision = "0007b"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("reconsent_asked_at", TS, nullable=True))
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("paused_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("paused_at")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("reconsent_asked_at")
