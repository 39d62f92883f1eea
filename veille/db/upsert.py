"""The dialect's own INSERT, for statements that must not fail on a row already there
(`ON CONFLICT DO NOTHING / DO UPDATE`), which SQLAlchemy's generic `insert` cannot say.

Only the URL's dialect is imported: importing both costs every command ~0.1 s.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def conflict_insert(session: Session, table: Any) -> Any:
    """`insert(table)` of the session's dialect, with `on_conflict_do_nothing` and
    `on_conflict_do_update`; another dialect is refused rather than silently duplicated."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise NotImplementedError(f"no conflict-free insert for {dialect}")
