"""Read-only Core statements run on a session's connection, past the ORM's execution layer.

`Session.execute` wraps every statement in the ORM's machinery — an ORM execution state,
the `do_orm_execute` hooks (`veille.db.data_version` watches writes there), the ORM's
compile plugin for statements naming mapped columns, then result adaptation — even for a
`select` of plain columns that loads no object. For the archive's listings that was
~110–170 µs of CPU a statement (measured at 1M articles: a page's cards 0.41–0.57 ms
through the session, 0.27–0.30 ms on its connection), and a distinct archive answer runs
five to eight of them. The rows are the same: the columns keep their types, and the
statement runs in the session's own transaction.

What the session layer gave that this keeps: pending ORM changes are flushed first when the
session autoflushes, so a read still sees what the same session wrote. Writes must not go
through here: their data version would not move.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session

if TYPE_CHECKING:  # SQLAlchemy 2.1's typing; 2.0 (which pyproject.toml admits) has none
    from sqlalchemy.util.typing import TupleAny


def read(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> CursorResult[*TupleAny]:
    """`statement` (a read: SELECT) with `params`, on `session`'s connection."""
    if session.autoflush and (session.new or session.deleted or session.dirty):
        session.flush()
    return session.connection().execute(statement, params)
