"""The sources' ids, keys and names as the archive's searches read them, kept per process
for one data version.

A listing turns its source filter's keys into ids (`search_plan.plan_of`) and names the
source facet's ~300 sources (`search._tally`): two queries a listing, the second an `IN`
of 300 ids whose parameters SQLAlchemy renders one by one — ~0.7 ms and ~1.3 ms of CPU at
1M articles, for a table that changes when the feeds are synchronised. The sources are
among the tables `veille.db.data_version` watches, so the whole table read once per
version (~0.5 ms for 300 sources) serves every listing until it moves: the response cache
already keeps whole pages on the same promise.

A writer that does not move the version (a raw cursor) cannot make a listing lose a
source: ids or keys missing from the kept table are read from the database, as before.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from veille.db import data_version
from veille.db.reads import read
from veille.db.tables import SourceRow


@dataclass(frozen=True)
class SourceTable:
    version: int
    names: dict[int, tuple[str, str]]  # id → (key, name)
    ids: dict[str, int]  # key → id


_KEPT: weakref.WeakKeyDictionary[Any, SourceTable] = weakref.WeakKeyDictionary()
_ALL = select(SourceRow.id, SourceRow.key, SourceRow.name)
_BY_ID = _ALL.where(SourceRow.id.in_(bindparam("ids", expanding=True)))
_BY_KEY = _ALL.where(SourceRow.key.in_(bindparam("keys", expanding=True)))


def _kept(session: Session) -> SourceTable | None:
    """The table for the data version `session` sees (None: no version to trust)."""
    version = data_version.current(session)
    if version is None:
        return None
    bind = session.get_bind()
    kept = _KEPT.get(bind)
    if kept is None or kept.version != version.number:
        rows = read(session, _ALL).all()
        kept = SourceTable(
            version.number, {i: (k, n) for i, k, n in rows}, {k: i for i, k, _ in rows}
        )
        _KEPT[bind] = kept
    return kept


def names(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(key, name) of each of `ids` that is a source."""
    wanted = sorted(set(ids))
    kept = _kept(session)
    found = {i: kept.names[i] for i in wanted if i in kept.names} if kept else {}
    missing = [i for i in wanted if i not in found]
    if missing:
        found.update({i: (k, n) for i, k, n in read(session, _BY_ID, {"ids": missing})})
    return found


def ids_of(session: Session, keys: Iterable[str]) -> frozenset[int]:
    """The ids of the sources among `keys`."""
    wanted = sorted(set(keys))
    kept = _kept(session)
    found = {kept.ids[k] for k in wanted if k in kept.ids} if kept else set()
    missing = [k for k in wanted if kept is None or k not in kept.ids]
    if missing:
        found.update(i for i, _, _ in read(session, _BY_KEY, {"keys": missing}))
    return frozenset(found)
