"""The composer's way out: the preview as a member would get it (its page, and the mail's
HTML alone for the sandboxed iframe), a test mail to oneself, approval, scheduling, and
« send now » (a page that asks first, then the send).

« Send now » records the request (`editions.start_sending`: the edition goes `sending`,
audited under the desk user) and hands the send to a worker process
(`veille.newsletter.worker`): the web worker never sends a newsletter itself, and the
scheduler resumes the send should that process never start or die.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from veille.db import editions as edition_db
from veille.db import members as member_db
from veille.db.engine import transaction
from veille.errors import MailError
from veille.frenchformat import PARIS
from veille.newsletter import editions
from veille.newsletter.deliveries import edition_status, seconds_left
from veille.newsletter.preview import Preview, preview_of, send_test_message
from veille.newsletter.worker import SendStarter
from veille.web.auth import NO_STORE, CsrfDeskUserDep, DeskUserDep
from veille.web.deps import Ctx
from veille.web.desk_editions import (
    BASE,
    PAGE,
    STATUS_LABELS,
    back_to,
    change,
    edition_or_404,
    refused,
)
from veille.web.desk_views import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

# The mail preview is untrusted HTML shown inside the desk: its own page, no script at all,
# framed only by the desk (and the iframe adds `sandbox`).
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)


# --- preview and test -----------------------------------------------------------------


@router.get(BASE + "/{number:int}/apercu")
def preview(
    request: Request,
    ctx: Ctx,
    user: DeskUserDep,
    number: int,
    format: Annotated[str, Query(max_length=10)] = "html",
    membre: Annotated[str, Query(max_length=320)] = "",
) -> Response:
    if format not in ("html", "text"):
        raise HTTPException(400, "Format d’aperçu inconnu : html ou text.")
    error = None
    with ctx.sessions() as session:
        edition = edition_or_404(session, number)
        try:
            shown: Preview | None = preview_of(
                session, ctx.settings, ctx.theme_labels, edition, membre, ctx.clock
            )
        except editions.EditionError as exc:
            shown, error = None, str(exc)
        title = edition.title
    frame_src = f"{BASE}/{number}/apercu/courriel" + (
        f"?{urlencode({'membre': membre})}" if membre else ""
    )
    return render(
        request,
        ctx,
        user,
        "editions/preview.html",
        404 if error else 200,
        **PAGE,
        title=f"Aperçu de l’édition n° {number}",
        number=number,
        edition_title=title,
        format=format,
        membre=membre,
        preview=shown,
        error=error,
        frame_src=frame_src,
        html_href=f"{BASE}/{number}/apercu?{urlencode({'format': 'html', 'membre': membre})}",
        text_href=f"{BASE}/{number}/apercu?{urlencode({'format': 'text', 'membre': membre})}",
    )


@router.get(BASE + "/{number:int}/apercu/courriel")
def preview_mail(
    ctx: Ctx,
    user: DeskUserDep,
    number: int,
    membre: Annotated[str, Query(max_length=320)] = "",
) -> Response:
    """The mail's HTML alone, for the preview's sandboxed iframe."""
    with ctx.sessions() as session:
        edition = edition_or_404(session, number)
        try:
            shown = preview_of(session, ctx.settings, ctx.theme_labels, edition, membre, ctx.clock)
        except editions.EditionError as exc:
            raise HTTPException(404, str(exc)) from exc
    body = (
        shown.rendered.html
        if shown.rendered is not None
        else "<!doctype html><html lang='fr'><meta charset='utf-8'>"
        "<title>Aperçu du courriel</title>"
        "<p>Aucun article dans les thèmes de ce membre : il ne recevrait pas cette édition.</p>"
    )
    return HTMLResponse(
        body,
        headers={
            **NO_STORE,
            "Content-Security-Policy": PREVIEW_CSP,
            "X-Frame-Options": "SAMEORIGIN",
        },
    )


@router.post(BASE + "/{number:int}/test")
def send_test(request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int) -> Response:
    now = ctx.clock()
    try:
        with transaction(ctx.sessions) as session:
            edition = edition_or_404(session, number)
            send_test_message(
                session, ctx.settings, ctx.theme_labels, edition, to=user.email, now=now
            )
    except MailError as exc:
        log.warning("test mail of edition %d not sent: %s", number, exc)
        return refused(
            request,
            ctx,
            user,
            number,
            editions.EditionError(f"L’envoi de test a échoué : {exc}"),
        )
    except editions.EditionError as exc:
        return refused(request, ctx, user, number, exc)
    return back_to(number, "test")


# --- approval, scheduling, sending ------------------------------------------------------


@router.post(BASE + "/{number:int}/approuver")
def approve(request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int) -> Response:
    return change(
        request,
        ctx,
        user,
        number,
        lambda s, e: editions.approve(s, e, actor=user.email, now=ctx.clock()),
        "approuve",
    )


def parse_local(value: str) -> datetime:
    """A `datetime-local` field (Paris time) → an aware datetime."""
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise editions.EditionError(
            "Date d’envoi illisible : choisissez un jour et une heure."
        ) from exc
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=PARIS)


@router.post(BASE + "/{number:int}/programmer")
def schedule(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    number: int,
    quand: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    # A date it cannot read is refused inside the transaction: nothing was written yet.
    return change(
        request,
        ctx,
        user,
        number,
        lambda s, e: editions.schedule(s, e, parse_local(quand), actor=user.email, now=ctx.clock()),
        "programme",
    )


@router.post(BASE + "/{number:int}/deprogrammer")
def unschedule(request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int) -> Response:
    return change(
        request,
        ctx,
        user,
        number,
        lambda s, e: editions.unschedule(s, e, actor=user.email, now=ctx.clock()),
        "deprogramme",
    )


@router.get(BASE + "/{number:int}/envoyer")
def confirm_send(request: Request, ctx: Ctx, user: DeskUserDep, number: int) -> Response:
    """Sending cannot be undone: a page that asks first, with the audience's size."""
    with ctx.sessions() as session:
        edition = edition_or_404(session, number)
        members = member_db.counts_by_status(session).get("active", 0)
        items = len(edition_db.items_of(session, edition.id))
        return render(
            request,
            ctx,
            user,
            "editions/send.html",
            **PAGE,
            title=f"Envoyer l’édition n° {number}",
            edition=edition,
            status_label=STATUS_LABELS.get(edition.status, edition.status),
            members=members,
            items=items,
            sendable=edition.status in ("draft", "approved", "paused", "sending") and items > 0,
        )


def send_starter(request: Request) -> SendStarter:
    """How this app gets a send going (`create_app`'s `send_starter`)."""
    starter: SendStarter = request.app.state.send_starter
    return starter


@router.post(BASE + "/{number:int}/envoyer")
def send_now(request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int) -> Response:
    try:
        with transaction(ctx.sessions) as session:
            edition = edition_or_404(session, number)
            editions.start_sending(session, edition, actor=user.email, now=ctx.clock())
    except editions.EditionError as exc:
        return refused(request, ctx, user, number, exc)
    try:
        send_starter(request)(number, user.email)
    except Exception:  # the edition is `sending`: the scheduler's next tick sends it
        log.exception("edition %d: the send worker did not start", number)
    return back_to(number, "envoi", "suivi")


@router.get(BASE + "/{number:int}/envoi.json")
def send_progress(ctx: Ctx, user: DeskUserDep, number: int) -> Response:
    """Where the send stands, for the composer's live « Suivi »: the figures of `veille
    edition status N --json`, plus the state in French and the estimated seconds left."""
    with ctx.sessions() as session:
        edition_or_404(session, number)
        status = edition_status(session, number)
    status["status_label"] = STATUS_LABELS.get(status["status"], status["status"])
    status["seconds_left"] = seconds_left(status, ctx.clock(), ctx.settings.send_rate)
    return JSONResponse(status, headers=NO_STORE)
