"""Atom feeds for subscribers: one per theme, and one for any archive filter."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from lxml import etree
from sqlalchemy.orm import Session

from veille.archive import feeds_out
from veille.archive.query import ArchiveQuery, to_params
from veille.archive.search import iter_matching
from veille.db.sources import names_of
from veille.paths import resource_dir
from veille.sources import THEME_IDS
from veille.web.archive import href
from veille.web.conditional import wants_html
from veille.web.deps import DB, Ctx, Filters, WebContext, archive_access

router = APIRouter(dependencies=[Depends(archive_access)], tags=["flux"])
ATOM = "application/atom+xml; charset=utf-8"


@lru_cache(maxsize=1)
def feed_page_transform() -> etree.XSLT:
    """templates/static/feed.xsl, compiled once, with no file or network access."""
    xsl = etree.parse(str(resource_dir("templates") / "static" / "feed.xsl"))
    return etree.XSLT(xsl, access_control=etree.XSLTAccessControl.DENY_ALL)


def feed_response(request: Request, body: bytes) -> Response:
    """The feed as Atom for readers; for a browser navigating to it (its Accept names
    text/html first), the same feed turned into the French page by its own stylesheet,
    here on the server. Chromium 156 shows `application/atom+xml` as source text and
    applies an XSL stylesheet only to generic XML, under a banner announcing the end of
    XSLT in the browser (measured): served as HTML the page works in any browser, and
    readers still get the `xml-stylesheet` instruction. `Vary: Accept` for caches."""
    if wants_html(request.headers.get("accept", "")):
        page = feed_page_transform()(etree.fromstring(body))
        return HTMLResponse(str(page), headers={"Vary": "Accept"})
    return Response(body, media_type=ATOM, headers={"Vary": "Accept"})


def atom_response(
    request: Request,
    ctx: WebContext,
    session: Session,
    query: ArchiveQuery,
    meta: feeds_out.FeedMeta,
) -> Response:
    hits = list(iter_matching(session, replace(query, page=1), limit=feeds_out.MAX_ENTRIES))
    body = feeds_out.render_atom(
        meta,
        feeds_out.feed_entries(session, hits),
        base_url=ctx.settings.base_url,
        now=ctx.clock(),
        theme_labels=ctx.theme_labels,
    )
    return feed_response(request, body)


ATOM_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/atom+xml": {}}, "description": "Flux Atom 1.0"}
}


@router.get(
    "/feeds/search.atom",
    summary="Flux Atom d'une recherche de l'archive",
    response_class=Response,
    responses=ATOM_DOC,
)
def search_feed(
    request: Request,
    query: Filters,
    session: DB,
    ctx: Ctx,
) -> Response:
    params = to_params(query, page=1)
    base = ctx.settings.base_url.rstrip("/")
    meta = feeds_out.FeedMeta(
        title=feeds_out.feed_title(query, ctx.theme_labels, names_of(session, query.sources)),
        feed_id=f"{feeds_out.tag_authority(ctx.settings.base_url)}:search:"
        + href("", sorted(params)).lstrip("?"),
        self_url=base + href("/feeds/search.atom", params),
        html_url=base + href("/", params),
        subtitle="Les derniers articles de l'archive pour ces filtres.",
    )
    return atom_response(request, ctx, session, query, meta)


@router.get(
    "/feeds/{theme}.atom",
    summary="Flux Atom d'un thème",
    response_class=Response,
    responses=ATOM_DOC,
)
def theme_feed(
    request: Request,
    theme: str,
    session: DB,
    ctx: Ctx,
) -> Response:
    if theme not in THEME_IDS:
        raise HTTPException(status_code=404)
    base = ctx.settings.base_url.rstrip("/")
    label = ctx.theme_labels.get(theme, theme)
    meta = feeds_out.FeedMeta(
        title=f"veille — {label}",
        feed_id=f"{feeds_out.tag_authority(ctx.settings.base_url)}:theme:{theme}",
        self_url=f"{base}/feeds/{theme}.atom",
        html_url=base + href("/", [("theme", theme)]),
        subtitle=f"Les derniers articles du thème « {label} ».",
    )
    return atom_response(request, ctx, session, ArchiveQuery(themes=(theme,)), meta)
