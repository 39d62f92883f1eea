"""The bounce mailbox end to end, against a real Dovecot (tests/imap_server.py) and the
real aiosmtpd server: a send, the reports appended over IMAP, the job, and the result."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.imap_server import ImapTestServer, imap, imap_server  # noqa: F401 (fixtures)
from tests.smtp_server import Received, SmtpTestServer
from tests.test_newsletter_send import (
    LABELS,
    NOW,
    add_edition,
    add_member,
    by_recipient,
    fast_sender,
    send,
)
from veille import scheduler
from veille.config import Settings
from veille.db.tables import MemberRow
from veille.mail.imapbox import IGNORED
from veille.mail.reports import MAX_BYTES
from veille.members.bounce_mailbox import check_bounce_mailbox
from veille.newsletter.deliveries import edition_status
from veille.newsletter.send import send_edition

DATA = Path(__file__).parent / "data" / "bounces"
LATER = NOW + timedelta(days=1)


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def box_settings(settings: Settings, smtp: SmtpTestServer, imap: ImapTestServer) -> Settings:  # noqa: F811
    return settings.model_copy(
        update={
            "smtp_url": smtp.url,
            "send_rate": 0.0,
            "mail_from": "veille@exemple.fr",
            "bounce_imap_url": imap.url,
        }
    )


def report_for(name: str, received: Received) -> bytes:
    """A mail of tests/data/bounces about the message the SMTP server received: its real
    envelope sender and its real List-Unsubscribe mailto, as a remote system would quote."""
    mailto = str(received.message["List-Unsubscribe"]).split("<mailto:")[1].split("?")[0]
    return (
        (DATA / name)
        .read_bytes()
        .replace(b"BOUNCE_ADDRESS", received.mail_from.encode())
        .replace(b"UNSUBSCRIBE_ADDRESS", mailto.encode())
        .replace(b"MEMBER_ADDRESS", received.rcpt_tos[0].encode())
    )


def received_by(smtp: SmtpTestServer) -> dict[str, Received]:
    return {r.rcpt_tos[0]: r for r in smtp.messages}


def statuses(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        return {m.email: m.status for m in session.query(MemberRow)}


def test_send_then_a_dsn_and_an_arf_stop_mailing_those_two(
    sessions: sessionmaker[Session],
    box_settings: Settings,
    smtp: SmtpTestServer,
    imap: ImapTestServer,  # noqa: F811
) -> None:
    emails = ["un@exemple.org", "deux@exemple.org", "trois@exemple.org"]
    with sessions.begin() as session:
        for email in emails:
            add_member(session, email)
        add_edition(session, {"ia": 2})
    assert send(sessions, box_settings).sent == 3
    mails = received_by(smtp)
    for email, received in mails.items():
        # VERP: each mail's envelope sender is its own bounces+TOKEN@ address.
        assert received.mail_from.startswith("bounces+e1m") and received.mail_from.endswith(
            "@exemple.fr"
        )
        assert received.mail_from != "veille@exemple.fr", email
    assert len({r.mail_from for r in mails.values()}) == 3

    imap.append(report_for("postfix-dsn.eml", mails["deux@exemple.org"]))
    imap.append(report_for("arf-abuse.eml", mails["trois@exemple.org"]))
    imap.append(report_for("not-a-bounce.eml", mails["un@exemple.org"]))
    imap.append(report_for("malformed.eml", mails["un@exemple.org"]))

    run = check_bounce_mailbox(box_settings, sessions, clock=lambda: LATER)

    assert run.read == 4
    assert dict(run.applied) == {"hard": 1, "complaint": 1}
    assert sum(run.left.values()) == 2
    assert statuses(sessions) == {
        "un@exemple.org": "active",
        "deux@exemple.org": "bounced",
        "trois@exemple.org": "complained",
    }
    left = imap.messages()
    assert len(left) == 2 and all(IGNORED in flags for _, flags in left)
    assert all(b"Auto-Submitted" in raw or b"broken.example" in raw for raw, _ in left)
    with sessions() as session:
        counts = edition_status(session, 1)
    assert (counts["bounced"], counts["complaints"], counts["sent"]) == (1, 1, 3)
    # Read again: nothing new (processed mails deleted, the others marked).
    assert check_bounce_mailbox(box_settings, sessions, clock=lambda: LATER).read == 0

    with sessions.begin() as session:
        add_edition(session, {"ia": 1}, number=2)
    smtp_before = len(smtp.messages)
    report = send_edition(
        sessions, box_settings, 2, actor="test", sender_factory=fast_sender, theme_labels=LABELS
    )
    assert report.outcome == "sent" and report.sent == 1
    assert [r.rcpt_tos for r in smtp.messages[smtp_before:]] == [("un@exemple.org",)]
    assert by_recipient(smtp)["un@exemple.org"] == 2


def test_unsubscribe_mails_soft_bounces_a_processed_folder_and_oversized_mails(
    sessions: sessionmaker[Session],
    box_settings: Settings,
    smtp: SmtpTestServer,
    imap: ImapTestServer,  # noqa: F811
) -> None:
    settings = box_settings.model_copy(update={"bounce_processed_mailbox": "Traites"})
    with sessions.begin() as session:
        add_member(session, "quitte@exemple.org")
        add_member(session, "plein@exemple.org")
        add_edition(session, {"ia": 1})
    send(sessions, settings)
    mails = received_by(smtp)
    imap.append(report_for("unsubscribe-mailto.eml", mails["quitte@exemple.org"]))
    imap.append(report_for("soft-mailbox-full.eml", mails["plein@exemple.org"]))
    huge = report_for("postfix-dsn.eml", mails["plein@exemple.org"])
    imap.append(huge.replace(b"La lettre de veille", b"x" * (MAX_BYTES + 10)))

    run = check_bounce_mailbox(settings, sessions, clock=lambda: LATER)

    assert dict(run.applied) == {"unsubscribe": 1, "soft": 1}
    assert dict(run.left) == {"too large": 1}
    assert statuses(sessions) == {
        "quitte@exemple.org": "unsubscribed",
        "plein@exemple.org": "active",
    }
    moved = imap.messages("Traites")
    assert len(moved) == 2 and all("\\Seen" in flags for _, flags in moved)
    ((raw, flags),) = imap.messages()
    assert len(raw) > MAX_BYTES and IGNORED in flags and "\\Seen" not in flags


def test_the_scheduler_job_survives_a_mailbox_it_cannot_open(
    box_settings: Settings,
    sessions: sessionmaker[Session],
    imap: ImapTestServer,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = box_settings.bounce_imap_url.replace("mot-de-passe", "mauvais")
    settings = box_settings.model_copy(update={"bounce_imap_url": wrong})
    with caplog.at_level(logging.ERROR, logger="veille.scheduler"):
        scheduler.check_bounces(settings)
    assert "reading the bounce mailbox failed" in caplog.text
    assert "mauvais" not in caplog.text
    jobs = {job.id for job in scheduler.build_scheduler(settings).get_jobs()}
    assert "check-bounces" in jobs
    quiet = settings.model_copy(update={"bounce_imap_url": ""})
    assert "check-bounces" not in {job.id for job in scheduler.build_scheduler(quiet).get_jobs()}


def test_starttls_and_imaps_reach_the_mailbox_with_a_trusted_certificate(
    sessions: sessionmaker[Session],
    box_settings: Settings,
    imap: ImapTestServer,  # noqa: F811
) -> None:
    if imap.tls_port is None or imap.certificate is None:
        pytest.skip("the openssl command is needed to give Dovecot a certificate")
    trusted = ssl.create_default_context(cafile=str(imap.certificate))
    plain = box_settings.bounce_imap_url
    urls = {
        "starttls": plain.replace("/INBOX", "/INBOX?starttls=1"),
        "imaps": plain.replace("imap://", "imaps://").replace(
            f":{imap.port}/", f":{imap.tls_port}/"
        ),
    }
    for url in urls.values():
        settings = box_settings.model_copy(update={"bounce_imap_url": url})
        assert check_bounce_mailbox(settings, sessions, ssl_context=trusted).read == 0
        # The system's trust store does not know the test certificate: refused.
        with pytest.raises(ssl.SSLError):
            check_bounce_mailbox(settings, sessions)


def test_one_report_read_again_after_a_crash_counts_once_for_an_alert_mail_too(
    sessions: sessionmaker[Session],
    box_settings: Settings,
    imap: ImapTestServer,  # noqa: F811
) -> None:
    """A crash between applying a report and marking it done makes the next run read it
    again. An alert's mail has no delivery row to compare with, so before the report's own
    key one « mailbox full » read three times made three soft bounces: a member suspended
    for a single delay."""
    from tests.test_bounces import eml
    from veille.members.bounces import ALERT_MAILS

    with sessions.begin() as session:
        member_id = add_member(session, "alerte@exemple.org").id
    soft = eml("soft-mailbox-full.eml", box_settings, ALERT_MAILS, member_id, "alerte@exemple.org")
    for _ in range(3):
        imap.append(soft)

    run = check_bounce_mailbox(box_settings, sessions, clock=lambda: LATER)

    assert dict(run.applied) == {"soft": 1, "duplicate": 2}
    assert statuses(sessions) == {"alerte@exemple.org": "active"}
    with sessions() as session:
        from veille.db.bounces import count_since

        assert count_since(session, member_id, "soft", NOW) == 1
    # A different report about the same member is a new event.
    imap.append(b"Message-ID: <un-autre-avis@mx.exemple.net>\r\n" + soft)
    again = check_bounce_mailbox(box_settings, sessions, clock=lambda: LATER)
    assert dict(again.applied) == {"soft": 1}
