"""Member sign-in for a members-only archive (`VEILLE_ARCHIVE_ACCESS=members`).

Members have no password: they ask for a link at `/connexion`, the mail proves they own the
address, and the link's button sets a `veille_member` cookie (30 days, fixed). The cookie is
a random value whose SHA-256 is a `member_sessions` row (as the desk does), so logging out
deletes the row and every copy of the cookie dies with it; erasing the member deletes their
sessions. Members whose address is confirmed and still wanted get in: `active` and
`paused` subscribers, and `alerts` members (confirmed through an alert, no newsletter) —
the link proves they own the address just as well.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from veille.config import Settings
from veille.db import member_sessions as session_db
from veille.db import members as member_db
from veille.db.engine import transaction
from veille.errors import MemberError, TokenError
from veille.members import mails, subscriptions
from veille.web import csrf
from veille.web.deps import Ctx
from veille.web.members import button_page, mail_later, member_from, page, within_limits
from veille.web.transport import cookie_name, is_https

router = APIRouter(include_in_schema=False)
COOKIE = "veille_member"
ALLOWED = ("active", "paused", "alerts")
LIFETIME = timedelta(days=30)
_VALUE = re.compile(r"[A-Za-z0-9_-]{32,64}")


def _cookie(settings: Settings) -> str:
    """`veille_member`, or `__Host-veille_member` over HTTPS (see `veille.web.transport`)."""
    return cookie_name(COOKIE, is_https(settings))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def member_from_cookie(request: Request) -> str | None:
    """The `member_resolver` of the web app: the signed-in member's id, or None."""
    ctx = request.app.state.web
    value = request.cookies.get(_cookie(ctx.settings))
    if not value or not _VALUE.fullmatch(value):
        return None
    with ctx.sessions() as session:
        member = session_db.member_of(session, _digest(value), ctx.clock())
        if member is None or member.status not in ALLOWED:
            return None
        return str(member.id)


@router.get("/connexion", response_class=HTMLResponse)
def login_form(request: Request, ctx: Ctx) -> HTMLResponse:
    return page(ctx, request, "login.html")


@router.post("/connexion", response_class=HTMLResponse)
def ask_login_link(
    request: Request,
    ctx: Ctx,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=400)] = "",
    csrf_field: Annotated[str, Form(alias="csrf", max_length=200)] = "",
) -> HTMLResponse:
    csrf.check(request, ctx.settings.secret_key, csrf_field)
    try:
        address = subscriptions.normalise_email(email)
    except MemberError as exc:
        return page(ctx, request, "login.html", status=400, error=str(exc), email=email)
    within = within_limits(request, "login:" + member_db.email_key(address))
    sent = page(ctx, request, "login_sent.html")  # the same answer for every address
    if not within:
        return sent
    with ctx.sessions() as session:
        member = member_db.by_email(session, address)
        if member is None or member.status not in ALLOWED:
            return sent
        member_id = member.id
    settings, clock = ctx.settings, ctx.clock
    mail_later(background, ctx, member_id, lambda m: mails.login_message(settings, m, clock))
    return sent


@router.get("/connexion/{token}", response_class=HTMLResponse)
def login_button(token: str, request: Request, ctx: Ctx) -> HTMLResponse:
    return button_page(ctx, request, token, "login", "login_confirm.html")


@router.post("/connexion/{token}")
def login(
    token: str,
    request: Request,
    ctx: Ctx,
    csrf_field: Annotated[str, Form(alias="csrf", max_length=200)] = "",
) -> Response:
    csrf.check(request, ctx.settings.secret_key, csrf_field)
    cookie = secrets.token_urlsafe(32)
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        member = member_from(ctx, session, token, "login")
        if member.status not in ALLOWED:
            raise TokenError("Votre abonnement n’est pas actif.", reason="invalid")
        subscriptions.touch(member, now)
        old = request.cookies.get(_cookie(ctx.settings))
        if old:  # whatever session this browser had ends here (no fixation)
            session_db.delete_session(session, _digest(old))
        session_db.purge_expired(session, now)
        session_db.create(
            session,
            session_id=_digest(cookie),
            member_id=member.id,
            now=now,
            expires_at=now + LIFETIME,
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        _cookie(ctx.settings),
        cookie,
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_https(ctx.settings),
        path="/",
    )
    return response


@router.post("/deconnexion")
def logout(
    request: Request,
    ctx: Ctx,
    csrf_field: Annotated[str, Form(alias="csrf", max_length=200)] = "",
) -> Response:
    csrf.check(request, ctx.settings.secret_key, csrf_field)
    value = request.cookies.get(_cookie(ctx.settings))
    if value:
        with transaction(ctx.sessions) as session:
            session_db.delete_session(session, _digest(value))
    response = RedirectResponse("/connexion", status_code=303)
    response.delete_cookie(
        _cookie(ctx.settings), path="/", secure=is_https(ctx.settings), httponly=True
    )
    return response
