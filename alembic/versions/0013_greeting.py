"""editions: the letter's one greeting (wording with {prénom} / {nom}, and on/off)

Letters opened with a hard-coded « Bonjour NAME, » and delegates wrote their own greeting at
the top of the edito: two greetings. The wording now lives with the edition (a new draft
copies the previous one's), editable in the composer. Existing editions get the wording
that matches what was sent before, minus the surname.

Revision ID: 0013c
Revises: 0012v
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0013c"
down_revision = "0012v"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.add_column(
            sa.Column("greeting", sa.Text(), nullable=False, server_default="Bonjour {prénom},")
        )
        batch.add_column(
            sa.Column("greeting_on", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("greeting_on")
        batch.drop_column("greeting")
