"""The edition composer on the desk: the list of editions, a new draft, one edition's
composer page, and what the composer's other route modules share (`desk_composer`: the
edits; `desk_sending`: preview, test, approval, scheduling, sending).

Every page needs a desk session (`DeskUserDep`), every form post the session's CSRF token
(`CsrfDeskUserDep`). Every form works without JavaScript (one small POST form per button,
then a redirect back to the composer); `static/composer.js` adds drag and drop on top.
The rules (what may change when, the log) live in `veille.newsletter.editions` and
`veille.newsletter.edits`; what the page shows, in `veille.newsletter.views`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from veille.db import bounces as bounce_db
from veille.db import editions as edition_db
from veille.db.engine import transaction
from veille.db.tables import EditionRow
from veille.errors import ConflictError, VeilleError
from veille.frenchformat import PARIS, date_time
from veille.newsletter import editions, edits, greeting
from veille.newsletter.article_search import Found, find_to_add
from veille.newsletter.clicks import read_items
from veille.newsletter.render import edito_html
from veille.newsletter.views import kept_to_add, log_line, sections_of
from veille.web.auth import NO_STORE, CsrfDeskUserDep, DeskUser, DeskUserDep
from veille.web.conditional import wants_json as accepts_json
from veille.web.deps import Ctx, WebContext
from veille.web.desk_views import render

router = APIRouter(include_in_schema=False)

BASE = "/desk/editions"

STATUS_LABELS = {
    "draft": "brouillon",
    "approved": "approuvée",
    "sending": "envoi en cours",
    "sent": "envoyée",
    "paused": "envoi suspendu",
}
DELIVERY_LABELS = {
    "sent": "envoyés",
    "pending": "en attente",
    "sending": "en cours",
    "failed": "en échec",
    "skipped": "sans article pour eux",
}
RETURNED_LABELS = {  # what came back after the send (veille.members.bounces)
    "bounced": "adresses en échec",
    "soft_bounces": "refus temporaires",
    "complaints": "plaintes pour indésirable",
}
NOTES = {
    "cree": "Brouillon créé.",
    "enregistre": "Modifications enregistrées.",
    "inchange": "Aucune modification.",
    "deplace": "Ordre modifié.",
    "retire": "Article retiré de l’édition.",
    "ajoute": "Article ajouté.",
    "approuve": "Édition approuvée.",
    "programme": "Envoi programmé.",
    "deprogramme": "Programmation annulée.",
    "test": "Envoi de test parti : vérifiez votre boîte.",
    "envoi": "Envoi lancé : son avancement s’affiche ci-dessous.",
}

# What every page of the composer shows besides its own context.
PAGE: dict[str, Any] = {
    "base": BASE,
    "status_labels": STATUS_LABELS,
    "delivery_labels": DELIVERY_LABELS,
    "returned_labels": RETURNED_LABELS,
}


def back_to(number: int, note: str, anchor: str = "", **query: str) -> RedirectResponse:
    target = f"{BASE}/{number}?{urlencode({'fait': note, **query})}"
    return RedirectResponse(target + (f"#{anchor}" if anchor else ""), status_code=303)


def edition_or_404(session: Session, number: int) -> EditionRow:
    edition = edition_db.by_number(session, number)
    if edition is None:
        raise HTTPException(404)
    return edition


def wants_json(request: Request) -> bool:
    return accepts_json(request.headers.get("accept", ""))


# --- list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EditionLine:
    number: int
    title: str
    status: str
    status_label: str
    items: int
    created: str
    scheduled: str
    sent: str
    counts: dict[str, int] | None


@router.get(BASE)
def edition_list(request: Request, ctx: Ctx, user: DeskUserDep) -> Response:
    with ctx.sessions() as session:
        lines = []
        for edition in edition_db.list_editions(session):
            counts = (
                edition_db.delivery_counts(session, edition.id)
                if edition.status in ("sending", "sent", "paused")
                else None
            )
            lines.append(
                EditionLine(
                    number=edition.number,
                    title=edition.title,
                    status=edition.status,
                    status_label=STATUS_LABELS.get(edition.status, edition.status),
                    items=len(edition_db.items_of(session, edition.id)),
                    created=date_time(edition.created_at),
                    scheduled=date_time(edition.scheduled_at),
                    sent=date_time(edition.sent_at),
                    counts=counts,
                )
            )
    return render(
        request, ctx, user, "editions/list.html", **PAGE, title="Éditions", editions=lines
    )


@router.post(BASE)
def new_draft(ctx: Ctx, user: CsrfDeskUserDep) -> Response:
    with transaction(ctx.sessions) as session:
        edition = editions.create_draft(session, now=ctx.clock(), actor=user.email)
        number = edition.number
    return back_to(number, "cree")


# --- the composer ---------------------------------------------------------------------


def composer_page(
    request: Request,
    ctx: WebContext,
    user: DeskUser,
    session: Session,
    edition: EditionRow,
    *,
    status: int = 200,
    error: str | None = None,
    note: str | None = None,
    unsaved: dict[str, str] | None = None,
    search: str = "",
) -> Response:
    items = edition_db.items_of(session, edition.id)
    present = {i.article_id for i in items if i.article_id}
    found: list[Found] = []
    search_error = None
    if search.strip() and edition.status in edits.EDITABLE:
        try:
            found = find_to_add(session, search, present)
        except editions.EditionError as exc:
            search_error = str(exc)
    counts = edition_db.delivery_counts(session, edition.id)
    returned = bounce_db.edition_counts(session, edition.id)
    log_lines = [
        log_line(r, ctx.theme_labels)
        for r in edition_db.audit_of(session, "edition", edition.number)
    ]
    return render(
        request,
        ctx,
        user,
        "editions/composer.html",
        status,
        **PAGE,
        title=f"Édition n° {edition.number}",
        edition=edition,
        editable=edition.status in edits.EDITABLE,
        status_label=STATUS_LABELS.get(edition.status, edition.status),
        sections=sections_of(edition, items, ctx.theme_labels),
        item_count=len(items),
        kept=kept_to_add(session, edition, present),
        search=search,
        found=found,
        search_error=search_error,
        edito_preview=Markup(edito_html(edition.edito)),  # sanitised as in the mail
        greeting_shown=greeting.shown(edition.greeting_on, edition.greeting),
        greeting_example=greeting.EXAMPLE_NAME,
        sending_live=edition.status in ("sending", "approved", "sent", "paused"),
        counts=counts,
        returned=returned,
        has_deliveries=any(counts.values()),
        click_counts=ctx.settings.click_counts,
        read_items=read_items(session, edition.id, items),
        log=list(reversed(log_lines)),
        period=f"du {date_time(edition.period_start)} au {date_time(edition.period_end)}",
        scheduled=date_time(edition.scheduled_at),
        schedule_default=_local_input(ctx.clock()),
        error=error,
        note=note,
        unsaved=unsaved,
    )


def _local_input(now: datetime) -> str:
    return now.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


@router.get(BASE + "/{number:int}")
def composer(
    request: Request,
    ctx: Ctx,
    user: DeskUserDep,
    number: int,
    fait: Annotated[str, Query(max_length=20)] = "",
    chercher: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """The composer; `chercher` lists the archive's articles to add (« Ajouter un
    article »)."""
    with ctx.sessions() as session:
        edition = edition_or_404(session, number)
        return composer_page(
            request, ctx, user, session, edition, note=NOTES.get(fait), search=chercher
        )


def refused(
    request: Request,
    ctx: WebContext,
    user: DeskUser,
    number: int,
    exc: VeilleError,
    unsaved: dict[str, str] | None = None,
) -> Response:
    """The composer again, as stored now, with the reason the change was refused."""
    status = 409 if isinstance(exc, ConflictError) else 400
    if wants_json(request):
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=NO_STORE)
    with ctx.sessions() as session:
        edition = edition_or_404(session, number)
        return composer_page(
            request, ctx, user, session, edition, status=status, error=str(exc), unsaved=unsaved
        )


def change(
    request: Request,
    ctx: WebContext,
    user: DeskUser,
    number: int,
    apply: Callable[[Session, EditionRow], object],
    note: str | Callable[[object], str],
    anchor: str = "",
    unsaved: dict[str, str] | None = None,
    answer: Callable[[Session, EditionRow], dict[str, Any]] | None = None,
) -> Response:
    """One change to edition `number` in a transaction of its own, then back to the
    composer with `note` (or the note made from what `apply` returned); or the composer
    again with the reason it was refused (and the texts it did not save).

    Asked for JSON (the composer's script), the answer is `saved` instead: the edition's
    new `version` (the next save of the edito sends it) and what `answer` adds; a refusal
    is `{"detail": …}` with 400 or 409."""
    try:
        with transaction(ctx.sessions) as session:
            edition = edition_or_404(session, number)
            result = apply(session, edition)
            extra = answer(session, edition) if answer is not None else {}
            version = edition.version
    except (editions.EditionError, ConflictError) as exc:
        return refused(request, ctx, user, number, exc, unsaved)
    text = note if isinstance(note, str) else note(result)
    if wants_json(request):
        return saved(version, text, **extra)
    return back_to(number, text, anchor)


def saved(version: int, note: str, **extra: Any) -> JSONResponse:
    """What the composer's script gets after a change (see `change`)."""
    return JSONResponse(
        {"version": version, "note": NOTES.get(note, note), **extra}, headers=NO_STORE
    )
