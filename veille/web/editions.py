"""The newsletter on the web: `/editions` (the sent editions), `/editions/{n}` (one edition,
every section: the « voir dans le navigateur » of the mails) and `/feeds/editions.atom`.

An edition is public once it goes out: the list and the feed show `sent` editions; the page
also answers while it is `sending` or `paused`, because members who already received the
mail follow its browser link. Drafts and approved editions answer 404.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from lxml import etree

from veille.archive.feeds_out import ATOM_NS, atom_bytes, tag_authority
from veille.collect.clean import sanitize_html
from veille.db import editions as edition_db
from veille.newsletter.render import EditionView, edition_view
from veille.web.deps import DB, Ctx, WebContext, archive_access
from veille.web.feeds import feed_response

router = APIRouter(dependencies=[Depends(archive_access)], include_in_schema=False)
PAGE_STATUSES = ("sending", "sent", "paused")
MAX_ENTRIES = 50


@router.get("/editions", response_class=HTMLResponse)
def editions_index(request: Request, session: DB, ctx: Ctx) -> HTMLResponse:
    views = [
        edition_view(session, edition, ctx.theme_labels)
        for edition in edition_db.list_editions(session, ["sent"])
    ]
    return ctx.templates.TemplateResponse(
        request, "editions/index.html", {"title": "Les lettres de veille", "editions": views}
    )


@router.get("/editions/{number:int}", response_class=HTMLResponse)
def edition_page(number: int, request: Request, session: DB, ctx: Ctx) -> HTMLResponse:
    edition = edition_db.by_number(session, number)
    if edition is None or edition.status not in PAGE_STATUSES:
        raise HTTPException(status_code=404)
    view = edition_view(session, edition, ctx.theme_labels)
    return ctx.templates.TemplateResponse(
        request, "editions/show.html", {"title": view.subject, "view": view}
    )


@router.get("/feeds/editions.atom", response_class=Response)
def editions_feed(request: Request, session: DB, ctx: Ctx) -> Response:
    views = [
        edition_view(session, edition, ctx.theme_labels)
        for edition in edition_db.list_editions(session, ["sent"])[:MAX_ENTRIES]
    ]
    return feed_response(request, render_editions_atom(ctx, views))


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def render_editions_atom(ctx: WebContext, views: list[EditionView]) -> bytes:
    """Atom 1.0; entry ids are tag URIs on the edition number (stable whatever the title),
    content is the page's body sanitised again (a feed reader renders it as HTML)."""
    base = ctx.settings.base_url.rstrip("/")
    authority = tag_authority(ctx.settings.base_url)
    body = ctx.templates.get_template("editions/_body.html")
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    root.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")
    _el(root, "id", f"{authority}:editions")
    _el(root, "title", f"{ctx.settings.newsletter_name} — les lettres")
    _el(root, "subtitle", "Les lettres de veille envoyées aux membres.")

    def when(view: EditionView) -> datetime:
        return view.sent_at or view.period_end

    _el(root, "updated", max((when(v) for v in views), default=ctx.clock()).isoformat())
    _el(root, "link", rel="self", type="application/atom+xml", href=f"{base}/feeds/editions.atom")
    _el(root, "link", rel="alternate", type="text/html", href=f"{base}/editions")
    _el(_el(root, "author"), "name", ctx.settings.newsletter_name)
    _el(root, "generator", "veille")
    for view in views:
        entry = _el(root, "entry")
        _el(entry, "id", f"{authority}:edition:{view.number}")
        _el(entry, "title", view.subject)
        _el(entry, "updated", when(view).isoformat())
        _el(entry, "published", when(view).isoformat())
        _el(entry, "link", rel="alternate", type="text/html", href=f"{base}/editions/{view.number}")
        _el(entry, "summary", f"Lettre n° {view.number}, {view.period}.")
        content = sanitize_html(body.render(view=view), base_url=f"{base}/editions/{view.number}")
        _el(entry, "content", content, type="html")
    return atom_bytes(root)
