"""The desk's view of the sources: each one's health said in French, in words a delegate
acts on (« en échec (3 fois de suite). L'adresse n'existe plus sur le site (erreur 404) :
vérifiez-la. »), and the new articles it brought each of the last four weeks. Plain data
for `/desk/sources` and for the home page's « Sources à surveiller »."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from veille.collect import error_text
from veille.db import sources as source_db
from veille.db.sources import SourceHealth
from veille.frenchformat import date_time, number, short_date

SILENT_AFTER = timedelta(days=14)
WEEKS = 4
KIND_LABELS = {"feed": "flux", "page": "page de liste", "sitemap": "plan du site"}
@dataclass(frozen=True)
class SourceView:
    key: str
    name: str
    url: str
    kind: str
    kind_label: str
    weight: float
    weight_label: str  # « 1,5 »
    interval: int
    enabled: bool
    level: str  # ok | new | warn | error | paused | off: the CSS class and the sort
    health: str  # one French sentence
    weekly: tuple[int, ...]  # new articles per week, oldest first
    articles: int
    auto_paused: bool


def error_in_french(error: str | None, http_status: int | None) -> str:
    """The collector's last error as the French sentence every screen shows (one wording:
    `collect.error_text`; the English detail stays in `veille sources list`)."""
    message = error or (f"HTTP {http_status}" if http_status else "")
    return error_text.sentence(message, http_status) or error_text.sentence("erreur", None)


def health_of(h: SourceHealth, now: datetime) -> tuple[str, str]:
    """(level, sentence) for one source."""
    if not h.enabled:
        return "off", "en pause : la déléguée l’a arrêtée, elle n’est plus relevée"
    if h.paused_at is not None:
        why = error_in_french(h.last_error, h.last_http_status)
        return (
            "paused",
            f"en pause depuis le {short_date(h.paused_at)} après "
            f"{h.consecutive_failures} échecs de suite. {why}",
        )
    if h.last_status is None:
        return "new", "pas encore relevée"
    if h.last_status == "error":
        times = "1 fois" if h.consecutive_failures <= 1 else f"{h.consecutive_failures} fois"
        return (
            "error",
            f"en échec ({times} de suite). {error_in_french(h.last_error, h.last_http_status)}",
        )
    since = h.last_new_article_at or h.created_at
    if since is not None and now - since >= SILENT_AFTER:
        if h.last_new_article_at is None:
            return "warn", f"silencieuse : aucun article depuis son ajout le {short_date(since)}"
        return "warn", f"silencieuse : aucun nouvel article depuis le {short_date(since)}"
    return "ok", f"en bonne santé, relevée le {date_time(h.last_fetched_at)}"


LEVEL_ORDER = {"error": 0, "paused": 1, "warn": 2, "new": 3, "off": 4, "ok": 5}


def source_views(session: Session, now: datetime, order: Sequence[str] = ()) -> list[SourceView]:
    """Every source of feeds.yaml with its health and weekly counts, in `order` (the keys
    in the file's order: the delegate's own), else by key."""
    ids = source_db.source_ids(session)
    weekly = source_db.weekly_new_articles(session, now, WEEKS)
    views = []
    for h in source_db.list_health(session):
        level, sentence = health_of(h, now)
        views.append(
            SourceView(
                key=h.key,
                name=h.name,
                url=h.url,
                kind=h.kind,
                kind_label=KIND_LABELS.get(h.kind, h.kind),
                weight=h.weight,
                weight_label=number(float(h.weight)),
                interval=h.interval,
                enabled=h.enabled,
                level=level,
                health=sentence,
                weekly=tuple(weekly.get(ids.get(h.key, -1), [0] * WEEKS)),
                articles=h.articles,
                auto_paused=h.paused_at is not None,
            )
        )
    if order:
        rank = {key: i for i, key in enumerate(order)}
        views.sort(key=lambda v: (rank.get(v.key, len(rank)), v.key))
    return views


def needing_attention(views: list[SourceView]) -> list[SourceView]:
    """Failing, paused by the collector, or silent for two weeks: worst first."""
    return sorted(
        (v for v in views if v.level in ("error", "paused", "warn")),
        key=lambda v: (LEVEL_ORDER[v.level], v.name.lower()),
    )
