"""The mails of the subscription flow (double opt-in, "you are already subscribed") and the
signed links every member mail carries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage

from veille.config import Settings
from veille.db.tables import MemberRow
from veille.mail.message import as_address, build_message
from veille.mail.render import render_mail
from veille.members.subscriptions import themes_of
from veille.members.tokens import make_token


@dataclass(frozen=True)
class MemberLinks:
    confirm: str
    preferences: str
    unsubscribe: str


def _now() -> datetime:
    return datetime.now(UTC)


def links_for(
    settings: Settings, member: MemberRow, clock: Callable[[], datetime] = _now
) -> MemberLinks:
    base = settings.base_url.rstrip("/")
    secret = settings.secret_key
    confirm = make_token(secret, member.id, member.token_salt, "confirm", clock)
    prefs = make_token(secret, member.id, member.token_salt, "prefs", clock)
    return MemberLinks(
        confirm=f"{base}/abonnement/confirmer/{confirm}",
        preferences=f"{base}/preferences/{prefs}",
        unsubscribe=f"{base}/unsubscribe/{prefs}",
    )


def recipient(member: MemberRow) -> Address:
    address = as_address(member.email)
    return Address(display_name=member.name or "", addr_spec=address.addr_spec)


def _message(
    settings: Settings, member: MemberRow, template: str, subject: str, context: dict[str, object]
) -> EmailMessage:
    mail = render_mail(template, {"subject": subject, "brand": settings.newsletter_name, **context})
    return build_message(
        sender=Address(display_name=settings.newsletter_name, addr_spec=settings.mail_from)
        if "<" not in settings.mail_from
        else settings.mail_from,
        to=recipient(member),
        subject=subject,
        text=mail.text,
        html=mail.html,
        headers={"Auto-Submitted": "auto-generated"},
    )


def confirmation_message(
    settings: Settings,
    member: MemberRow,
    theme_labels: Mapping[str, str],
    clock: Callable[[], datetime] = _now,
) -> EmailMessage:
    links = links_for(settings, member, clock)
    themes = [theme_labels.get(t, t) for t in themes_of(member)] if member.themes else []
    return _message(
        settings,
        member,
        "members/confirm",
        f"Confirmez votre inscription à « {settings.newsletter_name} »",
        {"name": member.name, "themes": themes, "confirm_url": links.confirm},
    )


def already_subscribed_message(
    settings: Settings, member: MemberRow, clock: Callable[[], datetime] = _now
) -> EmailMessage:
    links = links_for(settings, member, clock)
    return _message(
        settings,
        member,
        "members/already",
        f"Votre abonnement à « {settings.newsletter_name} »",
        {"name": member.name, "preferences_url": links.preferences},
    )


def login_message(
    settings: Settings, member: MemberRow, clock: Callable[[], datetime] = _now
) -> EmailMessage:
    token = make_token(settings.secret_key, member.id, member.token_salt, "login", clock)
    return _message(
        settings,
        member,
        "members/login",
        f"Votre lien de connexion à « {settings.newsletter_name} »",
        {
            "name": member.name,
            "login_url": f"{settings.base_url.rstrip('/')}/connexion/{token}",
        },
    )
