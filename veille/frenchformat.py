"""Dates and numbers as our French readers see them, in Paris time.

One place for the archive pages, the desk and the newsletter, so a date reads the same in a
page, a desk table and a mail. Below `veille.web` on purpose: the newsletter uses it too and
must not import the web layer.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, get_group_symbol

PARIS = ZoneInfo("Europe/Paris")
LOCALE = "fr_FR"


def day_start(day: date) -> datetime:
    """Midnight in Paris: a day our readers pick is a Paris day, whatever the server's zone."""
    return datetime.combine(day, time(), PARIS)


def _local(value: datetime | None, pattern: str, *, with_time: bool = False) -> str:
    """`value` in Paris time through a babel pattern; "" for no date."""
    if value is None:
        return ""
    if with_time:
        return format_datetime(value.astimezone(PARIS), pattern, locale=LOCALE)
    return _day(value.astimezone(PARIS).date(), pattern)


@lru_cache(maxsize=4096)
def _day(day: date, pattern: str) -> str:
    """A date-only babel pattern applied to a Paris day, kept: a listing shows twenty
    cards' dates, mostly days already formatted, and babel takes ~14 µs a date (a tenth
    of a listing's template time at 1M articles)."""
    return format_date(day, pattern, locale=LOCALE)


def full_date(value: datetime | None) -> str:
    """`lundi 23 novembre 2026`."""
    return _local(value, "full")


def short_date(value: datetime | None) -> str:
    """`23 nov. 2026`: a table cell, not a sentence."""
    return _local(value, "medium")


def date_time(value: datetime | None) -> str:
    """`23 novembre 2026 à 10:05`."""
    return _local(value, "d MMMM y 'à' HH:mm", with_time=True)


def day_date(value: datetime | None) -> str:
    """`23 novembre 2026`, `1er` for the first day: how a mail names a day in a sentence."""
    if value is None:
        return ""
    day = value.astimezone(PARIS).date()
    return f"{'1er' if day.day == 1 else day.day} {format_date(day, 'MMMM y', locale=LOCALE)}"


def period(start: datetime, end: datetime) -> str:
    """`du 16 au 23 novembre 2026`, naming the month and year once when they are shared."""
    first, last = start.astimezone(PARIS), end.astimezone(PARIS)
    day = "1er" if first.day == 1 else str(first.day)
    if (first.year, first.month) == (last.year, last.month):
        return f"du {day} au {day_date(end)}"
    if first.year == last.year:
        return f"du {day} {format_date(first.date(), 'MMMM', locale=LOCALE)} au {day_date(end)}"
    return f"du {day_date(start)} au {day_date(end)}"


def number(value: float | int | str | None, decimals: int = 1) -> str:
    """`1 234` (narrow no-break space between thousands), `1,5` (decimal comma): how every
    count, weight and score reads in a page, a desk table or a mail. Up to `decimals`
    decimals, trailing zeros dropped (`2.0` → `2`). babel's CLDR data for fr_FR, so the
    separators are the ones French typography uses; a numeric string is accepted (a
    template may hold one), anything else is returned as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            parsed: float | int = float(value) if "." in value else int(value)
        except ValueError:
            return value
        value = parsed
    if type(value) is int:  # babel's answer, ~100× faster: every score formats counts
        return f"{value:,}".replace(",", _GROUP)
    pattern = "#,##0." + "#" * decimals if decimals > 0 else "#,##0"
    return str(format_decimal(value, format=pattern, locale=LOCALE))


_GROUP = get_group_symbol(LOCALE)


_POINT_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")


def decimal_commas(text: str) -> str:
    """`1.5` → `1,5` inside a sentence we wrote earlier with a decimal point (score
    explanations stored before `number` wrote them; never a collected text)."""
    return _POINT_DECIMAL.sub(",", text)
