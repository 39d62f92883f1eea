"""Days two openings give that say the later article tells a later event (docs/dedup.md,
« Later events that recall the earlier day »).

Coverage written days after an event cites that event's day, and `stories.hours_apart`
then reads the two articles as published together. Two habits of the press break that
reading:

- a lead more than a week later that announces its own event, a day still to come, and
  cites the earlier day beside it (« nouvelle journée de grève jeudi 3 décembre… comme lors
  du mouvement du 19 novembre »): the earlier day is recalled for comparison, not told
  (`recalled`);
- a short dispatch days later that tells an act the earlier lead did not tell, dated after
  every day the earlier opening gives and after its publication (« l'Assemblée a adopté
  mardi », six days after the article on the debate « entamé mercredi », which announced
  that vote): the earlier article could not tell what had not happened yet, so the dispatch
  is no brief retelling it (`acted_later`, read by `storyindex`), however many of its words
  it shares.

All days are Paris days, resolved from the publications (`storydays.event_days`,
`storyweekdays.weekday_dates`).
"""

from __future__ import annotations

from collections.abc import Set
from datetime import date

# Coverage of one event is written within the week (a weekly's rhythm, as
# `stories.RETOLD_HOURS`); a lead later than that which also announces a day to come tells
# that day's event.
RECALL_HOURS = 7 * 24


def recalled(hours: float, late_day: date, late_dates: Set[date]) -> bool:
    """Is an earlier day the later lead cites only recalled? It was published `hours`
    after, a week or more, and its opening gives a day after its own publication day
    `late_day` (its event, announced)."""
    return hours >= RECALL_HOURS and any(late_day < d for d in late_dates)


def dated_after(
    early_day: date, early_days: Set[date], late_day: date, dates: Set[date], weekdays: Set[date]
) -> bool:
    """Does the later opening date its event (its `dates` and `weekdays`) after the
    earlier article's publication day `early_day` and after every day the earlier opening
    gives (`early_days`, which must give one: the earlier event is dated too)? A date of
    the later article's own publication day `late_day` or after is left out: bylines and
    datelines (« Publié le 24 novembre ») give it, and a day to come is announced, not
    told. A weekday is never a byline: « mardi » in a Tuesday dispatch is its event's day."""
    after = {d for d in dates if early_day < d < late_day} | {d for d in weekdays if early_day < d}
    return bool(early_days) and bool(after) and max(early_days) < min(after)
