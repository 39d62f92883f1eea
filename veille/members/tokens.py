"""Signed links for members: confirm a subscription, manage preferences, unsubscribe.

A token carries (member id, purpose, the member's token salt), signed with
`VEILLE_SECRET_KEY` and timestamped. The salt makes links revocable (erasure or a new salt
kills every old link) without storing tokens; the purpose stops a preferences link from
confirming, and the age limit makes confirmation links expire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from veille.errors import TokenError

MAX_AGE = {
    "confirm": timedelta(days=7),
    # Links in mails stay usable for a long time: an unsubscribe link must work in an old
    # newsletter too.
    "prefs": timedelta(days=730),
    # A login link for the members-only archive (its session: veille.web.member_login).
    "login": timedelta(hours=24),
    # An alert's own links (`veille.members.alerts`): the claim names the alert and its
    # salt instead of the member's, so deleting one alert kills its links only.
    "alert_confirm": timedelta(days=7),
    "alert": timedelta(days=730),
}
SALT = "veille.members"


@dataclass(frozen=True)
class TokenClaim:
    member_id: int
    purpose: str
    member_salt: str


def _serializer(secret: str, clock: Callable[[], datetime]) -> URLSafeTimedSerializer:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return URLSafeTimedSerializer(secret, salt=SALT, signer=ClockSigner)


def _now() -> datetime:
    return datetime.now(UTC)


def make_token(
    secret: str,
    member_id: int,
    member_salt: str,
    purpose: str,
    clock: Callable[[], datetime] = _now,
) -> str:
    if purpose not in MAX_AGE:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return str(_serializer(secret, clock).dumps([member_id, purpose, member_salt]))


def read_token(
    secret: str,
    token: str,
    purpose: str,
    clock: Callable[[], datetime] = _now,
) -> TokenClaim:
    """The claim of a valid token for this purpose, else TokenError (expired or invalid)."""
    if len(token) > 512:
        raise TokenError("Lien invalide.", reason="invalid")
    max_age = int(MAX_AGE[purpose].total_seconds())
    try:
        data = _serializer(secret, clock).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError("Ce lien a expiré.", reason="expired") from exc
    except BadSignature as exc:
        raise TokenError("Lien invalide.", reason="invalid") from exc
    if (
        not isinstance(data, list)
        or len(data) != 3
        or not isinstance(data[0], int)
        or data[1] != purpose
        or not isinstance(data[2], str)
    ):
        raise TokenError("Lien invalide.", reason="invalid")
    return TokenClaim(member_id=data[0], purpose=purpose, member_salt=data[2])
