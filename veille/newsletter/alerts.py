"""Mail each confirmed alert the stories that are new for its filter, exactly once per
alert and period.

A period starts at `VEILLE_ALERTS_HOUR` (Paris time) every day for daily alerts, on
`VEILLE_EDITION_DAY` for weekly ones. An alert is due when its last run is older than the
start of its current period; a run mails the matches stored after the alert's watermark
(`alerts.last_article_id`) and up to the archive's newest article, then commits the new
watermark and `last_run_at` together, right after the SMTP server's 250 — the newsletter's
rule (`veille.newsletter.send`): nothing is marked done before the server took the mail,
and once marked, a later run of the same period does nothing. A crash between the 250 and
the commit (microseconds) mails that alert again at the next tick, under the same
Message-ID (alert × period), so the copy is recognisable. Nothing matched: no mail, but
the watermark and the run are recorded all the same.

One run at a time: the run holds the alerts' send lock (`send_lock.alerts_send_lock`,
released by the system if the process dies). Messages are the newsletter's own
(`message.edition_message`: one-click `List-Unsubscribe` headers, DKIM), returned through
VERP like it (edition number 0: « an alert »), so a refusal makes the member `bounced`
by the same rules. Suspended, bounced, complained and unsubscribed members get nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from veille import frenchformat
from veille.archive.alert_filter import new_matches, parse_filter
from veille.archive.query import QueryError
from veille.archive.search import ArticleHit
from veille.config import Settings
from veille.db import alerts as alert_db
from veille.db import members as member_db
from veille.db.alerts import AlertRow
from veille.db.engine import transaction
from veille.db.tables import MemberRow
from veille.errors import PermanentMailError, TemporaryMailError
from veille.frenchformat import PARIS
from veille.mail.render import render_mail
from veille.mail.sender import Sender, make_sender
from veille.mail.verp import bounce_address
from veille.members.alerts import FREQUENCIES
from veille.members.bounces import ALERT_MAILS, refused_by_address
from veille.members.mails import alert_links, links_for
from veille.newsletter.editions import weekly_slot
from veille.newsletter.message import (
    edition_message,
    message_bytes,
    sign_message,
    signed_message_id,
)
from veille.newsletter.render import plain, web_url
from veille.newsletter.send_lock import alerts_send_lock

log = logging.getLogger(__name__)
MAX_ENTRIES = 30  # a mail, not an archive page: beyond, a link to the archive

SenderFactory = Callable[..., Sender]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class AlertRun:
    """What a run did: alerts due, mails sent, due alerts with nothing new, refused."""

    due: int = 0
    sent: int = 0
    empty: int = 0
    failed: int = 0
    outcome: str = "done"  # done | busy | interrupted
    reason: str = ""
    mailed: list[int] = field(default_factory=list)  # alert ids, for logs and tests

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def period_start(now: datetime, frequency: str, settings: Settings) -> datetime:
    """The start of the alert's current period: today's (or yesterday's) alerts hour for a
    daily alert, the latest edition day at that hour for a weekly one."""
    at = f"{settings.alerts_hour:02d}:00"
    if frequency == "weekly":
        return weekly_slot(now, settings.edition_day, at)
    local = now.astimezone(PARIS)
    slot = local.replace(hour=settings.alerts_hour, minute=0, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    return slot.replace(tzinfo=None).replace(tzinfo=PARIS)  # exact across a DST change


def archive_url(settings: Settings, filter_qs: str) -> str:
    return settings.base_url.rstrip("/") + ("/?" + filter_qs if filter_qs else "/")


def _entry(hit: ArticleHit) -> dict[str, str]:
    """A card of the mail: collected text is plain text (markup dropped), escaped later."""
    return {
        "title": plain(hit.title) or "(sans titre)",
        "url": web_url(hit.url),
        "source": plain(hit.source_name),
        "date": frenchformat.day_date(hit.published_at),
        "summary": plain(hit.summary)[:400],
    }


def alert_message(
    settings: Settings,
    alert: AlertRow,
    member: MemberRow,
    found: list[ArticleHit],
    more: bool,
    slot: datetime,
    clock: Callable[[], datetime] = _utcnow,
) -> EmailMessage:
    """The alert's mail (text + HTML, the newsletter's look), not yet signed."""
    links = alert_links(settings, alert, clock)
    count = len(found)
    noun = "nouvel article" if count == 1 else "nouveaux articles"
    subject = f"Alerte « {alert.name} » : {'plus de ' if more else ''}{count} {noun}"
    entries = [_entry(hit) for hit in found]
    mail = render_mail(
        "alert",
        {
            "subject": subject,
            "brand": settings.newsletter_name,
            "name": member.name,
            "alert_name": alert.name,
            "frequency": FREQUENCIES[alert.frequency],
            "entries": entries,
            "more": more,
            "archive_url": archive_url(settings, alert.filter),
            "unsubscribe_url": links.unsubscribe,
            "preferences_url": links_for(settings, member, clock).preferences,
        },
    )
    period = f"alert-{alert.id}.{slot.astimezone(UTC):%Y%m%d%H}"
    return edition_message(
        settings,
        mail,
        member.email,
        member.name,
        ALERT_MAILS,
        member.id,
        links,
        subject=subject,
        now=clock(),
        # One id per alert and period: a resend after a crash is recognisable.
        message_id=signed_message_id(settings, period),
        unsubscribe_mailto=False,
    )


def _mark_run(
    sessions: sessionmaker[Session], alert_id: int, upto: int | None, now: datetime, sent: bool
) -> None:
    """The run of this period is done: watermark and time in one commit (the alert may
    have been deleted meanwhile: then there is nothing to mark)."""
    with transaction(sessions) as session:
        alert = alert_db.by_id(session, alert_id)
        if alert is None:
            return
        if upto is not None:
            alert.last_article_id = max(alert.last_article_id, upto)
        alert.last_run_at = now
        if sent:
            alert.last_sent_at = now
            alert.sent_count += 1


def _run_one(
    sessions: sessionmaker[Session],
    settings: Settings,
    sender: Sender,
    alert_id: int,
    slot: datetime,
    run: AlertRun,
    clock: Callable[[], datetime],
) -> None:
    now = clock()
    with sessions() as session:
        alert = alert_db.by_id(session, alert_id)
        member = member_db.by_id(session, alert.member_id) if alert else None
        if alert is None or member is None or member.status not in alert_db.RECEIVING:
            return  # deleted, or the member stopped receiving mail since the list was read
        try:
            query = parse_filter(alert.filter, today=now.astimezone(PARIS).date())
        except QueryError as exc:  # a theme or source gone from feeds.yaml since
            log.warning("alert %d: its filter no longer reads (%s); skipped", alert_id, exc)
            run.failed += 1
            _mark_run(sessions, alert_id, None, now, sent=False)
            return
        upto = alert_db.latest_article_id(session)
        found = new_matches(
            session, query, after_id=alert.last_article_id, upto_id=upto, limit=MAX_ENTRIES + 1
        )
        more = len(found) > MAX_ENTRIES
        found = found[:MAX_ENTRIES]
        if not found:
            run.empty += 1
            _mark_run(sessions, alert_id, upto, now, sent=False)
            return
        try:
            message = sign_message(
                alert_message(settings, alert, member, found, more, slot, clock), settings
            )
        except ValueError as exc:  # an address the mail library cannot write
            log.warning("alert %d: cannot build its mail (%s); skipped", alert_id, exc)
            run.failed += 1
            _mark_run(sessions, alert_id, None, now, sent=False)
            return
        email, member_id = member.email, member.id
    try:
        sender.send(
            message,
            message_bytes(message),
            mail_from=bounce_address(settings, ALERT_MAILS, member_id),
        )
    except PermanentMailError as exc:
        run.failed += 1
        with transaction(sessions) as session:  # a 5xx for this address: the bounce rules
            refused_by_address(session, member_id, None, email, exc, clock())
        _mark_run(sessions, alert_id, None, now, sent=False)  # its articles wait for next time
        return
    _mark_run(sessions, alert_id, upto, now, sent=True)
    run.sent += 1
    run.mailed.append(alert_id)


def run_alerts(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    clock: Callable[[], datetime] = _utcnow,
    sender_factory: SenderFactory = make_sender,
) -> AlertRun:
    """Mail every due alert (see the module docstring); safe to call at every tick."""
    run = AlertRun()
    now = clock()
    with alerts_send_lock(sessions) as acquired:
        if not acquired:
            return AlertRun(outcome="busy", reason="another run is mailing the alerts")
        due: list[tuple[int, datetime]] = []
        with sessions() as session:
            for frequency in FREQUENCIES:
                slot = period_start(now, frequency, settings)
                due += [
                    (alert_id, slot)
                    for alert_id, last in alert_db.sendable(session, frequency)
                    if last is None or last < slot
                ]
        run.due = len(due)
        if not due:
            return run
        rate = settings.send_rate if settings.send_rate > 0 else None
        with sender_factory(settings, rate=rate) as sender:
            for alert_id, slot in due:
                try:
                    _run_one(sessions, settings, sender, alert_id, slot, run, clock)
                except TemporaryMailError as exc:  # the server is away: the next tick resumes
                    run.outcome, run.reason = "interrupted", str(exc)
                    break
    return run
