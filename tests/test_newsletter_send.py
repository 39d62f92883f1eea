"""Sending an edition exactly once: every active member gets one message with their sections,
whatever happens on the way (SMTP outage, refusals, `kill -9`, two runs at once). Real
SMTP server (aiosmtpd), real database, real subprocesses for the crash."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.smtp_server import SmtpTestServer
from veille.cli import app
from veille.config import Settings
from veille.db import members as member_db
from veille.db.tables import (
    ArticleRow,
    ArticleThemeRow,
    DeliveryRow,
    EditionItemRow,
    EditionRow,
    MemberRow,
    SourceRow,
)
from veille.mail.sender import SmtpSender
from veille.mail.transport import parse_transport
from veille.newsletter.deliveries import edition_status, prepare_deliveries
from veille.newsletter.editions import EditionError, get
from veille.newsletter.send import PauseRule, send_edition
from veille.sources import THEME_IDS

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LABELS = {
    "open_data": "Open data",
    "ia": "Intelligence artificielle",
    "donnees_interet_general": "Données d'intérêt général",
}
runner = CliRunner()


# --- helpers ------------------------------------------------------------------------------


def fast_sender(settings: Settings, *, rate: float | None = None) -> SmtpSender:
    """The real SMTP sender, with test-sized backoff between its retries."""
    return SmtpSender(parse_transport(settings.smtp_url), rate=rate, backoff=0.01)


def add_member(
    session: Session, email: str, *, status: str = "active", themes: list[str] | None = None
) -> MemberRow:
    member = MemberRow(
        email=email,
        email_key=member_db.email_key(email),
        name=email.split("@")[0].replace(".", " ").title(),
        status=status,
        themes=themes,
        token_salt=member_db.new_salt(),
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(member)
    session.flush()
    return member


def add_edition(
    session: Session, per_theme: dict[str, int], *, number: int = 1, status: str = "approved"
) -> EditionRow:
    """An edition with `per_theme[theme]` items titled "<theme> item <i>" (no article rows:
    the items carry their own texts)."""
    edition = EditionRow(
        number=number,
        title=f"Lettre de veille n° {number}",
        edito="Bonne lecture.",
        status=status,
        period_start=NOW - timedelta(days=7),
        period_end=NOW,
        section_order=list(THEME_IDS),
        created_at=NOW,
        created_by="test",
        version=1,
    )
    session.add(edition)
    session.flush()
    for theme, count in per_theme.items():
        for i in range(count):
            session.add(
                EditionItemRow(
                    edition_id=edition.id,
                    theme=theme,
                    position=i,
                    title=f"{theme} item {i}",
                    url=f"https://exemple.fr/{theme}/{i}",
                    source_name="Source de test",
                    summary=f"Résumé de {theme} {i}.",
                    comment="",
                    published_at=NOW - timedelta(days=1),
                )
            )
    session.flush()
    return edition


def by_recipient(server: SmtpTestServer) -> Counter[str]:
    return Counter(rcpt.lower() for received in server.messages for rcpt in received.rcpt_tos)


def body_text(message: Message) -> str:
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def deliveries(sessions: sessionmaker[Session]) -> dict[str, DeliveryRow]:
    with sessions() as session:
        return {d.email: d for d in session.scalars(select(DeliveryRow))}


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpTestServer) -> Settings:
    return settings.model_copy(
        update={"smtp_url": smtp.url, "send_rate": 0.0, "mail_from": "veille@exemple.fr"}
    )


def send(sessions: sessionmaker[Session], settings: Settings, **kwargs: Any) -> Any:
    kwargs.setdefault("sender_factory", fast_sender)
    kwargs.setdefault("theme_labels", LABELS)
    return send_edition(sessions, settings, 1, actor="test", **kwargs)


def populate(sessions: sessionmaker[Session], count: int, seed: int = 6) -> list[str]:
    """`count` active members with random theme sets; an edition with items in 2 themes."""
    rng = random.Random(seed)
    emails = []
    with sessions.begin() as session:
        for i in range(count):
            choice = rng.choice([None, ["open_data"], ["ia"], ["open_data", "ia"]])
            email = f"membre.{i:04d}@exemple.fr"
            add_member(session, email, themes=choice)
            emails.append(email)
        add_edition(session, {"open_data": 3, "ia": 2})
    return emails


# --- who gets what ------------------------------------------------------------------------


def test_each_active_member_gets_one_message_with_only_their_sections(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp: SmtpTestServer
) -> None:
    with sessions.begin() as session:
        add_member(session, "tout@exemple.fr")  # all themes
        add_member(session, "od@exemple.fr", themes=["open_data"])
        add_member(session, "ia@exemple.fr", themes=["ia"])
        add_member(session, "dig@exemple.fr", themes=["donnees_interet_general"])
        add_member(session, "pause@exemple.fr", status="paused")
        add_member(session, "attente@exemple.fr", status="pending")
        add_member(session, "parti@exemple.fr", status="unsubscribed")
        add_edition(session, {"open_data": 2, "ia": 2}, status="draft")

    report = send(sessions, mail_settings)

    assert report.outcome == "sent", report
    assert (report.sent, report.failed, report.skipped) == (3, 0, 1)
    assert by_recipient(smtp) == {"tout@exemple.fr": 1, "od@exemple.fr": 1, "ia@exemple.fr": 1}
    texts = {r.rcpt_tos[0]: body_text(r.message) for r in smtp.messages}
    assert "open_data item 1" in texts["od@exemple.fr"]
    assert "ia item" not in texts["od@exemple.fr"]
    assert "ia item 0" in texts["ia@exemple.fr"]
    assert "open_data item" not in texts["ia@exemple.fr"]
    assert "open_data item 0" in texts["tout@exemple.fr"]
    assert "ia item 1" in texts["tout@exemple.fr"]
    for received in smtp.messages:
        assert received.message.get_content_type() == "multipart/alternative"
    rows = deliveries(sessions)
    assert set(rows) == {"tout@exemple.fr", "od@exemple.fr", "ia@exemple.fr", "dig@exemple.fr"}
    assert rows["dig@exemple.fr"].status == "skipped"
    ids = {r.rcpt_tos[0]: r.message["Message-ID"] for r in smtp.messages}
    for email, message_id in ids.items():
        assert rows[email].status == "sent"
        assert rows[email].attempts == 1
        assert rows[email].message_id == message_id
        assert rows[email].sent_at is not None
    with sessions() as session:
        edition = get(session, 1)
        assert edition.status == "sent"
        assert edition.approved_by == "test"  # sending approved the draft on the way
        assert edition.sent_at is not None

    again = send(sessions, mail_settings)
    assert again.outcome == "sent" and again.sent == 0
    assert len(smtp.messages) == 3


def test_an_edition_without_items_is_not_sent(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp: SmtpTestServer
) -> None:
    with sessions.begin() as session:
        add_member(session, "a@exemple.fr")
        add_edition(session, {}, status="approved")

    with pytest.raises(EditionError, match="no item"):
        send(sessions, mail_settings)

    with sessions() as session:
        assert get(session, 1).status == "approved"
    assert deliveries(sessions) == {}


def test_member_who_left_after_preparation_is_skipped_at_send_time(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp: SmtpTestServer
) -> None:
    with sessions.begin() as session:
        add_member(session, "reste@exemple.fr")
        gone = add_member(session, "parti@exemple.fr")
        edition = add_edition(session, {"ia": 1})
        prepared = prepare_deliveries(session, edition, NOW)
        assert (prepared.pending, prepared.skipped) == (2, 0)
        assert prepare_deliveries(session, edition, NOW).pending == 0  # idempotent
        gone.status = "unsubscribed"

    report = send(sessions, mail_settings)

    assert report.outcome == "sent"
    assert by_recipient(smtp) == {"reste@exemple.fr": 1}
    rows = deliveries(sessions)
    assert rows["parti@exemple.fr"].status == "skipped"
    assert "unsubscribed" in (rows["parti@exemple.fr"].error or "")


# --- outages and refusals -----------------------------------------------------------------


class StopsAfter:
    """Test hook around the real sender: before message `k + 1`, make the server fail."""

    def __init__(self, k: int, fail: Any) -> None:
        self.k = k
        self.fail = fail
        self.count = 0
        self.lock = threading.Lock()

    def factory(self, settings: Settings, *, rate: float | None = None) -> Any:
        inner = fast_sender(settings, rate=rate)
        hook = self

        class Hooked:
            def send(self, msg: EmailMessage, data: bytes | None = None, **kw: str | None) -> None:
                with hook.lock:
                    hook.count += 1
                    if hook.count == hook.k + 1:
                        hook.fail()
                inner.send(msg, data, **kw)

            def close(self) -> None:
                inner.close()

            def __enter__(self) -> Hooked:
                return self

            def __exit__(self, *exc: object) -> None:
                inner.close()

        return Hooked()


@pytest.mark.parametrize("connections", [1, 2])
def test_resume_after_4xx_outage_sends_the_rest_once(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpTestServer,
    connections: int,
) -> None:
    emails = populate(sessions, 40)
    hook = StopsAfter(12, lambda: smtp.fail_next(10**6))

    first = send(sessions, mail_settings, sender_factory=hook.factory, connections=connections)

    assert first.outcome == "interrupted", first
    assert "451" in first.reason
    assert first.pending > 0
    assert first.sent == len(smtp.messages) >= 12
    with sessions() as session:
        status = edition_status(session, 1)
    assert status["status"] == "sending"
    assert status["sending"] == 0  # every claimed row went back to pending
    assert status["pending"] == first.pending
    assert max(by_recipient(smtp).values()) == 1

    smtp.fail_next(0)
    second = send(sessions, mail_settings, connections=connections)

    assert second.outcome == "sent", second
    assert by_recipient(smtp) == {email: 1 for email in emails}
    assert {d.status for d in deliveries(sessions).values()} == {"sent"}


def test_resume_after_the_server_went_away(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp: SmtpTestServer
) -> None:
    emails = populate(sessions, 25)
    hook = StopsAfter(10, smtp.stop)

    first = send(sessions, mail_settings, sender_factory=hook.factory, connections=1)

    assert first.outcome == "interrupted"
    assert (first.sent, first.pending) == (10, 15)
    smtp.start()
    second = send(sessions, mail_settings, connections=1)
    assert second.outcome == "sent"
    assert (second.sent, second.pending) == (15, 0)
    assert by_recipient(smtp) == {email: 1 for email in emails}


def test_permanent_refusals_fail_those_members_only(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp: SmtpTestServer
) -> None:
    emails = populate(sessions, 30)
    refused = emails[3:6]
    smtp.reject(*refused)

    report = send(sessions, mail_settings)

    assert report.outcome == "sent"
    assert (report.sent, report.failed) == (27, 3)
    assert by_recipient(smtp) == {email: 1 for email in emails if email not in refused}
    rows = deliveries(sessions)
    for email in refused:
        assert rows[email].status == "failed"
        assert "550" in (rows[email].error or "")
    with sessions() as session:
        assert edition_status(session, 1)["failed"] == 3


def test_many_refusals_pause_the_edition_until_resumed(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp: SmtpTestServer
) -> None:
    emails = populate(sessions, 40)
    smtp.reject(*emails[:10])
    rule = PauseRule(min_failures=4, min_ratio=0.10, in_a_row=50)

    report = send(sessions, mail_settings, pause=rule, connections=1)

    assert report.outcome == "paused", report
    assert report.failed == 4 and report.sent == 0
    assert report.pending == 36
    with sessions() as session:
        assert get(session, 1).status == "paused"
    assert smtp.messages == []

    smtp.accept(*emails)
    resumed = send(sessions, mail_settings, pause=rule)
    assert resumed.outcome == "sent"
    assert by_recipient(smtp) == {email: 1 for email in emails[4:]}
    with sessions() as session:
        status = edition_status(session, 1)
    assert (status["sent"], status["failed"], status["status"]) == (36, 4, "sent")


def test_two_runs_at_once_deliver_once_to_each_member(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp: SmtpTestServer
) -> None:
    emails = populate(sessions, 60)
    slow = mail_settings.model_copy(update={"send_rate": 300.0})
    reports: list[Any] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        reports.append(send(sessions, slow))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    outcomes = sorted(r.outcome for r in reports)
    assert outcomes in (["busy", "sent"], ["sent", "sent"]), reports
    assert by_recipient(smtp) == {email: 1 for email in emails}
    assert sum(r.sent for r in reports) == 60


# --- the crash ----------------------------------------------------------------------------


def test_kill_9_mid_send_then_resume_delivers_exactly_once(
    sessions: sessionmaker[Session], settings: Settings, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    """`veille edition send` in a subprocess, killed with SIGKILL mid-send, then run again.

    The kill is made deterministic by the SMTP server: `hold_after(120, waiting=2)` accepts
    120 messages, then holds every following DATA unanswered and unstored, and sets `held`
    once both connections of the sender are stuck that way. At that moment each worker has
    committed `sent` for everything before its held message (it commits before sending the
    next), and the held messages were neither stored nor answered: exactly the state of a
    crash in the middle of an SMTP transaction. The test then kills the process and lets
    the server drop the held messages. The rerun must send every other member once, the two
    interrupted ones included (their rows were left `sending`, with the rest of each
    worker's claimed batch)."""
    emails = populate(sessions, 300, seed=9)
    env = {
        **os.environ,
        "VEILLE_DATABASE_URL": settings.database_url,
        "VEILLE_SMTP_URL": smtp.url,
        "VEILLE_SEND_RATE": "100000",
        "VEILLE_SEND_CONNECTIONS": "2",
        "VEILLE_MAIL_FROM": "veille@exemple.fr",
        "VEILLE_CONFIG_FILE": str(tmp_path / "absent.yaml"),
    }
    command = [sys.executable, "-m", "veille", "edition", "send", "1", "--yes"]
    smtp.hold_after(120, waiting=2)
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert smtp.held.wait(60), "the sender never reached the held messages"
        process.kill()
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    smtp.release()

    assert len(smtp.messages) == 120
    rows = deliveries(sessions)
    statuses = Counter(d.status for d in rows.values())
    # Left `sending`: each worker's held message and the untried rest of its claimed batch.
    assert statuses["sent"] == 120
    assert statuses["sending"] >= 2
    assert statuses["sending"] + statuses["pending"] == 180
    interrupted = {d.email for d in rows.values() if d.status == "sending"}

    again = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)

    assert again.returncode == 0, again.stderr
    assert f"{len(interrupted)} repris après une interruption" in again.stdout
    assert by_recipient(smtp) == {email: 1 for email in emails}
    rows = deliveries(sessions)
    assert {d.status for d in rows.values()} == {"sent"}
    for email in interrupted:
        assert rows[email].attempts == 2
    received_ids = {r.rcpt_tos[0]: r.message["Message-ID"] for r in smtp.messages}
    assert {e: d.message_id for e, d in rows.items()} == received_ids
    with sessions() as session:
        assert get(session, 1).status == "sent"


# --- dry run and the command line ---------------------------------------------------------


def test_dry_run_writes_one_eml_per_member_and_changes_nothing(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    with sessions.begin() as session:
        add_member(session, "a@exemple.fr")
        add_member(session, "b@exemple.fr", themes=["ia"])
        add_member(session, "rien@exemple.fr", themes=["donnees_interet_general"])
        add_member(session, "pause@exemple.fr", status="paused")
        add_edition(session, {"open_data": 1, "ia": 1}, status="draft")
    out = tmp_path / "eml"

    report = send(sessions, mail_settings, dry_run_dir=out)

    assert report.outcome == "dry_run"
    assert (report.sent, report.skipped) == (2, 1)
    files = sorted(out.glob("*.eml"))
    assert len(files) == 2
    recipients = set()
    for path in files:
        message = message_from_bytes(path.read_bytes(), policy=default)
        recipients.add(str(message["To"].addresses[0].addr_spec))
    assert recipients == {"a@exemple.fr", "b@exemple.fr"}
    assert smtp.messages == []
    assert deliveries(sessions) == {}
    with sessions() as session:
        assert get(session, 1).status == "draft"
    # Deterministic Message-IDs: a second dry run rewrites the same files.
    send(sessions, mail_settings, dry_run_dir=out)
    assert sorted(out.glob("*.eml")) == files


def cli_env(settings: Settings, smtp: SmtpTestServer, tmp_path: Path) -> dict[str, str]:
    return {
        "VEILLE_DATABASE_URL": settings.database_url,
        "VEILLE_SMTP_URL": smtp.url,
        "VEILLE_SEND_RATE": "0",
        "VEILLE_MAIL_FROM": "veille@exemple.fr",
        "VEILLE_CONFIG_FILE": str(tmp_path / "absent.yaml"),
    }


def test_cli_send_needs_yes_off_a_terminal_then_reports_and_status_counts(
    sessions: sessionmaker[Session], settings: Settings, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    with sessions.begin() as session:
        add_member(session, "a@exemple.fr")
        add_member(session, "b@exemple.fr", themes=["donnees_interet_general"])
        add_member(session, "refus@exemple.fr")
        add_edition(session, {"ia": 2})
    env = cli_env(settings, smtp, tmp_path)
    smtp.reject("refus@exemple.fr")

    refused = runner.invoke(app, ["edition", "send", "1"], env=env)
    assert refused.exit_code == 1
    assert "--yes" in refused.output
    assert smtp.messages == []

    dry = runner.invoke(app, ["edition", "send", "1", "--dry-run", str(tmp_path / "d")], env=env)
    assert dry.exit_code == 0, dry.output
    assert len(list((tmp_path / "d").glob("*.eml"))) == 2

    sent = runner.invoke(app, ["edition", "send", "1", "--yes"], env=env)
    assert sent.exit_code == 0, sent.output
    assert "1 envoyé(s), 1 en échec, 1 sans objet" in sent.output
    assert by_recipient(smtp) == {"a@exemple.fr": 1}

    status = runner.invoke(app, ["edition", "status", "1", "--json"], env=env)
    assert status.exit_code == 0, status.output
    data = json.loads(status.output)
    assert data["status"] == "sent"
    assert (data["sent"], data["failed"], data["skipped"], data["pending"]) == (1, 1, 1, 0)
    assert data["total"] == 3 and data["sent_at"]

    human = runner.invoke(app, ["edition", "status", "1"], env=env)
    assert "1 envoyé(s)" in human.output and "Statut : envoyée" in human.output
    missing = runner.invoke(app, ["edition", "status", "9"], env=env)
    assert missing.exit_code == 1 and "9" in missing.output


def test_cli_send_exits_1_when_interrupted(
    sessions: sessionmaker[Session], settings: Settings, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    with sessions.begin() as session:
        add_member(session, "a@exemple.fr")
        add_edition(session, {"ia": 1})
    smtp.stop()

    result = runner.invoke(
        app, ["edition", "send", "1", "--yes"], env=cli_env(settings, smtp, tmp_path)
    )

    assert result.exit_code == 1
    assert "Interrompu, 1 en attente" in result.output


def test_cli_draft_and_preview(
    sessions: sessionmaker[Session], settings: Settings, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        source = SourceRow(key="src", name="Source exemple", url="https://exemple.fr/feed")
        session.add(source)
        session.flush()
        for i, theme in enumerate(["open_data", "open_data", "ia"]):
            article = ArticleRow(
                url=f"https://exemple.fr/a{i}",
                url_key=f"exemple.fr/a{i}",
                original_url=f"https://exemple.fr/a{i}",
                source_id=source.id,
                title=f"Article {theme} numéro {i}",
                text="Une phrase assez longue pour un résumé automatique. " * 3,
                published_at=now - timedelta(hours=i + 1),
                fetched_at=now - timedelta(hours=i + 1),
                score=1.0 - i / 10,
                curation="kept",
            )
            session.add(article)
            session.flush()
            session.add(ArticleThemeRow(article_id=article.id, theme=theme, probability=0.9))
        add_member(session, "ia@exemple.fr", themes=["ia"])
    env = cli_env(settings, smtp, tmp_path)

    drafted = runner.invoke(app, ["edition", "draft", "--json"], env=env)
    assert drafted.exit_code == 0, drafted.output
    assert json.loads(drafted.output) == {"number": 1, "items": 3}

    every = runner.invoke(app, ["edition", "preview", "1", "--text"], env=env)
    assert every.exit_code == 0, every.output
    assert "Article open_data numéro 0" in every.output and "Article ia numéro 2" in every.output
    mine = runner.invoke(
        app, ["edition", "preview", "1", "--text", "--member", "ia@exemple.fr"], env=env
    )
    assert mine.exit_code == 0, mine.output
    assert "Article ia numéro 2" in mine.output
    assert "Article open_data" not in mine.output
    html = runner.invoke(app, ["edition", "preview", "1"], env=env)
    assert html.exit_code == 0 and "<html" in html.output.lower()
    unknown = runner.invoke(app, ["edition", "preview", "1", "--member", "x@exemple.fr"], env=env)
    assert unknown.exit_code == 1
    with sessions() as session:
        assert get(session, 1).status == "draft"  # previews change nothing
