"""Data that must survive and data that must go (security review, issue 12): commits that
survive a power loss, erasures that leave no copy in the files, and the 3-year re-consent
rule acted on. Real uvicorn, real SMTP server (aiosmtpd), real SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tests.members_site import link_in, running_members_site
from tests.smtp_server import SmtpTestServer
from tests.test_members_web import confirm_via_mail, member, path_of
from tests.test_newsletter_send import LABELS, add_edition, add_member, fast_sender
from veille.config import Settings
from veille.db import members as member_db
from veille.db import retention as retention_db
from veille.db.engine import transaction
from veille.db.tables import MemberEventRow, MemberRow
from veille.members import subscriptions
from veille.members.tokens import make_token
from veille.newsletter.send import send_edition
from veille.scheduler import members_reconsent

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FOUR_YEARS_AGO = T0 - timedelta(days=4 * 365)


def sqlite_file(settings: Settings) -> Path:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        pytest.skip("SQLite file behaviour (PostgreSQL: see docs/operations.md)")
    return Path(url.database)


# --- 1. commits that survive a power loss ---------------------------------------------------


def test_connections_writing_deliveries_and_member_status_sync_fully(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """Every statement writing `deliveries` or `members` runs on a connection with
    `synchronous=FULL` (2): with NORMAL, WAL commits may be lost on power loss, and a lost
    delivery row means a resend, a lost status an undone unsubscribe."""
    sqlite_file(settings)
    engine = sessions.kw["bind"]
    seen: dict[str, set[int]] = {"deliveries": set(), "members": set()}

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        words = statement.lstrip().split(None, 1)
        if not words or words[0].upper() not in ("INSERT", "UPDATE", "DELETE"):
            return
        for table, levels in seen.items():
            if f" {table}" in statement.split("(")[0] or f"UPDATE {table} " in statement:
                probe = conn.connection.dbapi_connection.cursor()
                levels.add(probe.execute("PRAGMA synchronous").fetchone()[0])
                probe.close()

    event.listen(engine, "before_cursor_execute", record)
    with SmtpTestServer() as smtp:
        mail_settings = settings.model_copy(update={"smtp_url": smtp.url, "send_rate": 0.0})
        with sessions.begin() as session:
            add_member(session, "un@exemple.fr")
            add_member(session, "deux@exemple.fr")
            add_edition(session, {"open_data": 2})
        report = send_edition(
            sessions,
            mail_settings,
            1,
            actor="test",
            sender_factory=fast_sender,
            theme_labels=LABELS,
        )
        assert report.sent == 2
    with transaction(sessions) as session:
        row = member_db.by_email(session, "un@exemple.fr")
        assert row is not None
        assert subscriptions.unsubscribe(session, row, T0, "preferences")
    event.remove(engine, "before_cursor_execute", record)
    assert seen == {"deliveries": {2}, "members": {2}}, seen


# --- 2. an erased member leaves no copy in the files --------------------------------------


def test_an_erased_member_leaves_no_copy_in_the_database_or_wal_file(settings: Settings) -> None:
    path = sqlite_file(settings)
    address = "effacement.7f3a9c2e@exemple.fr"
    with running_members_site(settings) as site:
        site.subscribe(email=address, name="Effacement Témoin", organisation="Ville témoin")
        confirm_via_mail(site)
        row = member(site, address)
        assert row is not None
        token = make_token(site.settings.secret_key, row.id, row.token_salt, "prefs")
        prefs = f"/preferences/{token}"
        csrf = site.form_token(prefs)
        wal = Path(f"{path}-wal")
        # Before erasure the address is in the files: the search below can find it.
        assert address.encode() in path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        erased = site.client.post(prefs, data={"csrf": csrf, "action": "delete"})
        assert erased.status_code == 200 and "Données effacées" in erased.text
        assert member(site, address) is None
        files = {p.name: p.read_bytes() for p in (path, wal) if p.exists()}
        for name, content in files.items():
            for needle in (address.encode(), b"7f3a9c2e", "Effacement Témoin".encode()):
                assert needle not in content, f"{needle!r} still in {name}"


# --- 3. opening a link is not activity, acting is -----------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def silent_member(sessions: sessionmaker[Session], email: str, status: str = "active") -> int:
    with sessions.begin() as session:
        row = MemberRow(
            email=email,
            email_key=member_db.email_key(email),
            status=status,
            consent_at=FOUR_YEARS_AGO,
            consent_method="import",
            token_salt=member_db.new_salt(),
            created_at=FOUR_YEARS_AGO,
            updated_at=FOUR_YEARS_AGO,
            last_activity_at=FOUR_YEARS_AGO,
        )
        session.add(row)
        session.flush()
        return row.id


def last_activity(sessions: sessionmaker[Session], email: str) -> datetime | None:
    with sessions() as session:
        row = member_db.by_email(session, email)
        assert row is not None
        return row.last_activity_at


def test_opening_the_preferences_page_is_not_activity_but_an_action_is(
    settings: Settings,
) -> None:
    clock = Clock(T0)
    with running_members_site(settings, clock=clock) as site:
        member_id = silent_member(site.sessions, "scanne@exemple.fr")
        with site.sessions() as session:
            salt = member_db.by_id(session, member_id).token_salt  # type: ignore[union-attr]
        token = make_token(site.settings.secret_key, member_id, salt, "prefs", clock)
        prefs = f"/preferences/{token}"
        page = site.client.get(prefs)  # what a mail scanner does
        assert page.status_code == 200 and "Garder mon abonnement" in page.text
        assert site.client.get(f"{prefs}/donnees.json").status_code == 200
        assert last_activity(site.sessions, "scanne@exemple.fr") == FOUR_YEARS_AGO

        clock.now = T0 + timedelta(hours=1)
        csrf = site.form_token(prefs)
        kept = site.client.post(prefs, data={"csrf": csrf, "action": "keep"})
        assert kept.status_code == 303
        assert last_activity(site.sessions, "scanne@exemple.fr") == clock.now
        assert "votre abonnement est conservé" in site.client.get(kept.headers["location"]).text

        clock.now = T0 + timedelta(hours=2)
        site.client.post(prefs, data={"csrf": csrf, "action": "pause"})
        assert last_activity(site.sessions, "scanne@exemple.fr") == clock.now


# --- 4. the 3-year rule acts --------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


def test_reconsent_one_mail_kept_by_the_button_erased_after_30_days(
    settings: Settings, smtp: SmtpTestServer
) -> None:
    clock = Clock(T0)
    with running_members_site(settings.model_copy(update={"smtp_url": smtp.url}), clock) as site:
        ids = {
            "garde": silent_member(site.sessions, "garde@exemple.fr"),
            "muet": silent_member(site.sessions, "muet@exemple.fr", status="paused"),
            "scanne": silent_member(site.sessions, "scanne@exemple.fr"),
            "parti": silent_member(site.sessions, "parti@exemple.fr", status="unsubscribed"),
        }
        with site.sessions.begin() as session:
            recent = add_member(session, "recent@exemple.fr")
            subscriptions.touch(recent, T0 - timedelta(days=40))
        job = site.settings.model_copy(update={"smtp_url": smtp.url, "send_rate": 0.0})
        data = job  # jobs get the process's Settings object (veille.scheduler)

        members_reconsent(data, now=T0)
        asked = sorted(r.rcpt_tos[0] for r in smtp.messages)
        assert asked == ["garde@exemple.fr", "muet@exemple.fr", "scanne@exemple.fr"]
        mail = smtp.messages[0].message
        assert "continuer à recevoir" in mail["Subject"]
        members_reconsent(data, now=T0 + timedelta(days=1))
        assert len(smtp.messages) == 3  # once, not again on the next run

        links = {r.rcpt_tos[0]: path_of(link_in(r.message, "/preferences/")) for r in smtp.messages}
        clock.now = T0 + timedelta(days=2)
        opened = site.client.get(links["scanne@exemple.fr"])  # opened only: not an answer
        assert "Garder mon abonnement" in opened.text and "seront effacés le" in opened.text
        csrf = site.form_token(links["garde@exemple.fr"])
        kept = site.client.post(links["garde@exemple.fr"], data={"csrf": csrf, "action": "keep"})
        assert kept.status_code == 303

        members_reconsent(data, now=T0 + timedelta(days=29))
        with site.sessions() as session:
            assert len(list(session.scalars(select(MemberRow)))) == 5  # nobody erased early

        members_reconsent(data, now=T0 + timedelta(days=31))
        with site.sessions() as session:
            left = sorted(m.email for m in session.scalars(select(MemberRow)))
            assert left == ["garde@exemple.fr", "parti@exemple.fr", "recent@exemple.fr"]
            gone = [ids["muet"], ids["scanne"]]
            trail = select(MemberEventRow).where(MemberEventRow.member_id.in_(gone))
            assert list(session.scalars(trail)) == []
            audit = retention_db.erasures_audited(session)
            assert [a.detail["count"] for a in audit] == [2]
            assert "@" not in str(audit[0].detail) + audit[0].object_id
            kept_row = member_db.by_email(session, "garde@exemple.fr")
            assert kept_row is not None and kept_row.reconsent_asked_at is None
        assert len(smtp.messages) == 3


def test_every_sqlite_connection_overwrites_deleted_content() -> None:
    """`secure_delete` defaults to OFF in SQLite's own builds (Debian's turns it on at
    compile time): the connection hook must set it, whatever the build did."""
    import sqlite3

    from veille.db.engine import _sqlite_pragmas

    raw = sqlite3.connect(":memory:")
    raw.execute("PRAGMA secure_delete=OFF")  # what an upstream build starts with
    _sqlite_pragmas(raw, None)
    assert raw.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2
    raw.close()


def test_desk_and_cli_show_who_is_due_who_was_asked_and_when_they_go(
    settings: Settings, smtp: SmtpTestServer
) -> None:
    import json

    from typer.testing import CliRunner

    from tests.test_desk_members import doc, open_desk
    from veille.cli import app
    from veille.frenchformat import short_date

    now = datetime.now(UTC)
    with open_desk(settings.model_copy(update={"smtp_url": smtp.url})) as desk:
        sessions = desk.site.sessions
        silent_member(sessions, "relance@exemple.fr")
        data = desk.site.settings.model_copy(update={"send_rate": 0.0})
        members_reconsent(data, now=now)
        silent_member(sessions, "due@exemple.fr")  # silent too, the mail not sent yet
        page = desk.client.get("/desk/membres?relance=1")
        rows = {
            tr.cssselect("th")[0].text_content().strip(): tr.text_content()
            for tr in doc(page).cssselect("tbody tr")
        }
        erase_on = short_date(now + timedelta(days=30))
        assert f"relancé le {short_date(now)}, effacé le {erase_on}" in rows["relance@exemple.fr"]
        assert "à relancer" in rows["due@exemple.fr"]

        env = {"VEILLE_DATABASE_URL": desk.site.settings.database_url}
        result = CliRunner().invoke(app, ["members", "list", "--reconsent", "--json"], env=env)
        assert result.exit_code == 0, result.output
        items = {i["email"]: i for i in json.loads(result.output)["items"]}
        assert items["due@exemple.fr"]["reconsent"] == "à relancer"
        assert items["due@exemple.fr"]["erase_at"] is None
        asked = items["relance@exemple.fr"]
        assert asked["reconsent_asked_at"] == now.isoformat()
        assert asked["erase_at"] == (now + timedelta(days=30)).isoformat()
        table = CliRunner().invoke(app, ["members", "list", "--reconsent"], env=env)
        assert "à relancer" in table.output and "relancé le" in table.output
