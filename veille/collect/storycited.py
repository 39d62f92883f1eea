"""One day cited by both openings: two articles telling an event by its date.

A council's délibération dated « 12 octobre » and the trade weekly six days later writing
« adoptée le 12 octobre »; a body's appointment page and the regional daily's portrait both
giving « à compter du 1er octobre »: whoever writes, and however late within the week, the
date the two openings give their event is the event's (docs/dedup.md, « press11 opened for
recall »). The dates are resolved by the caller (`storydays.cited_that_day`: a date written
out whatever else the leads name, a weekday only when the later lead names no other body);
on two sites only: a site tells an event once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

# Coverage of a dated event within the week (a weekly's rhythm): later, a date the two
# openings share may be a deadline or an anniversary rather than the event.
CITED_WITHIN = timedelta(days=7)


def one_cited_day(
    early: datetime, early_days: set[date], late: datetime, late_days: set[date]
) -> bool:
    """Do two openings published within the week (`CITED_WITHIN`) give one date in common?
    A date to come counts too: the start of an office (« à compter du 1er octobre ») is the
    appointment's, given by the body's release and the portrait alike."""
    if late - early >= CITED_WITHIN:
        return False
    return bool(early_days & late_days)
