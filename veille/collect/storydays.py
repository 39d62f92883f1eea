"""The days two openings give their event: the dates and weekdays a lead cites, resolved
from its publication in Paris time, and the ties and partings they make between two
articles (one day told by both, the earlier's day cited by the later, a later act dated
after the earlier's event). Pure functions over `StoryKeys`, called by `stories.hours_apart`
and the story index (`storyindex._joins`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from veille.collect.storycited import one_cited_day
from veille.collect.storykeys import StoryKeys
from veille.collect.storylater import dated_after
from veille.collect.storyties import disjoint, other_body, two_sites
from veille.collect.storyweekdays import weekday_dates
from veille.text.english import LAW_NAMES

PARIS = ZoneInfo("Europe/Paris")  # the dates leads cite are French


def paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def day_and_eve(moment: datetime) -> set[date]:
    """The Paris day of a publication and the day before: the days a later lead cites when
    it covers that publication's event (« la charte votée hier », « publié lundi »)."""
    day = paris_day(moment)
    return {day, day - timedelta(days=1)}


def event_days(published: datetime, keys: StoryKeys) -> set[date]:
    """The days the article's opening cites: its dates (« le 1er octobre », the nearest to
    the publication: « le 30 décembre » in January is last year's)."""
    today = paris_day(published)
    days = set()
    for day, month in keys.lead_days:
        dated = []
        for year in (today.year - 1, today.year, today.year + 1):
            try:
                dated.append(date(year, month, day))
            except ValueError:  # « 30 février »
                continue
        if dated:
            days.add(min(dated, key=lambda d: abs((d - today).days)))
    return days


def cited_dates(published: datetime, keys: StoryKeys) -> set[date]:
    """The dates an opening gives its event: its dates and weekdays, resolved."""
    if not keys.lead_days and not keys.lead_weekdays:
        return set()
    return event_days(published, keys) | weekday_dates(published, keys.lead_weekdays)


def told_that_day(
    early: datetime, early_keys: StoryKeys, late: datetime, late_keys: StoryKeys, eve: bool = True
) -> bool:
    """Does the later opening, within the week, give its event by its weekday the day the
    earlier article was published, or (`eve`) the day before (« Etalab a publié lundi » in
    Friday's newsletter; `storyweekdays`), and name no subject the earlier never names? A
    town's reaction to a national measure cites the measure's day too (« la reconduction
    annoncée mardi ») but names its town: its own event (docs/dedup.md, « press9 opened for
    recall »; round 26's two tuners wrote this rule apart, merged as one)."""
    if not late_keys.lead_weekdays or other_body(late_keys, early_keys):
        return False
    days = day_and_eve(early) if eve else {paris_day(early)}
    return bool(days & weekday_dates(late, late_keys.lead_weekdays))


def days_told(early: datetime, late: datetime, late_keys: StoryKeys) -> bool:
    """Does the later opening cite, by its date or weekday, the day the earlier article was
    published or the day before, within the week?"""
    if (late - early).days >= 7:
        return False
    return bool(day_and_eve(early) & cited_dates(late, late_keys))


def cited_that_day(
    early: datetime, early_keys: StoryKeys, late: datetime, late_keys: StoryKeys
) -> bool:
    """Do the two openings give their event one day, within the week (on two sites: one
    site's second article is its next event, `hours_apart`)? A date written out in both
    (« adoptée le 12 octobre », « à compter du 1er octobre ») dates one event whatever else
    the later lead names; a weekday (« lundi ») only when the later lead names no body the
    earlier never names: a town's reaction to a national measure cites the measure's day
    too (`told_that_day`; `storycited.one_cited_day`)."""
    if one_cited_day(early, event_days(early, early_keys), late, event_days(late, late_keys)):
        return True
    if other_body(late_keys, early_keys):
        return False
    early_days, late_days = cited_dates(early, early_keys), cited_dates(late, late_keys)
    return one_cited_day(early, early_days, late, late_days)


def day_tied(a: datetime | None, a_keys: StoryKeys, b: datetime | None, b_keys: StoryKeys) -> bool:
    """Do the two openings give their event one day within the week — the later cites the
    earlier's publication day (`told_that_day`), or both cite one day and tell one kind of
    act? On two sites that day ties where no name does (`day_ties`): a release naming « la
    Commission » only, an English original whose names the French writes otherwise."""
    if a is None or b is None:
        return False
    early, late = (a, b) if a <= b else (b, a)
    early_keys, late_keys = (a_keys, b_keys) if a <= b else (b_keys, a_keys)
    if (late - early).days >= 7:
        return False
    if told_that_day(early, early_keys, late, late_keys, eve=False):
        return True
    if not a_keys.acts & b_keys.acts:
        return False
    return bool(cited_dates(early, early_keys) & cited_dates(late, late_keys))


def day_ties(a: StoryKeys, b: StoryKeys) -> bool:
    """Does one day (`day_tied`) tie the two leads as a name would: on two sites, no two
    kinds of act, and neither lead naming a body or place the other article never names? Two
    towns' budgets voted the same Monday, one naming its town and the other its site only
    (« Le conseil municipal a voté lundi… » on pradelieu.fr), are two votes. A law is no
    body: the Commission's « AI Act » release and the French « lignes directrices de
    Bruxelles » that does not name the act tell one publication."""
    if not two_sites(a, b) or disjoint(a.acts, b.acts):
        return False
    return not (a.subjects - LAW_NAMES) - b.mentioned and not (b.subjects - LAW_NAMES) - a.mentioned


def acted_later(
    a: datetime | None, a_keys: StoryKeys, b: datetime | None, b_keys: StoryKeys
) -> bool:
    """Does the later lead tell a kind of act the earlier lead does not, dated after the
    earlier's publication and every day its opening gives (`storylater.dated_after`)? Then
    it is no brief retelling the earlier article (`retold`): the vote after the debate."""
    if a is None or b is None:
        return False
    early, late = (a, b) if a <= b else (b, a)
    early_keys, late_keys = (a_keys, b_keys) if a <= b else (b_keys, a_keys)
    if late_keys.revision or not late_keys.acts - early_keys.acts:
        return False
    weekdays = weekday_dates(late, late_keys.lead_weekdays)
    dates = event_days(late, late_keys)
    return dated_after(
        paris_day(early), cited_dates(early, early_keys), paris_day(late), dates, weekdays
    )
