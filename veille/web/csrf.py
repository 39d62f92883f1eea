"""CSRF protection for forms shown before any login session: a double-submit cookie. The
browser holds a random cookie (HttpOnly); each form carries an HMAC of it under the secret
key. Another site can make a browser send the cookie but cannot read it, so it cannot forge
the field.

Two cookies use it: `veille_csrf` for the members' public forms (whole site, SameSite=Lax),
and `veille_desk_form` for the desk's login and password forms (SameSite=Strict: no other
site ever gets it sent). Over HTTPS both are `Secure` and `__Host-`-prefixed
(`veille.web.transport`), hence Path=/ for both."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response

from veille.errors import VeilleError
from veille.web.transport import cookie_name, request_is_https

COOKIE = "veille_csrf"
REFUSED = "Le formulaire a expiré ou ne vient pas de ce site : rechargez la page et recommencez."


@dataclass(frozen=True)
class FormCookie:
    """Where a double-submit cookie lives; `purpose` keeps the HMACs of two cookies apart."""

    name: str
    path: str
    samesite: Literal["lax", "strict"]
    purpose: str


PUBLIC = FormCookie(COOKIE, "/", "lax", "csrf")


class CsrfError(VeilleError):
    """A state-changing form came without a valid CSRF field (answered 403)."""


def _sign(secret: str, value: str, cookie: FormCookie) -> str:
    message = f"{cookie.purpose}:{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def form_token(
    request: Request, secret: str, cookie: FormCookie = PUBLIC
) -> tuple[str, str | None]:
    """The field value for a form, and a cookie value to set when the browser has none."""
    value = request.cookies.get(cookie_name(cookie.name, request_is_https(request)))
    if value and 16 <= len(value) <= 128:
        return _sign(secret, value, cookie), None
    fresh = secrets.token_urlsafe(24)
    return _sign(secret, fresh, cookie), fresh


def set_cookie(
    response: Response, value: str | None, secure: bool, cookie: FormCookie = PUBLIC
) -> None:
    if value is not None:
        response.set_cookie(
            cookie_name(cookie.name, secure),
            value,
            httponly=True,
            samesite=cookie.samesite,
            secure=secure,
            path=cookie.path,
        )


def valid(
    request: Request, secret: str, submitted: str | None, cookie: FormCookie = PUBLIC
) -> bool:
    """Bytes compared, so a field with non-ASCII characters is refused rather than raising."""
    value = request.cookies.get(cookie_name(cookie.name, request_is_https(request)))
    if not value or not submitted:
        return False
    expected = _sign(secret, value, cookie).encode()
    return hmac.compare_digest(expected, submitted.encode("utf-8", "replace"))


def check(
    request: Request, secret: str, submitted: str | None, cookie: FormCookie = PUBLIC
) -> None:
    if not valid(request, secret, submitted, cookie):
        raise CsrfError(REFUSED)
