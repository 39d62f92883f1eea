"""Bounces and complaints without the IMAP server: VERP tokens, reading real-world DSN/ARF
mails, the rules that stop mailing an address, a 5xx at send time (through the aiosmtpd
server), and what the desk, the CLI and the GDPR download show. The mailbox itself is in
test_bounces_imap.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.members_site import running_members_site
from tests.smtp_server import SmtpTestServer
from tests.test_desk_members import doc, open_desk
from tests.test_newsletter_send import NOW, add_edition, add_member, cli_env, send
from veille.cli import app
from veille.config import Settings
from veille.db import members as member_db
from veille.db.tables import BounceRow, DeliveryRow, MemberRow
from veille.errors import ConfigError
from veille.mail.imapbox import parse_imap_url
from veille.mail.reports import MAX_BYTES, Bounce, NotAReport, read_report
from veille.mail.verp import Token, bounce_address, find_tokens, unsubscribe_address
from veille.members import subscriptions
from veille.members.bounces import record
from veille.members.mails import links_for

DATA = Path(__file__).parent / "data" / "bounces"
runner = CliRunner()


def eml(name: str, settings: Settings, edition: int = 1, member: int = 2, email: str = "") -> bytes:
    """A mail of tests/data/bounces with its placeholders filled (see its README)."""
    raw = (DATA / name).read_bytes()
    return (
        raw.replace(b"BOUNCE_ADDRESS", bounce_address(settings, edition, member).encode())
        .replace(b"UNSUBSCRIBE_ADDRESS", unsubscribe_address(settings, edition, member).encode())
        .replace(b"MEMBER_ADDRESS", (email or f"membre{member}@exemple.org").encode())
    )


@pytest.fixture
def verp_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"mail_from": "Veille <veille@exemple.fr>", "secret_key": "une-clé-de-test"}
    )


# --- VERP -----------------------------------------------------------------------------------


def test_the_return_path_names_the_delivery_and_cannot_be_forged(verp_settings: Settings) -> None:
    address = bounce_address(verp_settings, 12, 345)
    local, _, domain = address.partition("@")
    assert domain == "exemple.fr" and local.startswith("bounces+e12m345-")
    assert find_tokens(verp_settings, f"To: <{address}>") == [Token("e", 12, 345)]
    # Some systems upper- or lower-case the local part: still found.
    assert find_tokens(verp_settings, address.upper()) == [Token("e", 12, 345)]
    mac = local.rsplit("-", 1)[1]
    forged = address.replace("e12m345", "e12m346")
    assert find_tokens(verp_settings, forged) == []
    assert find_tokens(verp_settings, address.replace(mac, "0" * 16)) == []
    other_key = verp_settings.model_copy(update={"secret_key": "une-autre-clé"})
    assert find_tokens(other_key, address) == []
    # The unsubscribe mailto has its own token: never taken for a bounce address.
    assert find_tokens(verp_settings, unsubscribe_address(verp_settings, 12, 345)) == [
        Token("u", 12, 345)
    ]


def test_a_configured_bounce_address_gets_the_token_before_the_at(
    verp_settings: Settings,
) -> None:
    custom = verp_settings.model_copy(update={"bounce_address": "retours@mail.exemple.fr"})
    assert bounce_address(custom, 1, 2).startswith("retours+e1m2-")
    assert bounce_address(custom, 1, 2).endswith("@mail.exemple.fr")
    bad = verp_settings.model_copy(update={"bounce_address": "pas une adresse"})
    with pytest.raises(ConfigError, match="VEILLE_BOUNCE_ADDRESS"):
        bounce_address(bad, 1, 2)


# --- reading what comes back ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "action", "kind", "code", "diagnostic"),
    [
        ("postfix-dsn.eml", "bounce", "hard", "5.1.1", "User unknown in virtual mailbox"),
        ("exim-bounce.eml", "bounce", "hard", "5.1.1", "550 5.1.1 Unknown user"),
        ("gmail-550.eml", "bounce", "hard", "5.1.1", "account that you tried to reach"),
        ("soft-mailbox-full.eml", "bounce", "soft", "4.2.2", "Mailbox full"),
        ("arf-abuse.eml", "bounce", "complaint", None, "Hotmail FBL"),
        ("unsubscribe-mailto.eml", "unsubscribe", None, None, None),
    ],
)
def test_real_world_reports_are_read(
    verp_settings: Settings,
    name: str,
    action: str,
    kind: str | None,
    code: str | None,
    diagnostic: str | None,
) -> None:
    report = read_report(eml(name, verp_settings, edition=4, member=2), verp_settings)
    assert report.action == action
    assert report.token.edition_number == 4 and report.token.member_id == 2
    if kind is None:
        assert report.bounce is None
        return
    assert report.bounce is not None
    assert (report.bounce.kind, report.bounce.status_code) == (kind, code)
    assert diagnostic in report.bounce.diagnostic


def test_an_arf_report_is_matched_through_the_returned_message(verp_settings: Settings) -> None:
    """The feedback loop mails our FBL address, not the VERP one: the token is found in the
    report's Original-Mail-From or the returned headers (Return-Path, List-Unsubscribe)."""
    raw = eml("arf-abuse.eml", verp_settings, edition=2, member=9)
    assert b"Delivered-To: fbl@exemple.fr" in raw
    assert read_report(raw, verp_settings).token == Token("e", 2, 9)
    only_unsubscribe = raw.replace(bounce_address(verp_settings, 2, 9).encode(), b"x@y.example")
    assert read_report(only_unsubscribe, verp_settings).token == Token("u", 2, 9)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("not-a-bounce.eml", "not a delivery report"),
        ("malformed.eml", "delivery report without failure"),
    ],
)
def test_mails_that_are_not_reports_are_refused_with_a_reason(
    verp_settings: Settings, name: str, reason: str
) -> None:
    with pytest.raises(NotAReport, match=reason):
        read_report(eml(name, verp_settings), verp_settings)


def test_hostile_mails_never_crash_the_reader(verp_settings: Settings) -> None:
    genuine = eml("postfix-dsn.eml", verp_settings)
    forged = genuine.replace(bounce_address(verp_settings, 1, 2).encode(), b"bounces+e1m2-")
    forged = forged.replace(unsubscribe_address(verp_settings, 1, 2).encode(), b"x@y")
    with pytest.raises(NotAReport, match="did not send"):
        read_report(forged, verp_settings)
    with pytest.raises(NotAReport, match="too large"):
        read_report(genuine + b"x" * MAX_BYTES, verp_settings)
    nested = b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
    for depth in range(80):
        nested += (
            f"--b{depth}\r\nContent-Type: multipart/mixed; boundary=b{depth + 1}\r\n\r\n".encode()
        )
    with pytest.raises(NotAReport):
        read_report(nested, verp_settings)
    for junk in (b"", b"\x00\xff" * 1000, b"Content-Type: multipart/report\r\n\r\n--"):
        with pytest.raises(NotAReport):
            read_report(junk, verp_settings)


def test_imap_urls() -> None:
    box = parse_imap_url("imaps://bounces%40exemple.fr:s%C3%A9cret@imap.exemple.fr/Retours")
    assert (box.scheme, box.host, box.port, box.mailbox) == (
        "imaps",
        "imap.exemple.fr",
        993,
        "Retours",
    )
    assert (box.username, box.password) == ("bounces@exemple.fr", "sécret")
    assert "sécret" not in repr(box) and "sécret" not in box.redacted
    plain = parse_imap_url("imap://u:p@127.0.0.1:1143?starttls=1")
    assert (plain.port, plain.mailbox, plain.starttls) == (1143, "INBOX", True)
    for bad, why in [
        ("pop3://u:p@h/INBOX", "imap:// or imaps://"),
        ("imap://h/INBOX", "user:password"),
        ("imaps://u:p@h/INBOX?starttls=1", "already encrypted"),
        ("imap://u:p@h/INBOX?folder=x", "unknown parameter"),
        ("imap://u:p@h:99999/INBOX", "not a valid URL"),
    ]:
        with pytest.raises(ConfigError, match=why) as caught:
            parse_imap_url(bad)
        assert ":p@" not in str(caught.value)


# --- the rules -------------------------------------------------------------------------------


def sent_edition(sessions: sessionmaker[Session], number: int, emails: list[str]) -> list[int]:
    """Edition `number` with one `sent` delivery per member (created when missing)."""
    ids = []
    with sessions.begin() as session:
        edition = add_edition(session, {"ia": 1}, number=number, status="sent")
        for email in emails:
            member = member_db.by_email(session, email) or add_member(session, email)
            session.add(
                DeliveryRow(edition_id=edition.id, member_id=member.id, email=email, status="sent")
            )
            ids.append(member.id)
    return ids


def status_of(sessions: sessionmaker[Session], member_id: int) -> str:
    with sessions() as session:
        member = session.get(MemberRow, member_id)
        assert member is not None
        return member.status


def test_hard_bounce_and_complaint_stop_the_mailing_and_follow_the_member(
    sessions: sessionmaker[Session],
) -> None:
    hard_id, complaint_id, other_id = sent_edition(
        sessions, 1, ["dur@exemple.fr", "plainte@exemple.fr", "autre@exemple.fr"]
    )
    hard = Bounce("hard", "dsn", "5.1.1", "550 5.1.1 User unknown")
    with sessions.begin() as session:
        assert record(session, 1, hard_id, hard, NOW) == "recorded"
        assert record(session, 1, hard_id, hard, NOW) == "duplicate"  # the same DSN twice
        assert record(session, 1, complaint_id, Bounce("complaint", "arf"), NOW) == "recorded"
        assert record(session, 7, other_id, hard, NOW) == "unknown"  # no such delivery
    assert status_of(sessions, hard_id) == "bounced"
    assert status_of(sessions, complaint_id) == "complained"
    assert status_of(sessions, other_id) == "active"
    with sessions() as session:
        member = session.get(MemberRow, hard_id)
        assert member is not None
        data = subscriptions.personal_data(session, member, NOW)
    assert [(b["kind"], b["status_code"]) for b in data["bounces"]] == [("hard", "5.1.1")]
    assert data["events"][-1]["kind"] == "bounce"
    with sessions.begin() as session:
        member = session.get(MemberRow, hard_id)
        assert member is not None
        subscriptions.erase(session, member)
    with sessions() as session:
        assert session.scalars(select(BounceRow.member_id)).all() == [complaint_id]


def test_three_soft_bounces_within_15_days_suspend(sessions: sessionmaker[Session]) -> None:
    spaced, close = "espace@exemple.fr", "serre@exemple.fr"
    ids = {}
    for number, day in ((1, 0), (2, 8), (3, 20), (4, 27)):
        ids = dict(
            zip((spaced, close), sent_edition(sessions, number, [spaced, close]), strict=True)
        )
        full = Bounce("soft", "dsn", "4.2.2", "452 4.2.2 Mailbox full")
        with sessions.begin() as session:
            record(session, number, ids[spaced], full, NOW + timedelta(days=day))
            # The same delivery warned about twice counts once.
            if number <= 3:
                record(session, number, ids[close], full, NOW + timedelta(days=number))
                record(session, number, ids[close], full, NOW + timedelta(days=number, hours=4))
        if number == 2:
            assert status_of(sessions, ids[close]) == "active"
    # Days 1, 2, 3: three within 15 days. Days 0, 8, 20, 27: never three within 15 days.
    assert status_of(sessions, ids[close]) == "bounced"
    assert status_of(sessions, ids[spaced]) == "active"


def test_only_a_new_confirmation_makes_a_bounced_member_active_again(
    sessions: sessionmaker[Session],
) -> None:
    (member_id,) = sent_edition(sessions, 1, ["revenu@exemple.fr"])
    with sessions.begin() as session:
        record(session, 1, member_id, Bounce("hard", "dsn", "5.1.1"), NOW)
        outcome = subscriptions.subscribe(
            session, email="revenu@exemple.fr", name="", organisation="", themes=None, now=NOW
        )
        assert outcome.mail == "confirm" and outcome.member.status == "pending"
        assert subscriptions.confirm(session, outcome.member, NOW + timedelta(hours=1))
    assert status_of(sessions, member_id) == "active"


def test_a_complaining_address_is_not_added_back_by_hand(sessions: sessionmaker[Session]) -> None:
    (member_id,) = sent_edition(sessions, 1, ["spam@exemple.fr"])
    with sessions.begin() as session:
        record(session, 1, member_id, Bounce("complaint", "arf"), NOW)
    with sessions.begin() as session, pytest.raises(Exception, match="indésirable"):
        subscriptions.add_by_hand(
            session,
            email="spam@exemple.fr",
            name="",
            organisation="",
            themes=None,
            now=NOW,
            by="delegue@exemple.fr",
            require_confirmation=False,
        )


# --- at send time, and what the delegate sees ---------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


def test_a_5xx_at_send_time_bounces_that_address_and_every_mail_has_its_return_path(
    sessions: sessionmaker[Session], settings: Settings, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    mail_settings = settings.model_copy(
        update={"smtp_url": smtp.url, "send_rate": 0.0, "mail_from": "veille@exemple.fr"}
    )
    with sessions.begin() as session:
        ok = add_member(session, "ok@exemple.fr")
        gone = add_member(session, "parti@exemple.fr")
        add_edition(session, {"ia": 1})
    smtp.reject("parti@exemple.fr")

    report = send(sessions, mail_settings)

    assert (report.sent, report.failed) == (1, 1)
    (received,) = smtp.messages
    assert received.mail_from == bounce_address(mail_settings, 1, ok.id)
    assert find_tokens(mail_settings, received.mail_from) == [Token("e", 1, ok.id)]
    assert status_of(sessions, gone.id) == "bounced"
    assert status_of(sessions, ok.id) == "active"

    env = cli_env(mail_settings, smtp, tmp_path)
    listed = runner.invoke(app, ["members", "list", "--status", "bounced", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert [m["email"] for m in data["items"]] == ["parti@exemple.fr"]
    assert data["counts"]["bounced"] == 1
    status = runner.invoke(app, ["edition", "status", "1"], env=env)
    assert (
        "Retours : 1 rejet(s) définitif(s), 0 rejet(s) temporaire(s), 0 plainte(s)" in status.output
    )

    with open_desk(mail_settings) as desk:
        page = doc(desk.client.get("/desk/membres", params={"statut": "bounced"}))
        cells = [" ".join(td.text_content().split()) for td in page.cssselect(".status-bounced")]
        assert cells == ["adresse en échec (refus définitif du serveur)"]
        composer = desk.client.get("/desk/editions/1").text
        assert 'adresses en échec : <strong data-count="bounced">1</strong>' in composer


def test_a_bounced_member_sees_why_and_cannot_resume_from_the_preferences_page(
    settings: Settings,
) -> None:
    with running_members_site(settings) as site:
        (member_id,) = sent_edition(site.sessions, 1, ["lea@exemple.fr"])
        with site.sessions.begin() as session:
            record(session, 1, member_id, Bounce("hard", "dsn", "5.1.1", "550 5.1.1"), NOW)
            member = session.get(MemberRow, member_id)
            assert member is not None
            path = urlsplit(links_for(site.settings, member).preferences).path
        page = site.client.get(path)
        assert page.status_code == 200
        assert "votre adresse a refusé nos envois" in page.text
        csrf = site.form_token(path)
        site.client.post(path, data={"csrf": csrf, "action": "resume"})
        assert status_of(site.sessions, member_id) == "bounced"
        data = json.loads(site.client.get(f"{path}/donnees.json").text)
        assert [b["kind"] for b in data["bounces"]] == ["hard"]


def test_a_policy_refusal_is_about_us_so_it_only_counts_as_soft(
    sessions: sessionmaker[Session],
    settings: Settings,
    smtp: SmtpTestServer,
    verp_settings: Settings,
) -> None:
    """5.7.x (a blocklist, DMARC, our DKIM) must not silence members at once: if our own
    configuration broke, every Gmail reader would be lost in one send."""
    dmarc = eml("gmail-550.eml", verp_settings).replace(b"5.1.1", b"5.7.26")
    report = read_report(dmarc, verp_settings)
    assert report.bounce is not None and report.bounce.kind == "soft"
    assert report.bounce.status_code == "5.7.26"

    mail_settings = settings.model_copy(update={"smtp_url": smtp.url, "send_rate": 0.0})
    with sessions.begin() as session:
        blocked = add_member(session, "bloque@exemple.fr")
        unknown = add_member(session, "inconnu@exemple.fr")
        add_edition(session, {"ia": 1})
    smtp.reject("bloque@exemple.fr", reply="550 5.7.1 Service unavailable; client host blocked")
    smtp.reject("inconnu@exemple.fr")  # 550 5.1.1 No such user here
    assert send(sessions, mail_settings).failed == 2
    assert status_of(sessions, blocked.id) == "active"
    assert status_of(sessions, unknown.id) == "bounced"
    with sessions() as session:
        kinds = dict(session.execute(select(BounceRow.member_id, BounceRow.kind)).all())
        codes = set(session.scalars(select(BounceRow.status_code)))
    assert kinds == {blocked.id: "soft", unknown.id: "hard"}
    assert codes == {"5.7.1", "5.1.1"}
