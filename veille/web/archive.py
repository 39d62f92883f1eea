"""The archive pages for people: `/`, `/articles/{id}`, `/sources`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from veille.archive import views
from veille.archive.query import NO_THEME, ArchiveQuery, to_params, toggled
from veille.archive.search import ArticleHit, SearchResult, search
from veille.collect.servehtml import served_html
from veille.db import stories as story_db
from veille.db.sources import list_health
from veille.frenchformat import decimal_commas
from veille.sources import THEME_IDS
from veille.web.deps import DB, Ctx, Filters, WebContext, archive_access

log = logging.getLogger(__name__)
router = APIRouter(dependencies=[Depends(archive_access)], include_in_schema=False)

MAX_SOURCE_FILTERS = 25  # source checkboxes shown besides the selected ones
CHART_WEEKS = 12
COMPONENT_LABELS = {
    "confidence": "Confiance dans le thème",
    "source": "Poids de la source",
    "freshness": "Fraîcheur",
    "coverage": "Couverture",
    "novelty": "Nouveauté",
    "substance": "Substance",
    "editor": "Décisions du délégué",
}
ORIGIN_LABELS = {"model": "modèle", "rule": "mot-clé", "editor": "choisi par la déléguée"}
KIND_LABELS = {"feed": "Flux", "page": "Page", "sitemap": "Plan du site"}
STATUS_LABELS = {"ok": "OK", "not_modified": "OK (inchangé)", "error": "En erreur"}


def href(path: str, params: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def link(query: ArchiveQuery, **changes: Any) -> str:
    return href("/", to_params(query, **changes))


@lru_cache(maxsize=64)
def theme_href(theme: str) -> str:
    """The archive of one theme: a chip's link, the same on every card (a listing showed
    ~30 chips, each building its query string anew)."""
    return link(ArchiveQuery(), themes=(theme,))


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    count: int
    checked: bool


def theme_choices(
    query: ArchiveQuery, result: SearchResult, labels: dict[str, str]
) -> list[Choice]:
    return [
        Choice(t, labels.get(t, t), result.facets.themes.get(t, 0), t in query.themes)
        for t in THEME_IDS
    ]


def off_topic_choice(query: ArchiveQuery, result: SearchResult) -> dict[str, Any]:
    """The « Hors thèmes (N) » facet: a box like the themes', and a link showing only them."""
    return {
        "label": "Hors thèmes",
        "count": result.facets.off_topic,
        "checked": query.off_topic,
        "href": link(query, themes=(NO_THEME,)),
    }


def source_choices(query: ArchiveQuery, result: SearchResult) -> list[Choice]:
    """Selected sources always, then the largest others (a form of 300 boxes helps nobody)."""
    by_key = {key: (name, count) for key, name, count in result.facets.sources}
    chosen = [
        Choice(k, by_key.get(k, (k, 0))[0], by_key.get(k, (k, 0))[1], True) for k in query.sources
    ]
    # Only the boxes shown are built: the facet lists every source found (~300 at 1M
    # articles), and a Choice each cost ~0.8 ms a listing for 25 shown.
    others = islice(
        (
            Choice(key, name, count, False)
            for key, name, count in result.facets.sources
            if key not in query.sources
        ),
        MAX_SOURCE_FILTERS,
    )
    return chosen + list(others)


def suggestions(query: ArchiveQuery) -> list[tuple[str, str]]:
    """Links that widen an empty search, most likely first."""
    out: list[tuple[str, str]] = []
    if query.q:
        out.append(("Retirer la recherche « " + query.q[:60] + " »", link(query, q="")))
    if query.date_from or query.date_to:
        out.append(("Retirer la période", link(query, period=None, date_from=None, date_to=None)))
    if query.themes:
        out.append(("Tous les thèmes", link(query, themes=())))
    if query.sources:
        out.append(("Toutes les sources", link(query, sources=())))
    if query.is_filtered:
        out.append(("Voir toute l'archive", "/"))
    return out


SORT_LABELS = {"pertinence": "Pertinence", "date": "Date", "score": "Valeur"}


def sort_choices(query: ArchiveQuery) -> list[tuple[str, str, str]]:
    """(value, label, link) of each order the results can take: relevance only for a
    search."""
    values = ("pertinence", "date", "score") if query.q else ("date", "score")
    return [(v, SORT_LABELS[v], link(query, sort=v)) for v in values]


def filter_count(query: ArchiveQuery) -> int:
    """How many of the folded panel's filters narrow the list, for its « Filtres (2 actifs) »
    button. The search words are not counted: their box sits above the panel, in sight, and
    a count that opens on nothing ticked reads as a bug."""
    return (
        len(query.themes)
        + len(query.sources)
        + bool(query.date_from or query.date_to)
        + (query.sort != query.default_sort)
    )


def listed_by(session: Session, hits: Sequence[ArticleHit]) -> dict[int, tuple[str, ...]]:
    """For each card, the sources that carried its story without an article of their own
    (they listed one of its articles again): named after the story's other articles, so
    that « aussi couvert par N sources » counts every source the score's coverage counts."""
    carried = story_db.carriers(session, [h.story_id for h in hits if h.story_id is not None])
    out: dict[int, tuple[str, ...]] = {}
    for hit in hits:
        named = {hit.source_key, *(o.source_key for o in hit.also)}
        extra = carried.get(hit.story_id or -1, {})
        names = sorted((n for k, n in extra.items() if k not in named), key=str.casefold)
        if names:
            out[hit.id] = tuple(names)
    return out


def page_title(query: ArchiveQuery, labels: dict[str, str]) -> str:
    parts = []
    if query.q:
        parts.append(f"« {query.q[:60]} »")
    if query.themes:
        parts.append(
            ", ".join(labels.get(t, "Hors thèmes" if t == NO_THEME else t) for t in query.themes)
        )
    if query.page > 1:
        parts.append(f"page {query.page}")
    return "Archive" + (" — " + " · ".join(parts) if parts else "")


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request,
    query: Filters,
    session: DB,
    ctx: Ctx,
) -> HTMLResponse:
    result = search(session, query)
    labels = ctx.theme_labels
    pages = result.pages
    feed_params = to_params(query, page=1)
    return ctx.templates.TemplateResponse(
        request,
        "archive/index.html",
        {
            "query": query,
            "result": result,
            "listed_by": listed_by(session, result.items),
            "labels": labels,
            "title": page_title(query, labels),
            "themes": theme_choices(query, result, labels),
            "off_topic": off_topic_choice(query, result),
            "group_href": link(query, group=not query.group),
            "sources": source_choices(query, result),
            "periods": [
                ("semaine", "Cette semaine", link(query, period="semaine")),
                ("mois", "Ce mois", link(query, period="mois")),
            ],
            "all_dates": link(query, period=None, date_from=None, date_to=None),
            "suggestions": suggestions(query) if result.total == 0 else [],
            "prev_href": link(query, page=query.page - 1) if query.page > 1 else None,
            "next_href": link(query, page=query.page + 1) if result.has_next else None,
            "first_href": link(query, page=1),
            "pages": pages,
            "feed_href": href("/feeds/search.atom", feed_params),
            "alert_href": href("/alertes/nouvelle", feed_params),
            "csv_href": href("/export.csv", feed_params),
            "sheet_href": href("/export.csv", [*feed_params, ("tableur", "1")]),
            "sorts": sort_choices(query),
            "other_filters": bool(
                query.themes or query.sources or query.date_from or query.date_to
            ),
            "filter_count": filter_count(query),
            "jsonl_href": href("/export.jsonl", feed_params),
            "api_href": href("/api/articles", feed_params),
            "theme_href": theme_href,
            "toggle_theme": lambda t: link(query, themes=toggled(query.themes, t)),
        },
    )


def theme_reasons(ctx: WebContext, session: Session, detail: views.ArticleDetail) -> dict[str, Any]:
    """Each of the article's themes in words (`classify.reasons`): certainty and the words
    of the article that weighed, when a model is stored."""
    if not detail.themes:
        return {}
    try:
        classifier = ctx.classifiers.get(session)
        if classifier is None:
            return {}
        from veille.classify.reasons import reasons, sentence

        found = reasons(
            classifier,
            detail.title,
            detail.text or detail.summary,
            {t.theme: (t.probability, t.origin) for t in detail.themes},
        )
    except Exception:  # the explanation is a bonus; the article page must still show
        log.exception("cannot explain article %s", detail.id)
        return {}
    return {
        theme: {"certainty": r.certainty, "sentence": sentence(r)} for theme, r in found.items()
    }


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article(
    request: Request,
    article_id: str,
    session: DB,
    ctx: Ctx,
) -> HTMLResponse:
    number = views.parse_article_id(article_id)
    detail = views.article_detail(session, number) if number is not None else None
    if detail is None:
        raise HTTPException(status_code=404)
    # Sanitised once, at collection; a view only checks it in one linear pass (servehtml).
    extract = Markup(served_html(detail.html or "", base_url=detail.url))
    components = [
        (
            COMPONENT_LABELS.get(name, name),
            {**comp, "why": decimal_commas(str(comp.get("why", "")))},
        )
        for name, comp in detail.components.items()
        if isinstance(comp, dict)
    ]
    return ctx.templates.TemplateResponse(
        request,
        "archive/article.html",
        {
            "a": detail,
            "title": detail.title or "Article sans titre",
            "labels": ctx.theme_labels,
            "origins": ORIGIN_LABELS,
            "reasons": theme_reasons(ctx, session, detail),
            "components": components,
            "extract": extract,
            "theme_href": theme_href,
        },
    )


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    count: int
    week: datetime


def chart(counts: list[int], starts: list[Any], *, height: int = 40, bar: int = 10) -> list[Bar]:
    top = max(counts, default=0) or 1
    out = []
    for i, (count, week) in enumerate(zip(counts, starts, strict=True)):
        h = round(count / top * (height - 2)) if count else 0
        out.append(
            Bar(x=i * (bar + 2), y=height - max(h, 1), height=max(h, 1), count=count, week=week)
        )
    return out


@router.get("/sources", response_class=HTMLResponse)
def sources(request: Request, session: DB, ctx: Ctx) -> HTMLResponse:
    starts = views.week_starts(ctx.today(), CHART_WEEKS)
    weekly = views.weekly_counts(session, starts)
    rows = []
    for health in list_health(session):
        counts = weekly.get(health.key, [0] * len(starts))
        rows.append(
            {
                "h": health,
                "kind": KIND_LABELS.get(health.kind, health.kind),
                "status": STATUS_LABELS.get(health.last_status or "", "Jamais collectée"),
                "bars": chart(counts, starts),
                "recent": sum(counts),
                "counts": counts,
            }
        )
    return ctx.templates.TemplateResponse(
        request,
        "archive/sources.html",
        {"title": "Sources", "rows": rows, "starts": starts, "weeks": CHART_WEEKS},
    )
