"""The mails of the subscription flow (double opt-in, "you are already subscribed") and the
signed links every member mail carries."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage

from sqlalchemy.orm import Session, sessionmaker

from veille.config import Settings
from veille.db import members as member_db
from veille.db.alerts import AlertRow
from veille.db.engine import transaction
from veille.db.tables import MemberRow
from veille.errors import MailError
from veille.mail.message import as_address, build_message
from veille.mail.render import render_mail
from veille.mail.sender import make_sender
from veille.members.alerts import FREQUENCIES
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


@dataclass(frozen=True)
class AlertLinks:
    confirm: str
    unsubscribe: str  # stops that alert only (RFC 8058 one-click)


def alert_links(
    settings: Settings, alert: AlertRow, clock: Callable[[], datetime] = _now
) -> AlertLinks:
    """An alert's own signed links: they name the alert and its salt, so deleting the
    alert (or erasing its member, which deletes it) kills them."""
    base = settings.base_url.rstrip("/")
    secret = settings.secret_key
    confirm = make_token(secret, alert.id, alert.token_salt, "alert_confirm", clock)
    stop = make_token(secret, alert.id, alert.token_salt, "alert", clock)
    return AlertLinks(
        confirm=f"{base}/alertes/confirmer/{confirm}",
        unsubscribe=f"{base}/alertes/arreter/{stop}",
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
        f"Confirmez votre inscription à « {settings.newsletter_name} »",
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
        f"Votre abonnement à « {settings.newsletter_name} »",
        {"name": member.name, "preferences_url": links.preferences},
    )


def reconsent_message(
    settings: Settings,
    member: MemberRow,
    erase_on: str,
    clock: Callable[[], datetime] = _now,
) -> EmailMessage:
    """The one mail of the 3-year rule: its link opens the preferences page, whose
    « Garder mon abonnement » button (a POST) keeps the member; opening it does not."""
    links = links_for(settings, member, clock)
    return _message(
        settings,
        member,
        "members/reconsent",
        f"Souhaitez-vous continuer à recevoir « {settings.newsletter_name} » ?",
        {"name": member.name, "keep_url": links.preferences, "erase_on": erase_on},
    )


def alert_confirmation_message(
    settings: Settings,
    member: MemberRow,
    alert: AlertRow,
    clock: Callable[[], datetime] = _now,
) -> EmailMessage:
    """The double opt-in of one alert: its link confirms that alert and nothing else."""
    return _message(
        settings,
        member,
        "members/alert_confirm",
        f"Confirmez votre alerte « {alert.name} »",
        {
            "name": member.name,
            "alert_name": alert.name,
            "frequency": FREQUENCIES[alert.frequency],
            "confirm_url": alert_links(settings, alert, clock).confirm,
        },
    )


def login_message(
    settings: Settings, member: MemberRow, clock: Callable[[], datetime] = _now
) -> EmailMessage:
    token = make_token(settings.secret_key, member.id, member.token_salt, "login", clock)
    return _message(
        settings,
        member,
        "members/login",
        f"Votre lien de connexion à « {settings.newsletter_name} »",
        {
            "name": member.name,
            "login_url": f"{settings.base_url.rstrip('/')}/connexion/{token}",
        },
    )


@dataclass
class ConfirmationRun:
    sent: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (address, error)


def send_confirmations(
    settings: Settings,
    sessions: sessionmaker[Session],
    member_ids: Sequence[int],
    theme_labels: Mapping[str, str],
    clock: Callable[[], datetime] = _now,
) -> ConfirmationRun:
    """The double opt-in mails of an import (CLI or desk), over one SMTP connection at the
    configured rate. Members no longer pending are skipped; a refused mail is kept in that
    member's trail and counted, the others still go."""
    run = ConfirmationRun()
    with make_sender(settings, rate=settings.send_rate) as sender:
        for member_id in member_ids:
            with transaction(sessions) as session:
                member = member_db.by_id(session, member_id)
                if member is None or member.status != "pending":
                    continue
                try:
                    sender.send(confirmation_message(settings, member, theme_labels, clock))
                    run.sent += 1
                except MailError as exc:
                    run.failures.append((member.email, str(exc)))
                    member_db.add_event(
                        session, member, "mail_failed", clock(), {"error": str(exc)[:300]}
                    )
    return run
