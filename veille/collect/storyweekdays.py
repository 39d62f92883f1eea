"""The weekday an opening gives its event (« a adopté vendredi », « publié mardi », « depuis
lundi »), read back to a date from the publication: how coverage written days later says
which day it tells (docs/dedup.md, « press10 opened for recall »).

A French article dates a past event of its week by the weekday alone; the trade weekly on
Friday writes « le guide publié mardi » for the agency's Tuesday page. Resolved to the
last such day on or before the publication (« mercredi » in a Wednesday paper is that
day), a weekday that falls on the earlier article's day says the later one tells that
day's event — the time rule then reads them as published together
(`stories.hours_apart`). It is no tie by itself: a name, the floors and every veto still
decide, and a weekday that only counts hours never lowers the floor below what coverage
of one day needs (round 21 made the weekday a tie and merged distinct stories of one
week; docs/dedup.md, « Recall on unseen writing »).

Habits and timetables (« du lundi au vendredi », « chaque mardi », « le jeudi »), future
days (« lundi prochain ») and dated weekdays (« mardi 17 novembre », read as a date by
`leads.cited_days`) name no day of the event and are left out.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_PARIS = ZoneInfo("Europe/Paris")
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# On folded text (`french.story_fold`): a weekday alone, not a habit (« le lundi », « les
# mardis », « chaque », « tous les »), a span (« du lundi au vendredi », « jusqu'au
# jeudi »), a future (« lundi prochain », « à partir de lundi », « dès lundi ») nor a date.
# Every weekday ends in « di »: the words ending so are found first (a few per opening),
# then read with what precedes and follows them — one alternation tried at every position
# costs ten times more.
_DI = re.compile(r"di\b")
_WEEKDAY = re.compile(rf"(?:^|\W)({'|'.join(_WEEKDAYS)})$")
_NOT_THE_EVENT = re.compile(
    r"(?:\ble|\bles|\bdu|\bau|\bchaque|\bjusqu['’]au|\bdes|\bpartir de|\bd['’]ici)\s$"
)
_NOT_AFTER = re.compile(r"\s+(?:prochain|\d|au\b|et\b|ou\b)")
# The days back a weekday can reach: the same week's news (a weekly retells its week).
_WEEK = 7


def cited_weekdays(folded: str) -> frozenset[int]:
    """The weekdays (0 = Monday) `folded` gives its event (see the module)."""
    out = set()
    for di in _DI.finditer(folded):
        end = di.end()
        weekday = _WEEKDAY.search(folded, max(0, end - 9), end)
        if weekday is None or _NOT_AFTER.match(folded, end):
            continue
        if not _NOT_THE_EVENT.search(folded, max(0, weekday.start(1) - 12), weekday.start(1)):
            out.add(_WEEKDAYS.index(weekday.group(1)))
    return frozenset(out)


def weekday_dates(published: datetime, weekdays: frozenset[int]) -> set[date]:
    """The dates the weekdays of an article published at `published` name: each the last
    such day on or before its (Paris) publication day."""
    today = published.astimezone(_PARIS).date()
    return {today - timedelta(days=(today.weekday() - w) % _WEEK) for w in weekdays}
