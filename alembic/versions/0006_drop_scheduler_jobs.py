"""drop APScheduler's job table: it held the settings, secret key and SMTP password included

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

The scheduler used a SQLAlchemy job store in the application database and passed every job
`settings.model_dump()`, so each row pickled the secret key and the SMTP URL (which may
carry a password). Jobs now live in memory (see veille/scheduler.py): the table has no
reader left, and dropping it is how the secrets leave the database. On SQLite, secure_delete
overwrites the freed pages with zeros, so the pickles do not linger in the file either.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JOBS_TABLE = "apscheduler_jobs"  # APScheduler's default name; created only by `veille run`


def upgrade() -> None:
    bind = op.get_bind()
    if JOBS_TABLE not in sa.inspect(bind).get_table_names():
        return
    if bind.dialect.name == "sqlite":
        previous = bind.exec_driver_sql("PRAGMA secure_delete").scalar()
        bind.exec_driver_sql("PRAGMA secure_delete = 1")
        op.drop_table(JOBS_TABLE)
        bind.exec_driver_sql(f"PRAGMA secure_delete = {int(previous or 0)}")
    else:
        op.drop_table(JOBS_TABLE)


def downgrade() -> None:
    """Nothing to restore: an older scheduler recreates its job table on its first start."""
