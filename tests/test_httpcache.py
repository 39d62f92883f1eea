"""Scheduling decisions from HTTP headers and publishing history: every branch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from veille.collect.httpcache import (
    MAX_INTERVAL,
    MIN_INTERVAL,
    next_interval,
    parse_max_age,
    parse_retry_after,
    publish_gaps,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


# -- Retry-After ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 23 Nov 2026 12:10:00 GMT", 600.0),
        ("Monday, 23-Nov-26 12:01:00 GMT", 60.0),  # RFC 850 form
        ("Mon, 23 Nov 2026 11:00:00 GMT", 0.0),  # in the past
        ("Mon, 23 Nov 2026 12:05:00", 300.0),  # no zone: read as UTC
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_naive_now() -> None:
    assert parse_retry_after("Mon, 23 Nov 2026 12:00:30 GMT", NOW.replace(tzinfo=None)) == 30.0


# -- Cache-Control ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        ("max-age=300", 300),
        ("public, max-age=3600", 3600),
        ("Public, Max-Age = 60 , must-revalidate", 60),
        ('max-age="90"', 90),
        ("s-maxage=600", None),  # shared caches only
        ("s-maxage=600, max-age=30", 30),
        ("no-cache, max-age=300", None),
        ("max-age=300, no-store", None),
        ("private", None),
        ("max-age=abc", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_max_age(value: str | None, expected: int | None) -> None:
    assert parse_max_age(value) == expected


# -- publishing gaps ----------------------------------------------------------------------


def test_publish_gaps_sorts_and_ignores_unknown_and_duplicates() -> None:
    dates = [NOW, None, NOW - 2 * H, NOW - 5 * H, NOW, NOW - 2 * H]
    assert publish_gaps(dates) == [3 * H, 2 * H]
    assert publish_gaps([]) == [] and publish_gaps([NOW]) == []


# -- next_interval ------------------------------------------------------------------------


def test_base_interval_alone() -> None:
    assert next_interval(60) == H


def test_base_is_clamped_to_bounds() -> None:
    assert next_interval(1) == MIN_INTERVAL
    assert next_interval(10_000) == MAX_INTERVAL


def test_rare_publisher_is_checked_less_often() -> None:
    gaps = [12 * H, 10 * H, 14 * H, 8 * H]  # median 11 h
    assert next_interval(60, recent_publish_intervals=gaps) == 5.5 * H


def test_very_rare_publisher_is_capped_at_a_day() -> None:
    gaps = [timedelta(days=7)] * 4
    assert next_interval(60, recent_publish_intervals=gaps) == MAX_INTERVAL


def test_busy_publisher_is_checked_faster_but_not_below_half_base() -> None:
    gaps = [10 * M] * 5
    assert next_interval(60, recent_publish_intervals=gaps) == 30 * M
    gaps = [50 * M] * 5  # median/2 = 25 min, between base/2 and base
    assert next_interval(60, recent_publish_intervals=gaps) == 30 * M
    gaps = [100 * M] * 5
    assert next_interval(60, recent_publish_intervals=gaps) == 50 * M


def test_busy_publisher_never_below_five_minutes() -> None:
    gaps = [M] * 10
    assert next_interval(6, recent_publish_intervals=gaps) == MIN_INTERVAL


def test_too_few_gaps_are_ignored() -> None:
    assert next_interval(60, recent_publish_intervals=[20 * H, 20 * H]) == H
    assert next_interval(60, recent_publish_intervals=[20 * H, timedelta(0), -H, 20 * H]) == H


def test_max_age_lengthens_never_shortens() -> None:
    assert next_interval(60, max_age=7200) == 2 * H
    assert next_interval(60, max_age=60) == H
    assert next_interval(60, max_age=0) == H
    assert next_interval(60, max_age=10 * 86_400) == MAX_INTERVAL


def test_rss_ttl_lengthens_never_shortens() -> None:
    assert next_interval(60, ttl_minutes=180) == 3 * H
    assert next_interval(60, ttl_minutes=15) == H
    assert next_interval(60, ttl_minutes=0) == H
    assert next_interval(60, ttl_minutes=100_000) == MAX_INTERVAL


def test_failures_back_off_exponentially_up_to_a_day() -> None:
    assert next_interval(60, failures=0) == H
    assert next_interval(60, failures=1) == 2 * H
    assert next_interval(60, failures=3) == 8 * H
    assert next_interval(60, failures=6) == MAX_INTERVAL
    assert next_interval(60, failures=10_000) == MAX_INTERVAL


def test_backoff_does_not_shorten_a_longer_interval() -> None:
    assert next_interval(60, failures=1, ttl_minutes=600) == 10 * H


def test_retry_after_is_a_floor_within_bounds() -> None:
    assert next_interval(60, retry_after=3 * 3600) == 3 * H
    assert next_interval(60, retry_after=120) == H
    assert next_interval(5, retry_after=120) == MIN_INTERVAL
    assert next_interval(60, retry_after=0) == H
    assert next_interval(60, retry_after=10 * 86_400) == MAX_INTERVAL


def test_everything_together_stays_in_bounds() -> None:
    result = next_interval(
        30,
        max_age=1800,
        retry_after=7200,
        ttl_minutes=90,
        failures=2,
        recent_publish_intervals=[4 * H] * 5,
    )
    assert result == 2 * H  # retry_after 2 h and backoff 30 min × 4 = 2 h both win
    assert MIN_INTERVAL <= result <= MAX_INTERVAL
