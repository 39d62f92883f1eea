"""Desk login: server-side sessions, CSRF tokens, login throttling, setup links.

The cookie `veille_desk` holds a random value; the database keeps only its SHA-256, so a
session is revoked by deleting its row and a leaked table yields no usable cookie. Each
session carries its own CSRF token, checked on every desk form. Forms shown before a
session exists (login, setting a password) use the double-submit token of `veille.web.csrf`
instead, with its own cookie (`SameSite=Strict`). Over HTTPS the cookies are `Secure` and
`__Host-`-prefixed (`veille.web.transport`); failed logins are throttled per (address, IP)
and per IP (`veille.web.login_throttle`), in the database so they hold across processes.

Wiring (in `create_app`): `auth.install(app)` — the router, the two exception handlers and
the login throttle. Desk routes then take `user: DeskUserDep` (pages) or
`user: CsrfDeskUserDep` (form posts).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import unquote, urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from veille.db import users as user_db
from veille.db.engine import transaction
from veille.desk import accounts
from veille.errors import UserError
from veille.web import csrf as form_csrf
from veille.web.deps import Ctx, WebContext
from veille.web.login_throttle import LoginThrottle, Try
from veille.web.transport import client_ip, cookie_name, is_https

router = APIRouter(include_in_schema=False)

COOKIE = "veille_desk"
FORM_COOKIE = "veille_desk_form"
# Path=/ (it was /desk): a `__Host-` cookie must be Path=/; SameSite=Strict still keeps it
# out of every cross-site request.
FORM_CSRF = form_csrf.FormCookie(FORM_COOKIE, "/", "strict", "desk-form")
SESSION_LIFETIME = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
LOGIN_PATH = "/desk/connexion"
DEFAULT_NEXT = "/desk"
BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
CSRF_REFUSED = form_csrf.REFUSED
NO_STORE = {"Cache-Control": "no-store"}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


@dataclass(frozen=True)
class DeskUser:
    id: int
    email: str
    role: str
    csrf: str


class LoginRequired(Exception):
    """No valid desk session: a redirect to the login page, or 401."""


class CsrfRefused(Exception):
    """A desk form came without the session's CSRF token: 403."""


# --- throttling ------------------------------------------------------------------------


def new_throttle(ctx: WebContext) -> LoginThrottle:
    """Failed logins per (address, IP), per IP and per address: see `login_throttle`."""
    return LoginThrottle(lambda: ctx.clock().timestamp(), ctx.sessions)


_install_lock = threading.Lock()


def throttle_of(request: Request) -> LoginThrottle:
    state = request.app.state
    with _install_lock:
        throttle: LoginThrottle | None = getattr(state, "desk_throttle", None)
        if throttle is None:
            throttle = new_throttle(state.web)
            state.desk_throttle = throttle
    return throttle


# --- sessions --------------------------------------------------------------------------


def session_digest(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode("utf-8")).hexdigest()


def _secure(ctx: WebContext) -> bool:
    return is_https(ctx.settings)


def _cookie(ctx: WebContext) -> str:
    """`veille_desk`, or `__Host-veille_desk` over HTTPS (see `veille.web.transport`)."""
    return cookie_name(COOKIE, _secure(ctx))


def _drop_cookie(response: Response, ctx: WebContext) -> None:
    response.delete_cookie(_cookie(ctx), path="/", secure=_secure(ctx), httponly=True)


def current_user(request: Request, ctx: WebContext) -> DeskUser | None:
    """The desk user of a valid session cookie (sliding expiry, written at most once a
    minute), else None."""
    raw = request.cookies.get(_cookie(ctx))
    if not raw or not _TOKEN.fullmatch(raw):
        return None
    digest = session_digest(raw)
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        found = user_db.valid_session(session, digest, now)
        if found is None:
            return None
        if now - found.last_seen_at >= TOUCH_EVERY:
            user_db.touch_session(session, digest, now, now + SESSION_LIFETIME)
    return DeskUser(id=found.user_id, email=found.email, role=found.role, csrf=found.csrf)


def require_user(request: Request, ctx: Ctx) -> DeskUser:
    """Dependency of every desk route."""
    user = current_user(request, ctx)
    if user is None:
        raise LoginRequired()
    return user


def csrf_matches(expected: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(
        given.encode("utf-8"), expected.encode("utf-8")
    )


async def check_csrf(
    request: Request, user: Annotated[DeskUser, Depends(require_user)]
) -> DeskUser:
    """Dependency of every desk form post: the `csrf` field (or `X-CSRF-Token` header) must
    be the session's token."""
    given: object = request.headers.get("x-csrf-token")
    if given is None:
        form = await request.form()  # cached by Starlette: the route's Form() still works
        given = form.get("csrf")
    if not csrf_matches(user.csrf, given):
        raise CsrfRefused()
    return user


DeskUserDep = Annotated[DeskUser, Depends(require_user)]
CsrfDeskUserDep = Annotated[DeskUser, Depends(check_csrf)]


def safe_next(value: str | None) -> str:
    """Where to go after login: a local desk path, never another site."""
    if not value or len(value) > 2000:
        return DEFAULT_NEXT
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return DEFAULT_NEXT
    path = parts.path
    if path != "/desk" and not path.startswith("/desk/"):
        return DEFAULT_NEXT
    if any(segment in {".", ".."} for segment in unquote(path).split("/")):
        return DEFAULT_NEXT
    return value


def _login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{LOGIN_PATH}?{urlencode({'suite': target})}"


# --- exception handlers ----------------------------------------------------------------


def _page(
    request: Request,
    ctx: WebContext,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    form: bool = False,
) -> Response:
    """A never-cached page; with `form`, its form carries the double-submit token as
    `csrf` (the pre-session forms: login, setting a password)."""
    fresh = None
    if form:
        token, fresh = form_csrf.form_token(request, ctx.settings.secret_key, FORM_CSRF)
        context = {**context, "csrf": token}
    response = ctx.templates.TemplateResponse(
        request, template, context, status_code=status, headers={**NO_STORE, **(headers or {})}
    )
    form_csrf.set_cookie(response, fresh, _secure(ctx), FORM_CSRF)
    return response


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    ctx: WebContext = request.app.state.web
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status, headers=NO_STORE)
    return _page(request, ctx, "desk/error.html", {"title": title, "message": message}, status)


def login_required(request: Request, exc: Exception) -> Response:
    if request.method in ("GET", "HEAD") and not request.url.path.startswith("/api/"):
        response: Response = RedirectResponse(_login_url(request), status_code=303)
    else:
        response = _error_page(
            request, 401, "Connexion requise", "Votre session a expiré : reconnectez-vous."
        )
    ctx: WebContext = request.app.state.web
    if _cookie(ctx) in request.cookies:  # expired or revoked: stop sending it
        _drop_cookie(response, ctx)
    return response


def csrf_refused(request: Request, exc: Exception) -> Response:
    return _error_page(request, 403, "Accès refusé", CSRF_REFUSED)


def install(app: FastAPI) -> None:
    """Everything the desk login needs on an app made by `create_app`."""
    ctx: WebContext = app.state.web
    app.state.desk_throttle = new_throttle(ctx)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    app.include_router(router)


# --- pre-session forms (double submit) --------------------------------------------------


def _form_token_ok(request: Request, ctx: WebContext, given: str) -> bool:
    return form_csrf.valid(request, ctx.settings.secret_key, given, FORM_CSRF)


# --- routes ----------------------------------------------------------------------------

NOTICES = {
    "motdepasse": "Mot de passe enregistré : vous pouvez vous connecter.",
    "deconnexion": "Vous êtes déconnecté.",
}


def _login_page(
    request: Request,
    ctx: WebContext,
    *,
    suite: str,
    email: str = "",
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return _page(
        request,
        ctx,
        "desk/login.html",
        {
            "title": "Connexion au bureau",
            "suite": suite,
            "email": email,
            "error": error,
            "notice": notice,
        },
        status,
        headers,
        form=True,
    )


@router.get(LOGIN_PATH)
def login_form(request: Request, ctx: Ctx, suite: str | None = None) -> Response:
    target = safe_next(suite)
    if current_user(request, ctx) is not None:
        return RedirectResponse(target, status_code=303)
    notice = next((text for key, text in NOTICES.items() if key in request.query_params), None)
    return _login_page(request, ctx, suite=target, notice=notice)


@router.post(LOGIN_PATH)
def login(
    request: Request,
    ctx: Ctx,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD_LENGTH)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    suite: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    target = safe_next(suite)
    if not _form_token_ok(request, ctx, csrf):
        return _login_page(request, ctx, suite=target, email=email, error=CSRF_REFUSED, status=403)
    throttle = throttle_of(request)
    keys = (accounts.email_key_of(email), client_ip(request))
    attempt = throttle.admit(*keys)  # counted as a failure unless the password is right
    if not isinstance(attempt, Try):
        wait = attempt
        minutes = max(1, -(-wait // 60))
        message = (
            "Trop de tentatives de connexion : réessayez dans "
            f"{minutes} minute{'s' if minutes > 1 else ''}."
        )
        return _login_page(
            request,
            ctx,
            suite=target,
            email=email,
            error=message,
            status=429,
            headers={"Retry-After": str(wait)},
        )
    now = ctx.clock()
    raw = secrets.token_urlsafe(32)
    with transaction(ctx.sessions) as session:
        user = accounts.authenticate(session, email, password, now)
        if user is not None:
            old = request.cookies.get(_cookie(ctx))
            if old:  # whatever session this browser had ends here (no fixation)
                user_db.delete_session(session, session_digest(old))
            user_db.purge_expired_sessions(session, now)
            user_db.create_session(
                session,
                session_id=session_digest(raw),
                user_id=user.id,
                csrf=secrets.token_urlsafe(32),
                now=now,
                expires_at=now + SESSION_LIFETIME,
            )
    if user is None:
        return _login_page(
            request, ctx, suite=target, email=email, error=BAD_CREDENTIALS, status=401
        )
    throttle.succeeded(attempt)
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    response.set_cookie(
        _cookie(ctx), raw, path="/", httponly=True, samesite="lax", secure=_secure(ctx)
    )
    return response


@router.post("/desk/deconnexion")
def logout(request: Request, ctx: Ctx, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Ends the session (its row is deleted, so the cookie is dead everywhere). Without a
    valid session there is nothing to protect: straight back to the login page."""
    raw = request.cookies.get(_cookie(ctx))
    user = current_user(request, ctx)
    if user is not None and raw:
        if not csrf_matches(user.csrf, request.headers.get("x-csrf-token") or csrf):
            raise CsrfRefused()
        with transaction(ctx.sessions) as session:
            user_db.delete_session(session, session_digest(raw))
    response = RedirectResponse(f"{LOGIN_PATH}?deconnexion", status_code=303, headers=NO_STORE)
    _drop_cookie(response, ctx)
    return response


def _password_page(
    request: Request,
    ctx: WebContext,
    token: str,
    email: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return _page(
        request,
        ctx,
        "desk/set_password.html",
        {
            "title": "Choisir un mot de passe",
            "token": token,
            "email": email,
            "error": error,
            "min_length": accounts.MIN_PASSWORD_LENGTH,
        },
        status,
        form=True,
    )


def _link_refused(request: Request, exc: UserError) -> Response:
    return _error_page(request, 400, "Lien non valable", str(exc))


@router.get("/desk/mot-de-passe/{token}")
def password_form(request: Request, ctx: Ctx, token: str) -> Response:
    with ctx.sessions() as session:
        try:
            user = accounts.user_from_setup_token(session, ctx.settings, token, ctx.clock())
        except UserError as exc:
            return _link_refused(request, exc)
        return _password_page(request, ctx, token, user.email)


@router.post("/desk/mot-de-passe/{token}")
def set_password(
    request: Request,
    ctx: Ctx,
    token: str,
    password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD_LENGTH)] = "",
    confirmation: Annotated[str, Form(max_length=accounts.MAX_PASSWORD_LENGTH)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if not _form_token_ok(request, ctx, csrf):
        return _error_page(request, 403, "Accès refusé", CSRF_REFUSED)
    with transaction(ctx.sessions) as session:
        try:
            user = accounts.user_from_setup_token(session, ctx.settings, token, ctx.clock())
        except UserError as exc:
            return _link_refused(request, exc)
        email = user.email
        if password != confirmation:
            problem: str | None = "Les deux mots de passe ne sont pas identiques."
        else:
            try:
                accounts.set_password(session, user, password)
                problem = None
            except UserError as exc:  # raised before anything is written
                problem = str(exc)
    if problem is not None:
        return _password_page(request, ctx, token, email, problem, status=400)
    return RedirectResponse(f"{LOGIN_PATH}?motdepasse", status_code=303, headers=NO_STORE)
