"""Members' alerts on the web: the form behind the archive's « Créer une alerte pour
cette recherche », the alert's double opt-in, its one-click stop (RFC 8058), and the
changes made from `/preferences/{token}`.

The subscription's machinery is reused, not copied (`veille.web.members`): the same CSRF
and honeypot, the same rate limits per IP and per address, the same « check your inbox »
answer whatever the address (no enumeration), mails sent after the response, buttons
behind every signed link's GET (mail scanners open links).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from veille.archive.alert_filter import canonical, default_name, parse_filter
from veille.archive.query import ArchiveQuery, QueryError
from veille.db import alerts as alert_db
from veille.db import members as member_db
from veille.db.alerts import AlertRow
from veille.db.engine import transaction
from veille.db.sources import names_of
from veille.db.tables import MemberRow
from veille.errors import MemberError, TokenError
from veille.members import alerts, mails, subscriptions
from veille.members.tokens import read_token
from veille.web import csrf
from veille.web.deps import Ctx, Filters, WebContext, archive_access
from veille.web.members import mail_later, member_from, page, within_limits
from veille.web.transport import client_ip

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def alert_from(
    ctx: WebContext, session: Session, token: str, purpose: str
) -> tuple[AlertRow, MemberRow]:
    """The alert (and its member) a signed alert link names, or TokenError: a deleted
    alert takes its links with it."""
    claim = read_token(ctx.settings.secret_key, token, purpose, ctx.clock)
    alert = alert_db.by_id(session, claim.member_id)  # the claim's subject: the alert
    member = member_db.by_id(session, alert.member_id) if alert is not None else None
    if alert is None or member is None or alert.token_salt != claim.member_salt:
        raise TokenError("Cette alerte n’existe plus.", reason="invalid")
    return alert, member


def form_page(
    ctx: WebContext,
    request: Request,
    session: Session,
    query: ArchiveQuery,
    status: int = 200,
    error: str | None = None,
    **form: Any,
) -> HTMLResponse:
    filter_qs = canonical(query)
    name = form.get("name") or default_name(
        query, ctx.theme_labels, names_of(session, query.sources)
    )
    return page(
        ctx,
        request,
        "alert_new.html",
        status=status,
        error=error,
        filter_qs=filter_qs,
        archive_href="/?" + filter_qs if filter_qs else "/",
        feed_href="/feeds/search.atom" + ("?" + filter_qs if filter_qs else ""),
        form={"email": "", "frequency": "weekly", **form, "name": name},
        frequencies=alerts.FREQUENCIES,
        consent_text=alerts.CONSENT_TEXT,
    )


@router.get(
    "/alertes/nouvelle", response_class=HTMLResponse, dependencies=[Depends(archive_access)]
)
def new_alert(request: Request, query: Filters, ctx: Ctx) -> HTMLResponse:
    """The form, for the archive filter in the query string (its period is dropped)."""
    with ctx.sessions() as session:
        return form_page(ctx, request, session, query)


@router.post(
    "/alertes/nouvelle", response_class=HTMLResponse, dependencies=[Depends(archive_access)]
)
def create_alert(
    request: Request,
    ctx: Ctx,
    background: BackgroundTasks,
    filtre: Annotated[str, Form(max_length=2000)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    frequency: Annotated[str, Form(max_length=20)] = "weekly",
    site_web: Annotated[str, Form(max_length=400)] = "",  # honeypot, hidden from people
    csrf_field: Annotated[str, Form(alias="csrf", max_length=200)] = "",
) -> HTMLResponse:
    csrf.check(request, ctx.settings.secret_key, csrf_field)
    query = parse_filter(filtre, today=ctx.today())  # QueryError: the French 400 page
    if site_web.strip():
        log.info("alert honeypot filled from %s", client_ip(request))
        return page(ctx, request, "alert_check_inbox.html")
    try:
        address = subscriptions.normalise_email(email)
        alerts.check_frequency(frequency)
        alerts.check_name(name)
    except MemberError as exc:
        with ctx.sessions() as session:
            return form_page(
                ctx,
                request,
                session,
                query,
                400,
                error=str(exc),
                email=email,
                frequency=frequency,
                name=name,
            )
    if not within_limits(request, member_db.email_key(address)):
        return page(ctx, request, "alert_check_inbox.html")  # same answer, no extra mail
    with transaction(ctx.sessions) as session:
        outcome = alerts.request_alert(
            session,
            email=address,
            name=name,
            filter_qs=canonical(query),
            frequency=frequency,
            now=ctx.clock(),
            ip=client_ip(request),
        )
        alert_id = outcome.alert.id if outcome.alert is not None else None
        member_id = outcome.member.id
    if outcome.mail == "confirm" and alert_id is not None:
        settings, clock = ctx.settings, ctx.clock

        def build(member: MemberRow) -> EmailMessage:
            with ctx.sessions() as session:
                alert = alert_db.by_id(session, alert_id)
                if alert is None:
                    raise MemberError("alert vanished before its mail")
                return mails.alert_confirmation_message(settings, member, alert, clock)

        mail_later(background, ctx, member_id, build)
    return page(ctx, request, "alert_check_inbox.html")


@router.get("/alertes/confirmer/{token}", response_class=HTMLResponse)
def confirm_form(token: str, request: Request, ctx: Ctx) -> HTMLResponse:
    with ctx.sessions() as session:
        alert, member = alert_from(ctx, session, token, "alert_confirm")
        return page(ctx, request, "alert_confirm.html", alert=alert, member=member, token=token)


@router.post("/alertes/confirmer/{token}", response_class=HTMLResponse)
def confirm(
    token: str,
    request: Request,
    ctx: Ctx,
    csrf_field: Annotated[str, Form(alias="csrf", max_length=200)] = "",
) -> HTMLResponse:
    csrf.check(request, ctx.settings.secret_key, csrf_field)
    with transaction(ctx.sessions) as session:
        alert, member = alert_from(ctx, session, token, "alert_confirm")
        alerts.confirm_alert(session, alert, member, ctx.clock(), client_ip(request))
        preferences = mails.links_for(ctx.settings, member, ctx.clock).preferences
        return page(
            ctx,
            request,
            "alert_confirmed.html",
            alert=alert,
            member=member,
            preferences_url=preferences,
            frequencies=alerts.FREQUENCIES,
        )


@router.get("/alertes/arreter/{token}", response_class=HTMLResponse)
def stop_form(token: str, request: Request, ctx: Ctx) -> HTMLResponse:
    with ctx.sessions() as session:
        alert, member = alert_from(ctx, session, token, "alert")
        return page(ctx, request, "alert_stop.html", alert=alert, member=member, token=token)


@router.post("/alertes/arreter/{token}", response_class=HTMLResponse)
def stop(token: str, request: Request, ctx: Ctx) -> HTMLResponse:
    """RFC 8058 one-click, sent by mail clients without cookies: no CSRF token here, the
    signed token is the authority. Stops that alert only."""
    with transaction(ctx.sessions) as session:
        alert, member = alert_from(ctx, session, token, "alert")
        name = alert.name
        alerts.unsubscribe_alert(session, alert, member, ctx.clock())
        preferences = mails.links_for(ctx.settings, member, ctx.clock).preferences
    return page(ctx, request, "alert_stopped.html", alert_name=name, preferences_url=preferences)


@router.post("/preferences/{token}/alertes/{alert_id}")
def change(
    token: str,
    alert_id: int,
    request: Request,
    ctx: Ctx,
    action: Annotated[str, Form(max_length=20)] = "",
    frequency: Annotated[str, Form(max_length=20)] = "",
    csrf_field: Annotated[str, Form(alias="csrf", max_length=200)] = "",
) -> Response:
    """Pause, resume, change the frequency of, or delete one of the member's alerts."""
    csrf.check(request, ctx.settings.secret_key, csrf_field)
    with transaction(ctx.sessions) as session:
        member = member_from(ctx, session, token, "prefs")
        alert = alert_db.by_id(session, alert_id)
        if alert is None or alert.member_id != member.id:
            raise TokenError("Cette alerte n’existe plus.", reason="invalid")
        try:
            alerts.change_alert(session, alert, member, action, ctx.clock(), frequency=frequency)
        except MemberError as exc:
            session.rollback()
            raise QueryError(str(exc)) from exc  # the French 400 page
    return RedirectResponse(f"/preferences/{token}?fait=alerte-{action}#alertes", status_code=303)
