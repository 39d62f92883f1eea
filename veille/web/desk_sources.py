"""The desk's sources: `/desk/sources` lists them with their health and weekly counts,
« Ajouter une source » turns any URL into a source (the discovery `veille sources add`
runs) with a preview of its first articles before anything is saved, and each source's
name, weight and interval are edited in place, paused and resumed.

feeds.yaml stays the file of record: every change goes through `veille.feedsfile` (the
checks and French messages of the CLI, comments and order kept, atomic, one writer at a
time), then the `sources` table is synced from the file so the page shows it at once.
Parsing requests and redirecting only; the rules live in `feedsfile`, `desk.sources`,
`collect.discovery` and `db`.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from veille.collect import discovery
from veille.db import sources as source_db
from veille.db.engine import transaction
from veille.db.source_pause import resume
from veille.desk.sources import KIND_LABELS, source_views
from veille.errors import ConfigError, ConflictError
from veille.feedsfile import add_source, check_url, update_source
from veille.sources import load_feeds_config
from veille.web.auth import CsrfDeskUserDep, DeskUser, DeskUserDep
from veille.web.deps import Ctx, WebContext
from veille.web.desk_views import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

LIST_PATH = "/desk/sources"
ADD_PATH = "/desk/sources/ajouter"
URL_MAX = 2000
NOTES = {
    "ajoutee": "Source ajoutée à feeds.yaml : elle sera relevée au prochain passage.",
    "modifiee": "Source modifiée dans feeds.yaml.",
    "inchangee": "Aucune modification.",
    "en-pause": "Source mise en pause : elle n’est plus relevée.",
    "reprise": "Source reprise : elle sera relevée au prochain passage.",
}
UrlField = Annotated[str, Form(max_length=URL_MAX)]
ShortField = Annotated[str, Form(max_length=400)]


def _sync(ctx: WebContext) -> list[str]:
    """The table follows the file at once (the collector would at its next tick); the
    keys in the file's order."""
    config = load_feeds_config(ctx.settings.config_file)
    with transaction(ctx.sessions) as session:
        source_db.sync_sources(session, config.sources, ctx.clock())
    return [s.key for s in config.sources]


def _list_page(
    request: Request,
    ctx: WebContext,
    user: DeskUser,
    *,
    error: str = "",
    error_key: str = "",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    order: list[str] = []
    if ctx.settings.config_file.exists():
        try:
            order = _sync(ctx)
        except ConfigError as exc:
            error = error or f"feeds.yaml ne peut pas être lu : {exc}"
    with ctx.sessions() as session:
        views = source_views(session, ctx.clock(), order)
    note = NOTES.get(request.query_params.get("fait", ""), "")
    return render(
        request,
        ctx,
        user,
        "sources/list.html",
        status=status,
        title="Sources",
        sources=views,
        note=note,
        done_key=request.query_params.get("cle", ""),
        error=error,
        error_key=error_key,
        form=form or {},
        config_file=ctx.settings.config_file.name,
    )


def _done(note: str, key: str) -> RedirectResponse:
    query = urlencode({"fait": note, "cle": key})
    return RedirectResponse(f"{LIST_PATH}?{query}#source-{quote(key)}", status_code=303)


@router.get(LIST_PATH)
def sources_page(request: Request, ctx: Ctx, user: DeskUserDep) -> Response:
    return _list_page(request, ctx, user)


@router.get(ADD_PATH)
def add_form(request: Request, ctx: Ctx, user: DeskUserDep) -> Response:
    return render(request, ctx, user, "sources/add.html", title="Ajouter une source", form={})


@router.post("/desk/sources/apercu")
def add_preview(request: Request, ctx: Ctx, user: CsrfDeskUserDep, url: UrlField = "") -> Response:
    """Step 1: find the source behind the URL and fetch its first articles; nothing saved."""
    form = {"url": url.strip()}
    try:
        url = check_url(url)
        found = discovery.find_source(url, ctx.settings)
        entries = discovery.preview(found, ctx.settings)
    except ConfigError as exc:
        return render(
            request, ctx, user, "sources/add.html", status=400,
            title="Ajouter une source", form=form, error=str(exc),
        )  # fmt: skip
    return render(
        request,
        ctx,
        user,
        "sources/add.html",
        title="Ajouter une source",
        form=form,
        found=found,
        kind_label=KIND_LABELS.get(found.kind, found.kind),
        entries=entries,
    )


@router.post(ADD_PATH)
def add(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    url: UrlField = "",
    kind: Annotated[str, Form(max_length=20)] = "feed",
    name: ShortField = "",
    weight: ShortField = "",
    interval: ShortField = "",
) -> Response:
    """Step 2: write the previewed source to feeds.yaml (the CLI's checks)."""
    entry: dict[str, Any] = {
        "url": url.strip(),
        "kind": kind,
        "name": name,
        "weight": weight or None,
        "interval": interval or None,
    }
    try:
        written = add_source(ctx.settings.config_file, entry)
    except (ConfigError, ConflictError) as exc:
        form = {"url": url, "name": name, "weight": weight, "interval": interval, "kind": kind}
        status = 409 if isinstance(exc, ConflictError) else 400
        return render(
            request, ctx, user, "sources/add.html", status=status,
            title="Ajouter une source", form=form, error=str(exc),
        )  # fmt: skip
    _sync(ctx)
    log.info("source %s added from the desk by user #%s", written["key"], user.id)
    return _done("ajoutee", str(written["key"]))


@router.post("/desk/sources/{key}/modifier")
def edit(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    key: str,
    name: ShortField = "",
    weight: ShortField = "",
    interval: ShortField = "",
) -> Response:
    """Name, weight and interval, edited in place on the list."""
    changes = {"name": name, "weight": weight or "1", "interval": interval or "60"}
    try:
        done = update_source(ctx.settings.config_file, key, changes)
    except (ConfigError, ConflictError) as exc:
        form = {"name": name, "weight": weight, "interval": interval}
        return _list_page(
            request, ctx, user, error=str(exc), error_key=key, form=form,
            status=409 if isinstance(exc, ConflictError) else 400,
        )  # fmt: skip
    _sync(ctx)
    log.info("source %s edited from the desk by user #%s: %s", key, user.id, sorted(done))
    return _done("modifiee" if done else "inchangee", key)


@router.post("/desk/sources/{key}/pause")
def pause(request: Request, ctx: Ctx, user: CsrfDeskUserDep, key: str) -> Response:
    """`enabled: false` in feeds.yaml: the collector skips it until it is resumed."""
    try:
        update_source(ctx.settings.config_file, key, {"enabled": False})
    except (ConfigError, ConflictError) as exc:
        return _list_page(request, ctx, user, error=str(exc), error_key=key, status=400)
    _sync(ctx)
    log.info("source %s paused from the desk by user #%s", key, user.id)
    return _done("en-pause", key)


@router.post("/desk/sources/{key}/reprendre")
def resume_source(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    key: str,
    suite: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """One click for both kinds of pause: the delegate's (`enabled: false` in feeds.yaml,
    set back to true) and the collector's after repeated failures (due at once with a clean
    failure count). From the home page's banner, back to the home page."""
    try:
        if ctx.settings.config_file.exists() and any(
            s.key == key for s in load_feeds_config(ctx.settings.config_file).sources
        ):
            update_source(ctx.settings.config_file, key, {"enabled": True})
            _sync(ctx)
    except (ConfigError, ConflictError) as exc:
        return _list_page(request, ctx, user, error=str(exc), error_key=key, status=400)
    with transaction(ctx.sessions) as session:
        outcome = resume(session, key, ctx.clock())
    if outcome is None:
        raise HTTPException(404)
    log.info("source %s resumed from the desk by user #%s", key, user.id)
    if suite == "sources":
        return _done("reprise", key)
    return RedirectResponse(f"/desk?reprise={quote(key)}", status_code=303)
