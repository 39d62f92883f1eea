"""Members' alerts end to end: the form behind the archive's button, the double opt-in by
mail, the scheduler's run mailing the new stories through a real SMTP server (aiosmtpd),
exactly once per period, the one-click stop (RFC 8058) and the preferences page, over a
real uvicorn server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.archive_site import NOW, Seed, populate
from tests.members_site import MemberSite, html_part, link_in, running_members_site, text_part
from tests.smtp_server import SmtpTestServer
from veille import scheduler
from veille.cli import app
from veille.config import Settings
from veille.db import alerts as alert_db
from veille.db import editions as edition_db
from veille.db import members as member_db
from veille.db import stories as story_db
from veille.db.alerts import AlertRow
from veille.db.engine import transaction
from veille.db.fulltext import DUPLICATE_BIT, SEARCH
from veille.db.tables import ArticleRow
from veille.mail.reports import Bounce
from veille.mail.sender import SmtpSender
from veille.mail.transport import parse_transport
from veille.mail.verp import bounce_address, find_tokens
from veille.members import alerts
from veille.members.bounces import ALERT_MAILS, record
from veille.members.mails import links_for
from veille.newsletter.alerts import AlertRun, period_start, run_alerts

BEFORE = [  # in the archive before the alert exists: never mailed
    Seed(
        "old-portail", "courrier", "Un ancien portail de données à Nantes", ("open_data",), 30, 50.0
    ),
]
NEW = [  # collected after the alert was confirmed
    Seed(
        "rennes",
        "courrier",
        "Rennes ouvre un portail de données sur l'eau",
        ("open_data",),
        5,
        70.0,
        summary="Le portail publie la qualité de l'eau <script>alert(1)</script> chaque jour.",
    ),
    Seed(  # the same story from another source: one entry in the mail
        "rennes-bis",
        "gazette",
        "Eau : Rennes lance son portail de données",
        ("open_data",),
        6,
        40.0,
        story_with="rennes",
    ),
    Seed(  # old publication date, collected now: new to the alert all the same
        "brest",
        "gazette",
        "Brest : le portail des données budgétaires",
        ("open_data",),
        24 * 60,
        35.0,
    ),
    Seed("ia-portail", "labo", "Un portail d'IA pour les agents", ("ia",), 4, 60.0),  # theme
    Seed("lille", "courrier", "Lille publie ses budgets", ("open_data",), 3, 45.0),  # word
]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def ask_alert(site: MemberSite, search: str, **fields: Any) -> httpx.Response:
    """Open the form from a search's query string, and send it with `fields` changed."""
    form = lxml_html.fromstring(site.client.get("/alertes/nouvelle?" + search).content)
    data = {
        i.get("name"): i.get("value", "")
        for i in form.xpath('//form[@action="/alertes/nouvelle"]//input')
        if i.get("type") not in ("radio",)
    }
    data.update({"frequency": "daily", "site_web": "", **fields})
    return site.client.post("/alertes/nouvelle", data=data)


def confirm_alert(site: MemberSite, mail: EmailMessage) -> str:
    path = path_of(link_in(mail, "/alertes/confirmer/"))
    page = site.client.get(path)  # a mail scanner opening it confirms nothing
    assert page.status_code == 200 and "Je confirme mon alerte" in page.text
    response = site.client.post(path, data={"csrf": site.form_token(path)})
    assert response.status_code == 200, response.text
    return response.text


def alerts_of(site: MemberSite, email: str) -> list[AlertRow]:
    with site.sessions() as session:
        member = member_db.by_email(session, email)
        assert member is not None
        rows = list(session.scalars(select(AlertRow).where(AlertRow.member_id == member.id)))
        session.expunge_all()
        return rows


def run(site: MemberSite, clock: Clock, **options: Any) -> AlertRun:
    return run_alerts(site.sessions, site.settings, clock=clock, **options)


def one_attempt(settings: Settings, rate: float | None = None) -> SmtpSender:
    """The real sender, giving up at the first temporary refusal (no backoff to wait)."""
    return SmtpSender(parse_transport(settings.smtp_url), rate=rate, max_attempts=1)


@pytest.mark.postgres
def test_alert_from_search_to_mail_once_then_one_click_stop(settings: Settings) -> None:
    clock = Clock(NOW)  # Monday 10:00 in Paris
    with running_members_site(settings, clock) as site:
        populate(site.sessions, BEFORE)
        # The archive's button carries the search; the form drops the period.
        archive = lxml_html.fromstring(
            site.client.get("/?theme=open_data&q=portail&period=mois").content
        )
        button = archive.xpath('//a[@class="alert-link"]')[0]
        assert button.text_content() == "Créer une alerte pour cette recherche"
        form = lxml_html.fromstring(site.client.get(button.get("href")).content)
        assert form.xpath('//input[@name="name"]/@value') == ["Open data · « portail »"]
        filtre = form.xpath('//input[@name="filtre"]/@value')[0]
        assert parse_qs(filtre) == {"theme": ["open_data"], "q": ["portail"]}
        assert form.xpath('//a[starts-with(@href, "/feeds/search.atom?")]')  # no-mail way

        response = ask_alert(site, "theme=open_data&q=portail&period=mois", email="Anne@Exemple.fr")
        assert response.status_code == 200 and "Vérifiez votre boîte" in response.text
        mail = site.wait_for_mail(1)[0]
        # The saved name is the member's, its spaces made ordinary like any name's; the
        # guillemets around it are ours.
        assert mail["Subject"] == "Confirmez votre alerte « Open data · « portail » »"
        assert "quotidienne" in text_part(mail)
        (pending,) = alerts_of(site, "anne@exemple.fr")
        assert pending.confirmed_at is None
        assert run(site, Clock(NOW + timedelta(days=1))).due == 0  # unconfirmed: never mailed

        assert "Votre alerte est confirmée" in confirm_alert(site, mail)
        with site.sessions() as session:
            member = member_db.by_email(session, "anne@exemple.fr")
            assert member is not None and member.status == "alerts"
            assert member.id not in {m for m, _, _ in edition_db.active_members(session)}

        stored = populate(site.sessions, NEW)
        assert run(site, clock).due == 0  # Monday 10:00: its first period starts Tuesday 7:00

        clock.now = NOW + timedelta(days=1)  # Tuesday 10:00 in Paris
        first = run(site, clock)
        assert (first.due, first.sent, first.empty) == (1, 1, 0)
        alert_mail = site.wait_for_mail(2)[1]
        assert site.smtp.messages[1].rcpt_tos == ("Anne@exemple.fr",)
        assert site.smtp.messages[1].mail_from.startswith("bounces+e0m")  # VERP
        assert alert_mail["Subject"] == "Alerte « Open data · « portail » » : 2 nouveaux articles"
        text, html = text_part(alert_mail), html_part(alert_mail)
        for wanted in ("Rennes ouvre un portail de données sur l'eau", "Brest : le portail"):
            assert wanted in text
        for unwanted in ("Eau : Rennes lance", "Un portail d'IA", "Lille", "Nantes"):
            assert unwanted not in text  # same story, other theme, no word, before the alert
        assert "<script" not in html and "alert(1)" not in text
        assert 'style="' in html  # the newsletter's inlined look
        assert "https://courrier.example.fr/articles/rennes" in text
        stop_url = alert_mail["List-Unsubscribe"].strip("<>")
        assert stop_url.startswith(site.base_url + "/alertes/arreter/")
        assert alert_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # One Message-ID per alert and period (Tuesday 7:00 in Paris): a resend is known.
        assert alert_mail["Message-ID"].startswith(f"<alert-{pending.id}.2026112406.")
        assert "/preferences/" in text  # « Gérer mes alertes »
        (sent,) = alerts_of(site, "anne@exemple.fr")
        assert sent.last_article_id == max(stored.ids.values()) and sent.sent_count == 1

        # The same period again: nothing. The next one brings only a new article of a story
        # already mailed, which becomes its representative: not new news, no mail.
        assert run(site, clock).due == 0
        joined = populate(
            site.sessions,
            [
                Seed(
                    "rennes-ter",
                    "labo",
                    "Portail de Rennes : l'eau en données",
                    ("open_data",),
                    1,
                    99.0,
                )
            ],
        )
        with site.sessions() as session, session.begin():
            article = session.get(ArticleRow, joined.ids["rennes-ter"])
            assert article is not None
            article.story_id = story_db.story_of(session, stored.ids["rennes"])
            story_db.refresh_of_articles(session, [article.id])
        with site.sessions() as session:  # it now stands for the story in the archive
            assert (
                not session.scalar(select(SEARCH.c.theme_mask).where(SEARCH.c.id == article.id))
                & DUPLICATE_BIT
            )
        clock.now = NOW + timedelta(days=2)
        later = run(site, clock)
        assert (later.due, later.sent, later.empty) == (1, 0, 1)
        assert len(site.smtp.messages) == 2

        # One click, as a mail client does it: a POST without cookies nor CSRF token.
        clicked = httpx.post(stop_url, data={"List-Unsubscribe": "One-Click"}, timeout=10)
        assert clicked.status_code == 200 and "Alerte arrêtée" in clicked.text
        assert alerts_of(site, "anne@exemple.fr") == []
        assert httpx.get(stop_url, timeout=10).status_code == 403  # the link died with it
        with site.sessions() as session:
            member = member_db.by_email(session, "anne@exemple.fr")
            assert member is not None and member.status == "alerts"  # only that alert went


def test_existing_member_confirms_by_mail_and_manages_alerts(settings: Settings) -> None:
    clock = Clock(NOW)
    with running_members_site(settings, clock) as site:
        site.subscribe(email="marc@exemple.fr")
        confirm_path = path_of(link_in(site.wait_for_mail(1)[0], "/abonnement/confirmer/"))
        site.client.post(confirm_path, data={"csrf": site.form_token(confirm_path)})

        ask_alert(site, "theme=ia", email="marc@exemple.fr", frequency="weekly")
        mail = site.wait_for_mail(2)[1]
        (alert,) = alerts_of(site, "marc@exemple.fr")
        assert alert.confirmed_at is None  # a known member confirms each alert too
        # Asked again before confirming: the same alert, its confirmation mailed again.
        ask_alert(site, "theme=ia&period=semaine", email="marc@exemple.fr")
        site.wait_for_mail(3)
        assert len(alerts_of(site, "marc@exemple.fr")) == 1
        confirm_alert(site, mail)
        with site.sessions() as session:
            member = member_db.by_email(session, "marc@exemple.fr")
            assert member is not None and member.status == "active"

        with site.sessions() as session:
            member = member_db.by_email(session, "marc@exemple.fr")
            assert member is not None
            prefs_path = path_of(links_for(site.settings, member, clock).preferences)
        page = lxml_html.fromstring(site.client.get(prefs_path).content)
        item = page.xpath('//li[@class="alert-item"]')[0]
        assert item.xpath(".//h3")[0].text_content() == "Intelligence artificielle"
        assert "Hebdomadaire" in item.text_content() and "active" in item.text_content()
        feed = item.xpath('.//a[@class="feed-url"]/@href')[0]
        assert feed == site.base_url + "/feeds/search.atom?theme=ia"
        assert httpx.get(feed, timeout=10).status_code == 200

        action = f"{prefs_path.split('?')[0]}/alertes/{alert.id}"
        token = site.form_token(prefs_path)
        for data, check in (
            ({"action": "pause"}, lambda a: a.paused_at is not None),
            ({"action": "resume"}, lambda a: a.paused_at is None),
            ({"action": "frequency", "frequency": "daily"}, lambda a: a.frequency == "daily"),
        ):
            done = site.client.post(action, data={"csrf": token, **data}, follow_redirects=True)
            assert done.status_code == 200 and "Mes alertes" in done.text
            (changed,) = alerts_of(site, "marc@exemple.fr")
            assert check(changed), data
        bad = site.client.post(
            action, data={"csrf": token, "action": "frequency", "frequency": "x"}
        )
        assert bad.status_code == 400 and "Fréquence inconnue" in bad.text

        # The data download lists the alert; deleting it leaves the subscription.
        data = json.loads(site.client.get(prefs_path.split("?")[0] + "/donnees.json").text)
        assert [a["filter"] for a in data["alerts"]] == ["theme=ia"]
        site.client.post(action, data={"csrf": token, "action": "delete"})
        assert alerts_of(site, "marc@exemple.fr") == []


def test_suspended_bounced_and_erased_members_get_no_alert(settings: Settings) -> None:
    clock = Clock(NOW)
    with running_members_site(settings, clock) as site:
        for index, email in enumerate(("a@exemple.fr", "b@exemple.fr", "c@exemple.fr")):
            ask_alert(site, "q=portail", email=email)
            confirm_alert(site, site.wait_for_mail(index + 1)[index])
        populate(site.sessions, NEW)
        with site.sessions() as session, session.begin():
            member_db.by_email(session, "a@exemple.fr").status = "paused"  # type: ignore[union-attr]
            member_db.by_email(session, "b@exemple.fr").status = "bounced"  # type: ignore[union-attr]
        clock.now = NOW + timedelta(days=1)
        outcome = run(site, clock)
        assert (outcome.due, outcome.sent) == (1, 1)
        assert site.smtp.messages[-1].rcpt_tos == ("c@exemple.fr",)

        # Erasure from the preferences page takes the member's alerts with it.
        with site.sessions() as session:
            member = member_db.by_email(session, "c@exemple.fr")
            assert member is not None
            prefs_path = path_of(links_for(site.settings, member, clock).preferences)
        token = site.form_token(prefs_path)
        site.client.post(prefs_path, data={"csrf": token, "action": "delete"})
        with site.sessions() as session:
            assert member_db.by_email(session, "c@exemple.fr") is None
            owners = set(session.scalars(select(AlertRow.member_id)))
        assert len(owners) == 2  # a and b keep theirs; c's is gone


def test_a_run_cut_by_the_mail_server_resumes_without_doubling(settings: Settings) -> None:
    clock = Clock(NOW)
    with running_members_site(settings, clock) as site:
        for index, email in enumerate(("un@exemple.fr", "deux@exemple.fr")):
            ask_alert(site, "theme=open_data", email=email)
            confirm_alert(site, site.wait_for_mail(index + 1)[index])
        populate(site.sessions, NEW)
        site.smtp.reject("deux@exemple.fr", reply="451 4.3.0 Try again later")
        clock.now = NOW + timedelta(days=1)
        cut = run(site, clock, sender_factory=one_attempt)
        assert (cut.outcome, cut.sent) == ("interrupted", 1)
        site.smtp.accept("deux@exemple.fr")
        resumed = run(site, clock, sender_factory=one_attempt)
        assert (resumed.outcome, resumed.due, resumed.sent) == ("done", 1, 1)
        assert run(site, clock).due == 0
        recipients = [m.rcpt_tos[0] for m in site.smtp.messages[2:]]
        assert recipients == ["un@exemple.fr", "deux@exemple.fr"]  # each exactly once

        # A permanent refusal is a bounce: that member gets nothing more.
        populate(
            site.sessions,
            [Seed("x", "courrier", "Données ouvertes à Metz", ("open_data",), 1, 9.0)],
        )
        site.smtp.reject("un@exemple.fr")
        clock.now = NOW + timedelta(days=2)
        refused = run(site, clock)
        assert (refused.sent, refused.failed) == (1, 1)
        with site.sessions() as session:
            member = member_db.by_email(session, "un@exemple.fr")
            assert member is not None and member.status == "bounced"


def test_bad_alert_input_is_refused_in_french(settings: Settings) -> None:
    with running_members_site(settings, Clock(NOW)) as site:
        bad_mail = ask_alert(site, "theme=ia", email="pas-une-adresse")
        assert bad_mail.status_code == 400 and "Adresse e-mail invalide" in bad_mail.text
        assert "Intelligence artificielle" in bad_mail.text  # the form keeps its values
        no_name = ask_alert(site, "theme=ia", email="a@exemple.fr", name="  ")
        assert no_name.status_code == 400 and "Donnez un nom" in no_name.text
        forged = ask_alert(site, "theme=ia", email="a@exemple.fr", filtre="theme=meteo")
        assert forged.status_code == 400 and "Thème inconnu" in forged.text
        bot = ask_alert(site, "theme=ia", email="bot@exemple.fr", site_web="http://spam")
        assert bot.status_code == 200 and "Vérifiez votre boîte" in bot.text
        with site.sessions() as session:
            assert member_db.by_email(session, "bot@exemple.fr") is None
        assert site.smtp.messages == []  # refused input never reached the mail server


def test_members_export_lists_each_members_alerts(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        outcome = alerts.request_alert(
            session,
            email="zoe@exemple.fr",
            name="IA « portail »",
            filter_qs="theme=ia&q=portail",
            frequency="weekly",
            now=NOW,
        )
        assert outcome.alert is not None
        alerts.confirm_alert(session, outcome.alert, outcome.member, NOW)
    env = {
        "VEILLE_DATABASE_URL": settings.database_url,
        "VEILLE_CONFIG_FILE": str(settings.config_file),
    }
    jsonl = CliRunner().invoke(app, ["members", "export", "--format", "jsonl"], env=env)
    assert jsonl.exit_code == 0, jsonl.output
    (record,) = [json.loads(line) for line in jsonl.output.splitlines()]
    assert record["status"] == "alerts"
    assert record["alerts"] == ["IA « portail » (hebdomadaire, active) : theme=ia&q=portail"]
    as_csv = CliRunner().invoke(app, ["members", "export"], env=env)
    header, row = as_csv.output.splitlines()[:2]
    assert header.endswith(",alerts") and row.endswith('theme=ia&q=portail"')


def test_the_subscription_rate_limits_apply_to_alerts(settings: Settings) -> None:
    with running_members_site(settings, Clock(NOW)) as site:
        for search in ("theme=ia", "theme=open_data", "q=portail", "q=budget"):
            answer = ask_alert(site, search, email="flood@exemple.fr")
            assert answer.status_code == 200 and "Vérifiez votre boîte" in answer.text
        site.wait_for_mail(3)
        assert len(site.smtp.messages) == 3  # at most 3 mails an hour to one address
        answers = [  # 10 requests an hour from one IP, subscriptions included
            ask_alert(site, "theme=ia", email=f"autre{index}@exemple.fr") for index in range(7)
        ]
        assert [a.status_code for a in answers] == [200] * 6 + [429]
        assert "Trop de demandes" in answers[-1].text


def test_periods_start_at_the_alerts_hour_daily_and_on_the_edition_day_weekly(
    settings: Settings,
) -> None:
    paris = settings.model_copy(update={"alerts_hour": 7, "edition_day": "mon"})
    monday_6h = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 06:00 in Paris
    monday_10h = NOW
    assert period_start(monday_6h, "daily", paris) == datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    assert period_start(monday_10h, "daily", paris) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert period_start(monday_6h, "weekly", paris) == datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
    sunday = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    assert period_start(sunday, "weekly", paris) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    # Across the change to summer time, 7:00 stays 7:00 in Paris (05:00 UTC from March 29).
    spring = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
    assert period_start(spring, "weekly", paris) == datetime(2026, 3, 30, 5, 0, tzinfo=UTC)
    assert period_start(spring, "daily", paris) == datetime(2026, 3, 30, 5, 0, tzinfo=UTC)


def test_a_bounce_naming_an_alert_mail_applies_the_bounce_rules(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        outcome = alerts.request_alert(
            session,
            email="gone@exemple.fr",
            name="IA",
            filter_qs="theme=ia",
            frequency="daily",
            now=NOW,
        )
        assert outcome.alert is not None
        alerts.confirm_alert(session, outcome.alert, outcome.member, NOW)
        member_id = outcome.member.id
    # The VERP return path of an alert mail names edition 0 and the member.
    (token,) = find_tokens(settings, bounce_address(settings, ALERT_MAILS, member_id))
    assert (token.edition_number, token.member_id) == (0, member_id)
    with transaction(sessions) as session:
        report = Bounce("hard", "dsn", "5.1.1", "550 5.1.1 user unknown")
        assert record(session, token.edition_number, token.member_id, report, NOW) == "recorded"
    with sessions() as session:
        member = member_db.by_id(session, member_id)
        assert member is not None and member.status == "bounced"
        assert alert_db.sendable(session, "daily") == []


def test_scheduler_jobs_mail_alerts_and_purge_unconfirmed_ones(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=31)
    with transaction(sessions) as session:
        for email, when in (("oublie@exemple.fr", long_ago), ("lise@exemple.fr", NOW)):
            outcome = alerts.request_alert(
                session,
                email=email,
                name="Portails",
                filter_qs="q=portail",
                frequency="daily",
                now=when,
            )
        assert outcome.alert is not None
        alerts.confirm_alert(session, outcome.alert, outcome.member, NOW)
    scheduler.members_housekeeping(settings)  # the unconfirmed alert and its address go
    with sessions() as session:
        assert member_db.by_email(session, "oublie@exemple.fr") is None
        assert len(list(session.scalars(select(AlertRow)))) == 1
    populate(sessions, NEW)
    with SmtpTestServer() as smtp:
        scheduler.mail_alerts(
            settings.model_copy(update={"smtp_url": smtp.url}), now=NOW + timedelta(days=1)
        )
        assert [m.rcpt_tos for m in smtp.messages] == [("lise@exemple.fr",)]
