"""The 3-year rule (CNIL guidance on prospecting): a member who gave no sign of life for
three years gets ONE mail asking whether they still want the letter; without an answer
within 30 days, they are erased exactly as the GDPR erasure does.

A sign of life is an action, never the opening of a link (mail scanners open links): a POST
on the preferences page (themes, pause, resume, « Garder mon abonnement »), a confirmation.
`subscriptions.touch` records it and clears `reconsent_asked_at`, so a member who acts
during the 30 days is kept and asked again only after three more silent years.

The mail is sent before `reconsent_asked_at` is committed: a crash in between sends it again
the next day (a second mail is better than an erasure nobody was told about); a refused
mail leaves the member unasked, so they are tried again the next day, never erased unasked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from veille.config import Settings
from veille.db import members as member_db
from veille.db import retention as retention_db
from veille.db.engine import transaction
from veille.db.scrub import checkpoint_sessions
from veille.db.tables import MemberRow
from veille.errors import MailError
from veille.frenchformat import full_date, short_date
from veille.mail.sender import Sender, make_sender
from veille.members import mails, subscriptions

log = logging.getLogger(__name__)

ANSWER_WITHIN = timedelta(days=30)


@dataclass(frozen=True)
class ReconsentState:
    """Where a member stands with the 3-year rule (the desk and the CLI show it)."""

    due: bool  # silent for 3 years, the mail not sent yet
    asked_at: datetime | None
    erase_at: datetime | None


def state_of(member: MemberRow, now: datetime) -> ReconsentState:
    asked = member.reconsent_asked_at
    if asked is not None and member.status in retention_db.SUBSCRIBED:
        return ReconsentState(due=False, asked_at=asked, erase_at=asked + ANSWER_WITHIN)
    due = subscriptions.needs_reconsent(member, now)
    return ReconsentState(due=due, asked_at=None, erase_at=None)


def describe(state: ReconsentState) -> str:
    """The state in the delegate's words (desk and CLI), empty when nothing is pending."""
    if state.asked_at is not None and state.erase_at is not None:
        return (
            f"relancé le {short_date(state.asked_at)}, "
            f"effacé le {short_date(state.erase_at)} sans réponse"
        )
    return "à relancer" if state.due else ""


def reconsent_fields(member: MemberRow, now: datetime) -> dict[str, str | None]:
    """What `veille members list` adds to each member: the state, in French, and its dates."""
    state = state_of(member, now)
    return {
        "reconsent": describe(state),
        "reconsent_asked_at": state.asked_at.isoformat() if state.asked_at else None,
        "erase_at": state.erase_at.isoformat() if state.erase_at else None,
    }


def keep(session: Session, member: MemberRow, now: datetime) -> bool:
    """« Garder mon abonnement »: the member answers; True when they had been asked."""
    asked = member.reconsent_asked_at is not None
    subscriptions.touch(member, now)
    member_db.add_event(session, member, "reconsent_kept", now, {"asked": asked})
    return asked


@dataclass
class ReconsentRun:
    asked: int = 0
    erased: int = 0
    failures: list[int] = field(default_factory=list)  # member ids whose mail was refused

    def as_dict(self) -> dict[str, int]:
        return {"asked": self.asked, "erased": self.erased, "failed": len(self.failures)}


def run(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    *,
    sender_factory: Callable[..., Sender] = make_sender,
) -> ReconsentRun:
    """One daily pass: erase who did not answer in 30 days, then ask who became due."""
    outcome = ReconsentRun(erased=erase_unanswered(sessions, now))
    with sessions() as session:
        due = retention_db.to_ask(session, now - subscriptions.RECONSENT_AFTER)
    if not due:
        return outcome
    erase_on = full_date(now + ANSWER_WITHIN)
    with sender_factory(settings, rate=settings.send_rate) as sender:
        for member_id in due:
            with transaction(sessions) as session:
                member = member_db.by_id(session, member_id)
                if member is None or member.reconsent_asked_at is not None:
                    continue
                try:
                    sender.send(mails.reconsent_message(settings, member, erase_on, lambda: now))
                except MailError as exc:
                    outcome.failures.append(member_id)
                    member_db.add_event(
                        session, member, "mail_failed", now, {"error": str(exc)[:300]}
                    )
                    continue
                member.reconsent_asked_at = now
                member_db.add_event(session, member, "reconsent_asked", now, {})
                outcome.asked += 1
    return outcome


def erase_unanswered(sessions: sessionmaker[Session], now: datetime) -> int:
    """Erase (as the GDPR erasure does) the members asked 30+ days ago who did not answer;
    one audit row without personal data says how many, then the WAL is emptied."""
    with transaction(sessions) as session:
        ids = retention_db.to_erase(session, now - ANSWER_WITHIN)
        for member_id in ids:
            member = member_db.by_id(session, member_id)
            if member is not None:
                subscriptions.erase(session, member)
        if ids:
            retention_db.audit_erasure(session, now, len(ids))
    if ids:
        checkpoint_sessions(sessions)
        log.info("erased %d members who did not answer the re-consent mail", len(ids))
    return len(ids)
