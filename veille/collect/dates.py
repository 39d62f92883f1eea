"""Which publication date an article gets: the one decision, for feeds and pages alike.

Why: sources publish absurd dates (year 1 from an empty CMS field, 2999 from a typo, a
scheduled post dated next week) and readers saw « lundi 1 janvier 1 » in the archive, or an
article pinned to the top of every listing until its future date came. A date before 1990
(before the web, so before any article we collect) or later than tomorrow (a day of
margin for time zones and clocks) is not believed; the next candidate is tried, and when
none is plausible the article has no publication date, which every page, feed and export
shows as its fetch time (`coalesce(published_at, fetched_at)`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)


def plausible_date(value: datetime | None, now: datetime) -> datetime | None:
    """`value` if an article could have been published then, seen from `now`; else None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value < EARLIEST or value > now + FUTURE_TOLERANCE:
        return None
    return value


def publication_date(candidates: Iterable[datetime | None], now: datetime) -> datetime | None:
    """The first plausible date among `candidates` (best source first), else None."""
    for value in candidates:
        kept = plausible_date(value, now)
        if kept is not None:
            return kept
    return None
