"""The members' public pages: subscribe (double opt-in), confirm, preferences, data
download and erasure, and the one-click unsubscribe of RFC 8058.

Every link a member receives carries a signed token (veille.members.tokens); a forged,
revoked or expired one gets the French 403 page. Answers never tell whether an address is
known (no enumeration); mails go out after the response, so a slow mail server cannot
delay or reveal anything.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from veille.db import alerts as alert_db
from veille.db import members as member_db
from veille.db.engine import transaction
from veille.db.scrub import checkpoint_sessions
from veille.db.tables import MemberRow
from veille.errors import MemberError, TokenError, VeilleError
from veille.mail.sender import make_sender
from veille.members import mails, reconsent, subscriptions
from veille.members.alerts import FREQUENCIES
from veille.members.tokens import read_token
from veille.sources import THEME_IDS
from veille.web import csrf
from veille.web.deps import Ctx, WebContext
from veille.web.ratelimit import Limiter, RateLimiter, SharedRateLimiter
from veille.web.transport import client_ip, is_https

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@dataclass
class SubscribeLimits:
    """Per IP: a person subscribing a few colleagues is fine, a script is not. Per address:
    at most 3 mails an hour, so the form cannot be used to flood someone's inbox. The app
    counts them in its database (`shared`), so they hold across processes and machines."""

    per_ip: Limiter = field(default_factory=lambda: RateLimiter(10, 3600))
    per_address: Limiter = field(default_factory=lambda: RateLimiter(3, 3600))

    @classmethod
    def shared(cls, ctx: WebContext) -> SubscribeLimits:
        def clock() -> float:
            return ctx.clock().timestamp()

        return cls(
            SharedRateLimiter("subscribe-ip", 10, 3600, clock, ctx.sessions),
            SharedRateLimiter("subscribe-address", 3, 3600, clock, ctx.sessions),
        )


def limits(request: Request) -> SubscribeLimits:
    found: SubscribeLimits = request.app.state.subscribe_limits
    return found


PREFERENCE_NOTES = {
    "themes": "Vos thèmes sont enregistrés.",
    "pause": "Votre abonnement est suspendu : vous ne recevrez plus la lettre jusqu’à sa reprise.",
    "resume": "Votre abonnement a repris.",
    "unsubscribe": "Vous êtes désabonné : vous ne recevrez plus la lettre.",
    "keep": "Merci : votre abonnement est conservé.",
    "alerte-pause": "Alerte suspendue.",
    "alerte-resume": "Alerte reprise.",
    "alerte-frequency": "Fréquence de l’alerte enregistrée.",
    "alerte-delete": "Alerte supprimée.",
}


class TooManyRequests(VeilleError):
    """The same IP sent too many subscription requests (answered 429)."""


def deliver(ctx: WebContext, build: Callable[[], EmailMessage], member_id: int) -> None:
    """Send one member mail after the response; a failure is logged and kept in the
    member's trail, never shown to whoever filled the form."""
    try:
        message = build()
        with make_sender(ctx.settings) as sender:
            sender.send(message)
    except Exception as exc:
        log.warning("member mail to #%s not sent: %s", member_id, exc)
        with transaction(ctx.sessions) as session:
            member = member_db.by_id(session, member_id)
            if member is not None:
                member_db.add_event(
                    session, member, "mail_failed", ctx.clock(), {"error": str(exc)[:300]}
                )


def page(
    ctx: WebContext, request: Request, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    token, fresh = csrf.form_token(request, ctx.settings.secret_key)
    response = ctx.templates.TemplateResponse(
        request,
        f"members/{template}",
        {
            "csrf": token,
            "theme_labels": ctx.theme_labels,
            "theme_ids": THEME_IDS,
            "brand": ctx.settings.newsletter_name,
            **context,
        },
        status_code=status,
    )
    csrf.set_cookie(response, fresh, is_https(ctx.settings))
    return response


def member_from(ctx: WebContext, session: Session, token: str, purpose: str) -> MemberRow:
    claim = read_token(ctx.settings.secret_key, token, purpose, ctx.clock)
    member = member_db.by_id(session, claim.member_id)
    if member is None or member.token_salt != claim.member_salt:
        raise TokenError("Ce lien n’est plus valable.", reason="invalid")
    return member


def within_limits(request: Request, address_key: str) -> bool:
    """Raises TooManyRequests when this IP asked too often; False when this address did
    (the caller then gives its usual answer and sends no mail, so nobody can flood an
    inbox nor learn anything)."""
    if not limits(request).per_ip.hit(client_ip(request)):
        raise TooManyRequests("Trop de demandes depuis votre connexion : réessayez plus tard.")
    return limits(request).per_address.hit(address_key)


def mail_later(
    background: BackgroundTasks,
    ctx: WebContext,
    member_id: int,
    build: Callable[[MemberRow], EmailMessage],
) -> None:
    """`build`'s mail for the member, sent by `deliver` after the response, from the member
    as stored then."""

    def message() -> EmailMessage:
        with ctx.sessions() as session:
            member = member_db.by_id(session, member_id)
            if member is None:
                raise MemberError("member vanished before its mail")
            return build(member)

    background.add_task(deliver, ctx, message, member_id)


def button_page(
    ctx: WebContext, request: Request, token: str, purpose: str, template: str
) -> HTMLResponse:
    """A signed link's GET only shows a button: mail scanners open links, and opening one
    must not confirm, sign in or unsubscribe anybody."""
    with ctx.sessions() as session:
        member = member_from(ctx, session, token, purpose)
        return page(ctx, request, template, member=member, token=token)


@router.get("/abonnement", response_class=HTMLResponse)
def subscribe_form(request: Request, ctx: Ctx) -> HTMLResponse:
    return page(ctx, request, "subscribe.html", consent_text=subscriptions.CONSENT_TEXT)


@router.post("/abonnement", response_class=HTMLResponse)
def subscribe(
    request: Request,
    ctx: Ctx,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=400)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    organisation: Annotated[str, Form(max_length=400)] = "",
    themes: Annotated[list[str] | None, Form()] = None,
    site_web: Annotated[str, Form(max_length=400)] = "",  # honeypot, hidden from people
    csrf_field: Annotated[str, Form(alias="csrf", max_length=200)] = "",
) -> HTMLResponse:
    csrf.check(request, ctx.settings.secret_key, csrf_field)
    form = {"email": email, "name": name, "organisation": organisation, "themes": themes or []}
    if site_web.strip():
        log.info("subscription honeypot filled from %s", client_ip(request))
        return page(ctx, request, "check_inbox.html")
    try:
        address = subscriptions.normalise_email(email)
        subscriptions.normalise_themes(themes)
    except MemberError as exc:
        return page(
            ctx,
            request,
            "subscribe.html",
            status=400,
            error=str(exc),
            form=form,
            consent_text=subscriptions.CONSENT_TEXT,
        )
    if not within_limits(request, member_db.email_key(address)):
        return page(ctx, request, "check_inbox.html")  # same answer, no extra mail
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        outcome = subscriptions.subscribe(
            session,
            email=address,
            name=name,
            organisation=organisation,
            themes=themes,
            now=now,
            ip=client_ip(request),
        )
        member_id = outcome.member.id
    settings, labels, clock = ctx.settings, ctx.theme_labels, ctx.clock

    def build(member: MemberRow) -> EmailMessage:
        if outcome.mail == "already":
            return mails.already_subscribed_message(settings, member, clock)
        return mails.confirmation_message(settings, member, labels, clock)

    mail_later(background, ctx, member_id, build)
    return page(ctx, request, "check_inbox.html")


@router.get("/abonnement/confirmer/{token}", response_class=HTMLResponse)
def confirm_form(token: str, request: Request, ctx: Ctx) -> HTMLResponse:
    return button_page(ctx, request, token, "confirm", "confirm.html")


@router.post("/abonnement/confirmer/{token}", response_class=HTMLResponse)
def confirm(
    token: str,
    request: Request,
    ctx: Ctx,
    csrf_field: Annotated[str, Form(alias="csrf", max_length=200)] = "",
) -> HTMLResponse:
    csrf.check(request, ctx.settings.secret_key, csrf_field)
    with transaction(ctx.sessions) as session:
        member = member_from(ctx, session, token, "confirm")
        subscriptions.confirm(session, member, ctx.clock(), client_ip(request))
        links = mails.links_for(ctx.settings, member, ctx.clock)
        status = member.status
    return page(
        ctx, request, "confirmed.html", preferences_url=links.preferences, member_status=status
    )


def alert_views(ctx: WebContext, session: Session, member: MemberRow) -> list[dict[str, Any]]:
    """The member's alerts as the preferences page lists them, with the archive page and
    the Atom feed of the same filter (the no-mail alternative)."""
    base = ctx.settings.base_url.rstrip("/")
    return [
        {
            "row": alert,
            "archive_href": "/?" + alert.filter if alert.filter else "/",
            "feed_url": f"{base}/feeds/search.atom" + ("?" + alert.filter if alert.filter else ""),
        }
        for alert in alert_db.of_member(session, member.id)
    ]


def preferences_context(
    ctx: WebContext, session: Session, member: MemberRow, token: str
) -> dict[str, Any]:
    return {
        "alerts": alert_views(ctx, session, member),
        "frequencies": FREQUENCIES,
        "member": member,
        "token": token,
        "chosen": set(member.themes or ()),
        "all_themes": member.themes is None,
        "reconsent": reconsent.state_of(member, ctx.clock()),
    }


@router.get("/preferences/{token}", response_class=HTMLResponse)
def preferences(token: str, request: Request, ctx: Ctx, fait: str = "") -> HTMLResponse:
    with transaction(ctx.sessions) as session:
        member = member_from(ctx, session, token, "prefs")  # opening is not activity
        return page(
            ctx,
            request,
            "preferences.html",
            note=PREFERENCE_NOTES.get(fait),
            **preferences_context(ctx, session, member, token),
        )


@router.post("/preferences/{token}", response_class=HTMLResponse)
def change_preferences(
    token: str,
    request: Request,
    ctx: Ctx,
    action: Annotated[str, Form(max_length=20)] = "themes",
    themes: Annotated[list[str] | None, Form()] = None,
    csrf_field: Annotated[str, Form(alias="csrf", max_length=200)] = "",
) -> Response:
    csrf.check(request, ctx.settings.secret_key, csrf_field)
    now = ctx.clock()
    if action == "delete":
        with transaction(ctx.sessions) as session:
            subscriptions.erase(session, member_from(ctx, session, token, "prefs"))
        checkpoint_sessions(ctx.sessions)  # no copy left in the WAL file
        return page(ctx, request, "erased.html")
    with transaction(ctx.sessions) as session:
        member = member_from(ctx, session, token, "prefs")
        try:
            if action == "themes":
                subscriptions.set_themes(session, member, themes, now)
            elif action == "pause":
                subscriptions.pause(session, member, now)
            elif action == "resume":
                subscriptions.resume(session, member, now)
            elif action == "unsubscribe":
                subscriptions.unsubscribe(session, member, now, "preferences")
            elif action == "keep":
                reconsent.keep(session, member, now)
            else:
                raise MemberError("Action inconnue.")
            subscriptions.touch(member, now)  # a POST that changes something: a sign of life
        except MemberError as exc:
            session.rollback()
            return page(
                ctx,
                request,
                "preferences.html",
                status=400,
                error=str(exc),
                **preferences_context(ctx, session, member, token),
            )
    return RedirectResponse(f"/preferences/{token}?fait={action}", status_code=303)


@router.get("/preferences/{token}/donnees.json")
def my_data(token: str, ctx: Ctx) -> Response:
    """GDPR access and portability: everything held on the member, as a JSON download."""
    with transaction(ctx.sessions) as session:
        member = member_from(ctx, session, token, "prefs")  # a GET: not activity either
        data = subscriptions.personal_data(session, member, ctx.clock())
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="mes-donnees-veille.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_form(token: str, request: Request, ctx: Ctx) -> HTMLResponse:
    return button_page(ctx, request, token, "prefs", "unsubscribe.html")


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(token: str, request: Request, ctx: Ctx) -> HTMLResponse:
    """RFC 8058 one-click: a POST with `List-Unsubscribe=One-Click`, sent by mail clients
    without cookies, so no CSRF token here — the signed token is the authority."""
    with transaction(ctx.sessions) as session:
        member = member_from(ctx, session, token, "prefs")
        subscriptions.unsubscribe(session, member, ctx.clock(), "one-click")
        links = mails.links_for(ctx.settings, member, ctx.clock)
    return page(ctx, request, "unsubscribed.html", preferences_url=links.preferences)
