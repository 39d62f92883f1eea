"""CSRF protection for the public forms, which have no login session: a double-submit
cookie. The browser holds a random `veille_csrf` cookie (HttpOnly, SameSite=Lax); each form
carries an HMAC of it under the secret key. Another site can make a browser send the
cookie but cannot read it, so it cannot forge the field."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from veille.errors import VeilleError

COOKIE = "veille_csrf"


class CsrfError(VeilleError):
    """A state-changing form came without a valid CSRF field (answered 403)."""


def _sign(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{value}".encode(), hashlib.sha256).hexdigest()


def form_token(request: Request, secret: str) -> tuple[str, str | None]:
    """The field value for a form, and a cookie value to set when the browser has none."""
    cookie = request.cookies.get(COOKIE)
    if cookie and 16 <= len(cookie) <= 128:
        return _sign(secret, cookie), None
    fresh = secrets.token_urlsafe(24)
    return _sign(secret, fresh), fresh


def set_cookie(response: Response, value: str | None, secure: bool) -> None:
    if value is not None:
        response.set_cookie(COOKIE, value, httponly=True, samesite="lax", secure=secure, path="/")


def check(request: Request, secret: str, submitted: str | None) -> None:
    cookie = request.cookies.get(COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(_sign(secret, cookie), submitted):
        raise CsrfError(
            "Le formulaire a expiré ou ne vient pas de ce site : rechargez la page et recommencez."
        )
