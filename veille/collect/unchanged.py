"""The store step of a source whose listing answered 304 Not Modified: nothing to store but
its health and its next fetch time.

Most sources of a steady collector answer 304 most of the time, and the benchmark's second
cycle is 500 of them: loading 500 rows into the session to set eight attributes each and
flushing them was a tenth of that cycle's CPU. `save_unchanged` writes a batch of them in
one executemany `UPDATE` by primary key, with values computed from the cycle's snapshot of
each row (`SourceState`): a claimed source is leased to this cycle, so its interval and
validators are those it was claimed with. `store.store_listing` applies the same values to
a loaded row (one rule, two ways of writing it).

The `UPDATE` is Core, on `schema.SOURCES`: the ORM's bulk update by primary key (its
parameters checked and sorted per row) was the largest item inside that cycle, and a cycle
in which every feed answered 304 now maps no class at all (`db/schema.py`). Only
the database layer's Core tables and `httpcache` are imported: neither the store step of
new pages nor the classifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, update

from veille.collect.httpcache import next_interval, parse_max_age
from veille.collect.summary import SourceReport
from veille.collect.worker import Listing
from veille.db.schema import SOURCES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The columns a 304 changes, each from the parameter of its name; the row by its id.
_SAVE = update(SOURCES).where(SOURCES.c.id == bindparam("source_id"))


def is_unchanged(listing: Listing) -> bool:
    """Whether the source's listing answered 304: its health is all there is to save."""
    return listing.error is None and listing.result is not None and listing.result.not_modified


def not_modified_values(
    listing: Listing, interval: int, etag: str | None, last_modified: str | None, now: datetime
) -> dict[str, Any]:
    """The source row's new values after a 304, from its `interval` and stored validators.

    A 304 that carries validators replaces both (as a 200 does); one without any keeps
    the stored pair, so the next request is conditional again.
    """
    result = listing.result
    assert result is not None and result.not_modified
    if result.etag or result.last_modified:
        etag, last_modified = result.etag, result.last_modified
    delay = next_interval(
        interval,
        max_age=parse_max_age(result.headers.get("cache-control")),
        retry_after=listing.retry_after,
        failures=0,
    )
    return {
        "last_fetched_at": now,
        "last_success_at": now,
        "last_http_status": result.status,
        "last_status": "not_modified",
        "last_error": None,
        "consecutive_failures": 0,
        "etag": etag,
        "last_modified": last_modified,
        "next_fetch_at": now + delay,
    }


def save_unchanged(
    session: Session, listings: Sequence[Listing], now: datetime
) -> list[SourceReport]:
    """Save the health of sources whose listing answered 304, in the caller's transaction:
    one executemany `UPDATE` by primary key for all of them."""
    if not listings:
        return []
    rows = [
        {"source_id": it.source.id}
        | not_modified_values(it, it.source.interval, it.source.etag, it.source.last_modified, now)
        for it in listings
    ]
    session.execute(_SAVE, rows)
    return [SourceReport(key=it.source.key, status="not_modified") for it in listings]
