"""The desk's home page: this week's work in one look — what is left to triage by theme,
the draft and when the next letter goes, the sources to look at, what became of the last
letter, and how the theme model was last trained. Plain data; `templates/web/desk/home.html`
prints it and links each line to the page where the work is done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from veille.db import curation as curation_db
from veille.db import week as week_db
from veille.db.week import EditionFigures, EditionState, Training
from veille.desk.inbox import default_since
from veille.desk.sources import SourceView, needing_attention, source_views
from veille.newsletter.editions import STATUS_LABELS, weekly_slot
from veille.sources import THEME_IDS


@dataclass(frozen=True)
class TriageCount:
    theme: str  # a theme id, or "none" for the off-topic
    label: str
    count: int
    href: str


@dataclass(frozen=True)
class Week:
    since: datetime
    to_triage: int  # on-topic articles still « à trier »
    by_theme: list[TriageCount]
    edition: EditionState | None
    edition_status: str
    next_send: datetime | None  # the scheduled send of the open edition
    next_draft: datetime  # when the scheduler drafts the next one
    sources: list[SourceView]  # failing, paused or silent for two weeks
    last: EditionFigures | None
    training: Training | None
    quality: str  # the model's quality in words


def quality_in_words(macro_f1: float | None) -> str:
    """The cross-validated macro F1 as a delegate reads it (docs/themes.md gives the
    figures): the number is shown beside it."""
    if macro_f1 is None:
        return "qualité non mesurée"
    if macro_f1 >= 0.85:
        return "très bonne : le modèle reconnaît presque toujours les thèmes"
    if macro_f1 >= 0.75:
        return "bonne : quelques articles à reclasser chaque semaine"
    if macro_f1 >= 0.6:
        return "moyenne : vérifiez les thèmes proposés"
    return "faible : reclassez des articles au tri pour lui apprendre"


def _count(session: Session, since: datetime, themes: list[str], off_topic: bool) -> int:
    return len(
        curation_db.inbox_rows(
            session,
            since=since,
            until=None,
            themes=themes,
            state="new",
            off_topic=off_topic,
            on_topic_only=not off_topic,
            grouped=True,
        )
    )


def week(
    session: Session, now: datetime, labels: dict[str, str], edition_day: str, edition_time: str
) -> Week:
    since = default_since(session, now)
    by_theme = [
        TriageCount(
            theme,
            labels.get(theme, theme),
            _count(session, since, [theme], False),
            f"/desk/tri?theme={theme}&etat=a-trier",
        )
        for theme in THEME_IDS
    ]
    edition = week_db.open_edition(session)
    training = week_db.last_training(session)
    return Week(
        since=since,
        to_triage=_count(session, since, [], False),
        by_theme=by_theme,
        edition=edition,
        edition_status=STATUS_LABELS.get(edition.status, edition.status) if edition else "",
        next_send=edition.scheduled_at if edition else None,
        next_draft=weekly_slot(now, edition_day, edition_time) + timedelta(days=7),
        sources=needing_attention(source_views(session, now)),
        last=week_db.last_sent(session),
        training=training,
        quality=quality_in_words(training.macro_f1 if training else None),
    )
