"""The delegate's weekly inbox (`/desk/tri`) and its JSON actions.

The page is rendered on the server (readable without JavaScript, filters in the query
string as on the archive); `templates/static/desk.js` adds the keyboard, the actions
without reload and undo. Every action answers with the article as the inbox shows it, so
the page updates from what the database now holds (another delegate's edits included).

Errors of the JSON endpoints are JSON: 400 (refused action), 404 (unknown article), 409
(edit conflict, with the current texts). Login and CSRF are checked by `veille.web.auth`
(401 / 403).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from veille.archive.query import ArchiveQuery, QueryError, to_params
from veille.classify.certainty import DEFAULT_THRESHOLD, certainty
from veille.db import curation as curation_db
from veille.db import themes as theme_db
from veille.db.engine import transaction
from veille.desk import curation, uncertain
from veille.desk import inbox as inbox_model
from veille.desk import stories as desk_stories
from veille.desk.inbox import InboxFilters, InboxItem
from veille.errors import ConflictError
from veille.frenchformat import day_start
from veille.sources import THEME_IDS
from veille.web.archive import COMPONENT_LABELS, ORIGIN_LABELS
from veille.web.auth import NO_STORE, CsrfDeskUserDep, DeskUser, DeskUserDep
from veille.web.deps import Ctx, Filters, WebContext
from veille.web.desk_views import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

INBOX_PATH = "/desk/tri"
# The `etat` filter: French in the URL, the domain's names inside.
STATE_PARAMS = {"a-trier": "new", "retenus": "kept", "ecartes": "discarded", "favoris": "starred"}
STATE_CHOICES = {
    "": "Tous",
    "a-trier": "À trier",
    "retenus": "Retenus",
    "ecartes": "Écartés",
    "favoris": "Favoris",
}
STATE_LABELS = {"new": "À trier", "kept": "Retenu", "discarded": "Écarté"}
DECISIONS = {"keep": "kept", "discard": "discarded", "reset": "new"}
ACTIONS = (*DECISIONS, "star", "unstar", "edit", "themes")
# Shown on the page and in docs/desk.md (keep both in step).
SHORTCUTS = (
    ("j", "article suivant"),
    ("k", "article précédent"),
    ("r", "retenir l’article"),
    ("x", "écarter l’article"),
    ("a", "remettre l’article à trier"),
    ("s", "ajouter aux favoris ou les retirer"),
    ("e", "modifier titre, résumé et commentaire"),
    ("c", "cocher ou décocher l’article pour une action groupée"),
    ("u", "annuler la dernière action"),
    ("Échap", "fermer le formulaire de modification sans enregistrer"),
)


class ActionBody(BaseModel):
    """One action; loose types on purpose: `veille.desk.curation` validates and answers
    in French."""

    action: str = Field(max_length=20)
    version: int | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    add: list[str] = Field(default_factory=list, max_length=10)
    remove: list[str] = Field(default_factory=list, max_length=10)
    clear: list[str] = Field(default_factory=list, max_length=10)


class BulkBody(BaseModel):
    action: str = Field(max_length=20)
    ids: list[int] = Field(default_factory=list, max_length=curation.MAX_BULK)


# --- the page ---------------------------------------------------------------------------


def inbox_href(query: ArchiveQuery, etat: str, **changes: Any) -> str:
    params = to_params(query, **changes)
    if etat:
        params.append(("etat", etat))
    return f"{INBOX_PATH}?{urlencode(params)}" if params else INBOX_PATH


def theme_view(
    theme: str, probability: float, origin: str, ctx: WebContext, thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """A theme of an item: the exact probability for scripts, the certainty in words for
    people (the desk shows `certainty`, never a percentage)."""
    return {
        "theme": theme,
        "label": ctx.theme_labels.get(theme, theme),
        "probability": round(probability, 3),
        "percent": round(probability * 100),
        "origin": origin,
        "origin_label": ORIGIN_LABELS.get(origin, origin),
        "certainty": certainty(probability, thresholds.get(theme, DEFAULT_THRESHOLD), origin),
    }


def item_json(item: InboxItem, ctx: WebContext, thresholds: Mapping[str, float]) -> dict[str, Any]:
    """The article as desk.js redraws it; every text is inserted with textContent."""
    return {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "original_title": item.original_title,
        "title_edited": item.title_edited,
        "source_name": item.source_name,
        "published_at": item.published_at.isoformat(),
        "group": item.group,
        "themes": [
            theme_view(t.theme, t.probability, t.origin, ctx, thresholds) for t in item.themes
        ],
        "labels": item.labels,
        "score": item.score,
        "score_label": None if item.score is None else f"{round(item.score)}/100",
        "components": [
            {
                "name": c.name,
                "label": COMPONENT_LABELS.get(c.name, c.name),
                "points": c.points,
                "max": c.max,
                "why": c.why,
            }
            for c in item.components
        ],
        "others": [
            {"source_name": o.source_name, "article_id": o.article_id, "title": o.title}
            for o in item.others
        ],
        "state": item.state,
        "state_label": STATE_LABELS.get(item.state, item.state),
        "starred": item.starred,
        "summary": item.summary,
        "summary_auto": item.summary_auto,
        "comment": item.comment,
        "version": item.version,
    }


@router.get(INBOX_PATH)
def inbox_page(request: Request, ctx: Ctx, user: DeskUserDep, query: Filters) -> Response:
    etat = request.query_params.get("etat", "")
    if etat and etat not in STATE_PARAMS:
        raise QueryError("État inconnu (a-trier, retenus, ecartes ou favoris).")
    now = ctx.clock()
    with ctx.sessions() as session:
        since = (
            day_start(query.date_from)
            if query.date_from
            else inbox_model.default_since(session, now)
        )
        until = day_start(query.date_to + timedelta(days=1)) if query.date_to else None
        filters = InboxFilters(
            themes=query.themes,
            sources=query.sources,
            q=query.q,
            state=STATE_PARAMS.get(etat),
            group=query.group,
            on_topic_only=True,
        )
        page = inbox_model.inbox_page(session, since, until, filters, page=query.page)
        sources = curation_db.source_names(session)
        thresholds = theme_db.active_thresholds(session)
        # « À vérifier » on the first page of the whole week only: a filtered view is a
        # search, not the place to teach the model.
        to_check = (
            uncertain.band(session, ctx.classifiers.get(session), since, until)
            if page.page == 1 and not (query.is_filtered or etat)
            else []
        )
    # A story is shown once: an article of the band stands for its story, whose
    # representative is then not listed again in its group (deciding either decides the
    # story), and the group's count leaves out what the band shows.
    in_band = {item.id for item, *_ in to_check}
    band_stories = {item.story_id for item, *_ in to_check if item.story_id is not None}
    by_group: dict[str | None, list[InboxItem]] = {}
    counts = dict(page.groups)
    for item in page.items:
        if item.id in in_band or item.story_id in band_stories:
            counts[item.group] = counts.get(item.group, 1) - 1
        else:
            by_group.setdefault(item.group, []).append(item)
    sections = [
        {
            "id": group or "hors-theme",
            "label": ctx.theme_labels.get(group, group) if group else "Hors thèmes",
            "count": counts.get(group, 0),
            "items": items,
        }
        for group, items in sorted(
            by_group.items(),
            key=lambda kv: THEME_IDS.index(kv[0]) if kv[0] in THEME_IDS else len(THEME_IDS),
        )
    ]
    return render(
        request,
        ctx,
        user,
        "inbox.html",
        title="Tri de la semaine",
        since=since,
        last_day=day_start(query.date_to) if query.date_to else None,
        query=query,
        etat=etat,
        page=page,
        sections=sections,
        to_check=to_check,
        labels=ctx.theme_labels,
        state_choices=STATE_CHOICES,
        state_labels=STATE_LABELS,
        component_labels=COMPONENT_LABELS,
        origins=ORIGIN_LABELS,
        thresholds=thresholds,
        default_threshold=DEFAULT_THRESHOLD,
        sources=sources,
        shortcuts=SHORTCUTS,
        prev_href=inbox_href(query, etat, page=page.page - 1) if page.page > 1 else None,
        next_href=(inbox_href(query, etat, page=page.page + 1) if page.page < page.pages else None),
        all_href=INBOX_PATH,
    )


# --- the JSON actions -------------------------------------------------------------------


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": message, **extra}, status_code=status, headers=NO_STORE)


def _items_json(ctx: WebContext, ids: list[int]) -> list[dict[str, Any]]:
    with ctx.sessions() as session:
        thresholds = theme_db.active_thresholds(session)
        return [item_json(i, ctx, thresholds) for i in inbox_model.items(session, ids)]


def _refresh_scores(ctx: WebContext, source_ids: set[int], now: datetime) -> None:
    """After decisions: the sources' `editor` score part, in a transaction of its own (see
    `refresh_editor_scores`); a failure there must not undo the delegate's decision."""
    if not source_ids:
        return
    try:
        with transaction(ctx.sessions) as session:
            curation.refresh_editor_scores(session, source_ids, now)
    except Exception:
        log.exception("cannot refresh the editor score of sources %s", sorted(source_ids))


def _apply(
    ctx: WebContext, user: DeskUser, article_id: int, body: ActionBody, now: datetime
) -> list[curation.Outcome]:
    """Decisions and stars apply to the article's whole story (`veille.desk.stories`); the
    article acted on comes first."""
    with transaction(ctx.sessions) as session:
        if body.action in DECISIONS:
            return desk_stories.decide(
                session, article_id, DECISIONS[body.action], actor=user.email, now=now
            )
        if body.action in ("star", "unstar"):
            return desk_stories.star(
                session, article_id, body.action == "star", actor=user.email, now=now
            )
        if body.action == "edit":
            return [
                curation.edit(
                    session, article_id, body.fields, body.version, actor=user.email, now=now
                )
            ]
        return [
            curation.set_themes(
                session,
                article_id,
                add=body.add,
                remove=body.remove,
                clear=body.clear,
                actor=user.email,
                now=now,
            )
        ]


@router.post("/desk/api/articles/{article_id}")
def article_action(ctx: Ctx, user: CsrfDeskUserDep, article_id: int, body: ActionBody) -> Response:
    if body.action not in ACTIONS:
        return _error(400, f"Action inconnue : {body.action}.")
    now = ctx.clock()
    try:
        outcomes = _apply(ctx, user, article_id, body, now)
        outcome = outcomes[0]
    except curation.UnknownArticle as exc:
        return _error(404, str(exc))
    except curation.CurationError as exc:
        return _error(400, str(exc))
    except ConflictError as exc:
        return _error(
            409,
            str(exc),
            conflicts=exc.current,
            version=exc.version,
            item=next(iter(_items_json(ctx, [article_id])), None),
        )
    if body.action in DECISIONS:
        _refresh_scores(ctx, {o.source_id for o in outcomes if o.changed}, now)
    found = _items_json(ctx, [article_id])
    return JSONResponse(
        {"item": found[0] if found else None, "changed": outcome.changed}, headers=NO_STORE
    )


@router.post("/desk/api/bulk")
def bulk_action(ctx: Ctx, user: CsrfDeskUserDep, body: BulkBody) -> Response:
    now = ctx.clock()
    try:
        with transaction(ctx.sessions) as session:
            outcomes = desk_stories.bulk(session, body.ids, body.action, actor=user.email, now=now)
    except curation.UnknownArticle as exc:
        return _error(404, str(exc))
    except curation.CurationError as exc:
        return _error(400, str(exc))
    if body.action in DECISIONS:
        _refresh_scores(ctx, {o.source_id for o in outcomes if o.changed}, now)
    return JSONResponse(
        {
            "items": _items_json(ctx, [o.article_id for o in outcomes]),
            "changed": sum(1 for o in outcomes if o.changed),
        },
        headers=NO_STORE,
    )
