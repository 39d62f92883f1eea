"""The life of an alert: a member's saved archive filter, mailed with what is new.

An alert is asked for with an address, like a subscription, and works only once that
address confirmed it by clicking the link mailed to it (double opt-in, the same signed
tokens and rate limits as the subscription's). An address nobody knows becomes a
`pending` member (erased after 30 days without confirmation, like any); confirming an
alert makes such a member `alerts`: their address is proven and they get their alerts,
never the newsletter, which they did not ask for. An existing member confirms each new
alert by mail too, so nobody can have mail sent to an address that did not ask for it.

The filter arrives here already in its canonical form (`veille.archive.alert_filter`
owns the parsing: one parser for the archive, its feeds and its alerts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from veille.db import alerts as alert_db
from veille.db import members as member_db
from veille.db.alerts import AlertRow
from veille.db.tables import MemberRow
from veille.errors import MemberError
from veille.members.subscriptions import clean_text, normalise_email, touch

FREQUENCIES = {"weekly": "hebdomadaire", "daily": "quotidienne"}
NAME_MAX = 120
PER_MEMBER = 20  # more alerts than anyone reads; beyond, a form is being abused
PENDING_LIFETIME = timedelta(days=30)
# The sentence the alert form shows; kept in the confirmation event as the consent proof.
CONSENT_TEXT = (
    "J’accepte de recevoir par e-mail les nouveaux articles de cette recherche, à la "
    "fréquence choisie. Chaque message contient un lien pour arrêter l’alerte en un clic."
)
# Statuses an alert's confirmation turns into `alerts`: the click proves the address and
# is a new, explicit consent — to the alert only.
BECOME_ALERTS = ("pending", "unsubscribed", "bounced", "complained")


@dataclass(frozen=True)
class AlertOutcome:
    alert: AlertRow | None
    member: MemberRow
    mail: str  # "confirm": the alert's double opt-in mail; "none": nothing to send


def check_frequency(value: str) -> str:
    if value not in FREQUENCIES:
        raise MemberError("Fréquence inconnue : choisissez « hebdomadaire » ou « quotidienne ».")
    return value


def check_name(value: str) -> str:
    name = clean_text(value, NAME_MAX)
    if not name:
        raise MemberError("Donnez un nom à l’alerte.")
    return name


def request_alert(
    session: Session,
    *,
    email: str,
    name: str,
    filter_qs: str,
    frequency: str,
    now: datetime,
    ip: str | None = None,
) -> AlertOutcome:
    """The public form. The caller answers the same thing whatever the outcome (no account
    enumeration); the outcome only decides whether a confirmation mail goes out."""
    address = normalise_email(email)
    check_frequency(frequency)
    label = check_name(name)
    member = member_db.by_email(session, address)
    if member is None:
        member = MemberRow(
            email=address,
            email_key=member_db.email_key(address),
            token_salt=member_db.new_salt(),
            status="pending",
            themes=None,
            created_at=now,
            updated_at=now,
            consent_ip=ip,
        )
        session.add(member)
        session.flush()
    alerts = alert_db.of_member(session, member.id)
    same = next((a for a in alerts if a.filter == filter_qs), None)
    if same is not None:  # asked again: the confirmation again if it is still missing
        return AlertOutcome(same, member, "none" if same.confirmed_at else "confirm")
    if len(alerts) >= PER_MEMBER:
        member_db.add_event(session, member, "alert_refused", now, {"ip": ip, "reason": "limit"})
        return AlertOutcome(None, member, "none")
    alert = AlertRow(
        member_id=member.id,
        name=label,
        filter=filter_qs,
        frequency=frequency,
        token_salt=member_db.new_salt(),
        created_at=now,
        # From now on: the first mail brings what is collected after the request.
        last_article_id=alert_db.latest_article_id(session),
        sent_count=0,
    )
    session.add(alert)
    session.flush()
    member_db.add_event(
        session,
        member,
        "alert_create",
        now,
        {"alert": alert.id, "name": label, "filter": filter_qs, "frequency": frequency, "ip": ip},
    )
    return AlertOutcome(alert, member, "confirm")


def confirm_alert(
    session: Session, alert: AlertRow, member: MemberRow, now: datetime, ip: str | None = None
) -> bool:
    """The click on the mailed link: the alert runs from now on, and an address known only
    through alerts becomes `alerts`. True when it changed something."""
    if alert.confirmed_at is not None:
        return False
    alert.confirmed_at = now
    alert.last_run_at = now  # its first mail comes at the start of its next period
    if member.status in BECOME_ALERTS:
        member.status = "alerts"
        member.confirmed_at = now
    touch(member, now)
    member_db.add_event(
        session,
        member,
        "alert_confirm",
        now,
        {"alert": alert.id, "ip": ip, "consent": CONSENT_TEXT, "status": member.status},
    )
    return True


def change_alert(
    session: Session, alert: AlertRow, member: MemberRow, action: str, now: datetime, **values: str
) -> None:
    """pause | resume | frequency | delete, from the member's preferences page."""
    if action == "pause":
        alert.paused_at = alert.paused_at or now
    elif action == "resume":
        alert.paused_at = None
    elif action == "frequency":
        alert.frequency = check_frequency(values.get("frequency", ""))
    elif action == "delete":
        session.delete(alert)
    else:
        raise MemberError("Action inconnue.")
    touch(member, now)
    kind = "alert_delete" if action == "delete" else "alert_change"
    member_db.add_event(
        session, member, kind, now, {"alert": alert.id, "name": alert.name, "action": action}
    )


def unsubscribe_alert(session: Session, alert: AlertRow, member: MemberRow, now: datetime) -> None:
    """RFC 8058 one-click, or the button of the mailed link: that alert stops and goes
    (the member's other alerts and subscription are untouched)."""
    member_db.add_event(
        session, member, "alert_unsubscribe", now, {"alert": alert.id, "name": alert.name}
    )
    session.delete(alert)


def purge_unconfirmed(session: Session, now: datetime) -> int:
    """Alerts never confirmed within 30 days are deleted (their link expired long ago)."""
    return alert_db.purge_unconfirmed(session, now - PENDING_LIFETIME)


def alert_record(alert: AlertRow) -> dict[str, Any]:
    """One alert as plain data, for the member's data download and the members' export."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "name": alert.name,
        "filter": alert.filter,
        "frequency": alert.frequency,
        "created_at": iso(alert.created_at),
        "confirmed_at": iso(alert.confirmed_at),
        "paused": alert.paused_at is not None,
        "last_sent_at": iso(alert.last_sent_at),
        "sent_count": alert.sent_count,
    }


def alert_summary(alert: AlertRow) -> str:
    """One alert in one CSV cell: name, frequency, state and filter."""
    state = "suspendue" if alert.paused_at else "active" if alert.confirmed_at else "à confirmer"
    return f"{alert.name} ({FREQUENCIES[alert.frequency]}, {state}) : {alert.filter or '-'}"
