"""When to fetch a source again: pure decisions from HTTP headers and history.

The scheduler stores `next_fetch_at = now + next_interval(...)` on the source row after each
attempt. Everything here is a pure function so every branch is unit-tested without a clock.

The polite rule, in order:

1. start from the delegate's interval for the source (`base`);
2. adapt to how often the source publishes: half the median gap between its recent entries
   (checking twice per gap catches most entries promptly), never faster than base/2 (a busy
   feed that keeps only its last N entries is read a bit more often so none rolls off) and
   never slower than 24 h;
3. the server's own freshness hints (Cache-Control max-age, RSS <ttl>) can only lengthen the
   interval: polling before the server says content may change wastes its bandwidth;
4. after consecutive failures, back off exponentially: base × 2^failures;
5. a Retry-After the server sent is a floor;
6. finally clamp to [5 min, 24 h]: nothing is polled more often than every 5 minutes, and
   every source, however quiet or failing, is retried at least daily;
7. after PAUSE_AFTER_FAILURES failures in a row the source is paused (`should_pause`): not
   fetched again until the delegate resumes it, rather than polled forever.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = timedelta(hours=24)
MIN_GAPS_FOR_ADAPTATION = 3  # fewer gaps than this say nothing about a rhythm
# Ten failures in a row is at least ~4 days of daily retries once the backoff saturates: the
# feed moved or died, a person must look (the desk and `veille sources list` say so).
PAUSE_AFTER_FAILURES = 10

_MAX_AGE = re.compile(r'(?:^|[,\s])max-age\s*=\s*"?(\d+)"?', re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])no-(?:cache|store)\b", re.IGNORECASE)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delta seconds or an HTTP date.

    A date in the past gives 0; anything unreadable gives None (the header is then ignored,
    not treated as an error: a broken header must not stall a source).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_max_age(cache_control: str | None) -> int | None:
    """The max-age of a Cache-Control header in seconds; None when absent or no-cache/no-store.

    s-maxage is ignored on purpose: it addresses shared caches and we are a private client.
    """
    if not cache_control or _NO_CACHE.search(cache_control):
        return None
    match = _MAX_AGE.search(cache_control)
    if match is None:
        return None
    return int(match.group(1))


def publish_gaps(dates: Iterable[datetime | None]) -> list[timedelta]:
    """Gaps between consecutive publication dates (newest first or not), ignoring unknowns.

    Identical timestamps are dropped: feeds that stamp every entry with the fetch time would
    otherwise look like they publish continuously.
    """
    known = sorted({d for d in dates if d is not None})
    return [later - earlier for earlier, later in itertools.pairwise(known)]


def _clamp(value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    return max(low, min(high, value))


def next_interval(
    base_minutes: float,
    *,
    max_age: int | None = None,
    retry_after: float | None = None,
    ttl_minutes: int | None = None,
    failures: int = 0,
    recent_publish_intervals: Sequence[timedelta] = (),
) -> timedelta:
    """The delay before the next fetch of a source (see the module docstring for the rule)."""
    base = _clamp(timedelta(minutes=base_minutes), MIN_INTERVAL, MAX_INTERVAL)
    interval = base

    gaps = [g for g in recent_publish_intervals if g > timedelta(0)]
    if len(gaps) >= MIN_GAPS_FOR_ADAPTATION:
        median = timedelta(seconds=statistics.median(g.total_seconds() for g in gaps))
        interval = _clamp(median / 2, base / 2, MAX_INTERVAL)

    if max_age is not None and max_age > 0:
        interval = max(interval, timedelta(seconds=max_age))
    if ttl_minutes is not None and ttl_minutes > 0:
        interval = max(interval, timedelta(minutes=ttl_minutes))

    if failures > 0:
        # 2**failures overflows timedelta long before 24 h matters: cap the exponent.
        backoff = base * (2 ** min(failures, 20))
        interval = max(interval, min(backoff, MAX_INTERVAL))

    if retry_after is not None and retry_after > 0:
        interval = max(interval, timedelta(seconds=min(retry_after, MAX_INTERVAL.total_seconds())))

    return _clamp(interval, MIN_INTERVAL, MAX_INTERVAL)


def should_pause(consecutive_failures: int) -> bool:
    """Whether a source that just failed for the `consecutive_failures`-th time in a row
    stops being polled until the delegate resumes it."""
    return consecutive_failures >= PAUSE_AFTER_FAILURES
