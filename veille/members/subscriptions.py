"""The life of a subscription: subscribe, confirm (double opt-in), change themes, pause,
unsubscribe, download or erase one's data, and the housekeeping the GDPR asks for.

Status moves: pending → active (confirmed) ⇄ paused; any → unsubscribed; unsubscribed →
pending again only through a new subscription (a new consent). `alerts` (an address
confirmed through an alert, `veille.members.alerts`) → active by confirming a subscription;
it stays `alerts` until then, so its alerts keep coming. Nothing is ever sent to a
member who is not `active`. Every change leaves an event with when and how.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from veille.db import alerts as alert_db
from veille.db import bounces as bounce_db
from veille.db import members as member_db
from veille.db.tables import MemberRow
from veille.errors import MemberError
from veille.sources import THEME_IDS

# The consent sentence shown on the form; its version is stored with each consent, so the
# proof says what the member agreed to. Change both together.
CONSENT_WORDING = "2026-11-v1"
CONSENT_TEXT = (
    "J’accepte de recevoir la lettre de veille de l’association par e-mail, pour les thèmes "
    "choisis. Je peux me désabonner à tout moment par le lien présent dans chaque lettre."
)
PENDING_LIFETIME = timedelta(days=30)
RECONSENT_AFTER = timedelta(days=3 * 365)  # CNIL: ask again after 3 years of silence
NAME_MAX = 200


def normalise_email(raw: str) -> str:
    """The address as we store it (domain lower-cased), or MemberError in French."""
    value = (raw or "").strip()
    if not value:
        raise MemberError("Adresse e-mail manquante.")
    if len(value) > 320:
        raise MemberError("Adresse e-mail trop longue.")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise MemberError(f"Adresse e-mail invalide : {value}") from exc
    return str(checked.normalized)


def normalise_themes(chosen: Iterable[str] | None) -> list[str] | None:
    """A sorted subset of the theme ids, or None for "all themes" (nothing chosen, or
    everything chosen: a theme added later then reaches them too)."""
    if chosen is None:
        return None
    picked = {t.strip().lower() for t in chosen if t and t.strip()}
    unknown = picked - set(THEME_IDS)
    if unknown:
        raise MemberError(
            f"Thème inconnu : {', '.join(sorted(unknown))} (attendus : {', '.join(THEME_IDS)})."
        )
    if not picked or picked == set(THEME_IDS):
        return None
    return sorted(picked)


def themes_of(member: MemberRow) -> tuple[str, ...]:
    return tuple(member.themes) if member.themes else THEME_IDS


def clean_text(value: str | None, limit: int = NAME_MAX) -> str:
    return " ".join((value or "").split())[:limit]


@dataclass(frozen=True)
class SubscribeOutcome:
    member: MemberRow
    mail: str  # "confirm": the double opt-in mail; "already": they are in; "none": no mail


def _with_identity(
    session: Session,
    member: MemberRow | None,
    address: str,
    name: str,
    organisation: str,
    themes: list[str] | None,
    now: datetime,
) -> MemberRow:
    """The member (a new row when `member` is None) with the name, organisation and themes
    just given: the part a form subscription and a desk addition share."""
    if member is None:
        member = MemberRow(
            email=address,
            email_key=member_db.email_key(address),
            token_salt=member_db.new_salt(),
            created_at=now,
        )
        session.add(member)
    member.name = clean_text(name)
    member.organisation = clean_text(organisation)
    member.themes = themes
    member.updated_at = now
    return member


def subscribe(
    session: Session,
    *,
    email: str,
    name: str,
    organisation: str,
    themes: Iterable[str] | None,
    now: datetime,
    ip: str | None = None,
) -> SubscribeOutcome:
    """The public form. The caller answers the same thing whatever the outcome (no account
    enumeration); the outcome only decides which mail goes out."""
    address = normalise_email(email)
    chosen = normalise_themes(themes)
    member = member_db.by_email(session, address)
    if member is not None and member.status in ("active", "paused"):
        member_db.add_event(session, member, "subscribe_again", now, {"ip": ip})
        return SubscribeOutcome(member, "already")
    member = _with_identity(session, member, address, name, organisation, chosen, now)
    if member.status != "alerts":  # its alerts keep coming until it confirms
        member.status = "pending"
    member.consent_ip = ip
    session.flush()
    member_db.add_event(
        session, member, "subscribe", now, {"method": "form", "ip": ip, "themes": chosen}
    )
    return SubscribeOutcome(member, "confirm")


def confirm(session: Session, member: MemberRow, now: datetime, ip: str | None = None) -> bool:
    """Double opt-in: the click on the mailed link is the consent. True when it changed
    something (a second click is harmless)."""
    if member.status not in ("pending", "alerts"):
        return False
    member.status = "active"
    member.confirmed_at = member.consent_at = now
    member.consent_method = "form"
    member.consent_wording = CONSENT_WORDING
    member.consent_ip = ip or member.consent_ip
    touch(member, now)
    member_db.add_event(session, member, "confirm", now, {"ip": ip, "wording": CONSENT_WORDING})
    return True


def touch(member: MemberRow, now: datetime) -> None:
    """A sign of life from the member: an action (a POST, a confirmation), never the mere
    opening of a link (mail scanners open links). It answers a re-consent request too."""
    member.last_activity_at = now
    member.updated_at = now
    member.reconsent_asked_at = None


def set_themes(
    session: Session, member: MemberRow, themes: Iterable[str] | None, now: datetime
) -> None:
    member.themes = normalise_themes(themes)
    touch(member, now)
    member_db.add_event(session, member, "themes", now, {"themes": member.themes})


def pause(session: Session, member: MemberRow, now: datetime, by: str = "member") -> None:
    if member.status == "active":
        member.status = "paused"
        member.updated_at = now
        member_db.add_event(session, member, "pause", now, {"by": by})


def resume(session: Session, member: MemberRow, now: datetime, by: str = "member") -> None:
    if member.status == "paused":
        member.status = "active"
        member.updated_at = now
        member_db.add_event(session, member, "resume", now, {"by": by})


def unsubscribe(
    session: Session, member: MemberRow, now: datetime, how: str, by: str | None = None
) -> bool:
    """Takes effect at once; True when the member was still subscribed."""
    if member.status == "unsubscribed":
        return False
    member.status = "unsubscribed"
    member.unsubscribed_at = member.updated_at = now
    detail = {"how": how} if by is None else {"how": how, "by": by}
    member_db.add_event(session, member, "unsubscribe", now, detail)
    return True


def update_identity(
    session: Session,
    member: MemberRow,
    *,
    name: str,
    organisation: str,
    themes: Iterable[str] | None,
    now: datetime,
    by: str,
) -> list[str]:
    """A desk edit of name, organisation and themes; returns the fields that changed.

    Unlike `set_themes`, this is not a sign of life from the member (the delegate acted), so
    `last_activity_at` stays as it was and re-consent is still asked when it is due.
    """
    chosen = normalise_themes(themes)  # raises before anything changes
    changes = {
        "name": clean_text(name),
        "organisation": clean_text(organisation),
        "themes": chosen,
    }
    changed = [field for field, value in changes.items() if getattr(member, field) != value]
    if not changed:
        return []
    for field in changed:
        setattr(member, field, changes[field])
    member.updated_at = now
    member_db.add_event(
        session, member, "edit", now, {"by": by, "fields": changed, "themes": member.themes}
    )
    return changed


def add_by_hand(
    session: Session,
    *,
    email: str,
    name: str,
    organisation: str,
    themes: Iterable[str] | None,
    now: datetime,
    by: str,
    require_confirmation: bool,
) -> SubscribeOutcome:
    """A member the delegate adds on the desk.

    Without confirmation the delegate vouches for the consent (method `desk`) and the member
    is active at once; with it, the member is pending and gets the double opt-in mail
    (outcome `confirm`). Someone who unsubscribed is never made active again by hand: only a
    confirmation, their own new consent, can bring them back. An address already active or
    paused is refused, so the desk sees the existing member instead of a silent overwrite.
    """
    address = normalise_email(email)
    chosen = normalise_themes(themes)
    member = member_db.by_email(session, address)
    if member is not None and member.status in ("active", "paused"):
        raise MemberError(f"L’adresse {address} est déjà inscrite.")
    if member is not None and member.status == "complained" and not require_confirmation:
        raise MemberError(
            f"L’adresse {address} a signalé la lettre comme indésirable : cochez « demander "
            "une confirmation » pour lui proposer de se réabonner."
        )
    if member is not None and member.status == "unsubscribed" and not require_confirmation:
        raise MemberError(
            f"L’adresse {address} s’est désabonnée : cochez « demander une confirmation » "
            "pour lui proposer de se réabonner."
        )
    member = _with_identity(session, member, address, name, organisation, chosen, now)
    if require_confirmation:
        member.status = "pending"
        member.consent_ip = None
    else:
        member.status = "active"
        member.consent_at = now
        member.consent_method = "desk"
        member.consent_wording = CONSENT_WORDING
        member.consent_ip = None
    session.flush()
    member_db.add_event(
        session,
        member,
        "subscribe",
        now,
        {"method": "desk", "by": by, "confirmation": require_confirmation, "themes": chosen},
    )
    return SubscribeOutcome(member, "confirm" if require_confirmation else "none")


def erase(session: Session, member: MemberRow) -> None:
    """Right to erasure: the row and its trail go; old links stop working with it."""
    member_db.delete_member(session, member)


def needs_reconsent(member: MemberRow, now: datetime) -> bool:
    if member.status not in ("active", "paused", "alerts"):
        return False
    last = member.last_activity_at or member.consent_at or member.created_at
    return last is not None and now - last > RECONSENT_AFTER


def purge_unconfirmed(session: Session, now: datetime) -> int:
    """Pending subscriptions never confirmed within 30 days are deleted (data minimisation)."""
    return member_db.purge_pending(session, now - PENDING_LIFETIME)


def export_record(member: MemberRow, now: datetime) -> dict[str, Any]:
    """One member as plain data: the columns of `veille members export`."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "email": member.email,
        "name": member.name,
        "organisation": member.organisation,
        "status": member.status,
        "themes": list(themes_of(member)),
        "all_themes": member.themes is None,
        "consent_at": iso(member.consent_at),
        "consent_method": member.consent_method,
        "consent_wording": member.consent_wording,
        "consent_ip": member.consent_ip,
        "created_at": iso(member.created_at),
        "confirmed_at": iso(member.confirmed_at),
        "unsubscribed_at": iso(member.unsubscribed_at),
        "last_activity_at": iso(member.last_activity_at),
        "needs_reconsent": needs_reconsent(member, now),
    }


def personal_data(session: Session, member: MemberRow, now: datetime) -> dict[str, Any]:
    """Everything we hold on a member (GDPR access/portability), as JSON-ready data."""
    record = export_record(member, now)
    record["consent_text"] = CONSENT_TEXT if member.consent_wording == CONSENT_WORDING else None
    record["events"] = [
        {"at": e.at.isoformat(), "kind": e.kind, "detail": e.detail}
        for e in member_db.events_of(session, member.id)
    ]
    record["bounces"] = [  # mails of ours that came back, and complaints (veille.bounces)
        {
            "received_at": b.received_at.isoformat(),
            "kind": b.kind,
            "source": b.source,
            "status_code": b.status_code,
            "diagnostic": b.diagnostic,
        }
        for b in bounce_db.of_member(session, member.id)
    ]
    from veille.members.alerts import alert_record  # alerts builds on this module

    record["alerts"] = [alert_record(a) for a in alert_db.of_member(session, member.id)]
    return record
