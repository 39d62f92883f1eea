"""One reading of the bounce mailbox: every new message is read (`veille.mail.reports`),
applied to its member (`veille.members.bounces`) in its own transaction, then marked done
on the server — in that order, so a crash in between reads the message again, and the
duplicate check makes the second reading harmless.

A message we cannot use (not a report, a forged or foreign token, too large, malformed)
is counted by reason and left in the mailbox, marked so it is not read again. A database
error on one message leaves it untouched for the next run and does not stop the others.
"""

from __future__ import annotations

import logging
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from veille.config import Settings
from veille.db.engine import transaction
from veille.mail import imapbox
from veille.mail.reports import MAX_BYTES, NotAReport, Report, read_report
from veille.members.bounces import record, unsubscribe_by_mail

log = logging.getLogger(__name__)
PER_RUN = 500  # a backlog is worked off over several runs, each of them short


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class MailboxRun:
    """What one reading did: applied events by kind, and messages left, by reason."""

    read: int = 0
    applied: Counter[str] = field(default_factory=Counter)  # hard, soft, complaint, ...
    left: Counter[str] = field(default_factory=Counter)  # reason → messages left

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "applied": dict(self.applied), "left": dict(self.left)}


def check_bounce_mailbox(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Callable[[], datetime] = _utcnow,
    ssl_context: ssl.SSLContext | None = None,
    limit: int = PER_RUN,
) -> MailboxRun:
    """Read `VEILLE_BOUNCE_IMAP_URL` once; see the module docstring."""
    box = imapbox.parse_imap_url(settings.bounce_imap_url)
    run = MailboxRun()
    conn = imapbox.connect(box, ssl_context)
    try:
        imapbox.ensure_mailbox(conn, settings.bounce_processed_mailbox)
        for fetched in imapbox.new_messages(conn, MAX_BYTES, limit):
            run.read += 1
            if fetched.raw is None:
                run.left["too large"] += 1
                imapbox.mark_ignored(conn, fetched.uid)
                continue
            try:
                report = read_report(fetched.raw, settings)
            except NotAReport as exc:
                run.left[str(exc)] += 1
                imapbox.mark_ignored(conn, fetched.uid)
                continue
            except Exception:  # a parser bug on a hostile mail: leave it, go on
                log.exception("bounce message %s could not be read", fetched.uid)
                run.left["unreadable"] += 1
                imapbox.mark_ignored(conn, fetched.uid)
                continue
            try:
                outcome = _apply(sessions, report, clock())
            except Exception:  # the database, not the message: try again next run
                log.exception("bounce message %s could not be applied", fetched.uid)
                run.left["error"] += 1
                continue
            run.applied[outcome] += 1
            imapbox.mark_done(conn, fetched.uid, settings.bounce_processed_mailbox)
    finally:
        imapbox.finish(conn)
    return run


def _apply(sessions: sessionmaker[Session], report: Report, now: datetime) -> str:
    token = report.token
    with transaction(sessions) as session:
        if report.action == "unsubscribe" or report.bounce is None:
            changed = unsubscribe_by_mail(session, token.member_id, now)
            return "unsubscribe" if changed else "unsubscribe (already)"
        outcome = record(
            session, token.edition_number, token.member_id, report.bounce, now, report.key
        )
        return report.bounce.kind if outcome == "recorded" else outcome
