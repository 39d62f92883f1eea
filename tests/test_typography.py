"""French typography of everything the project writes (README, « Typography »): a
no-break space before « : » and inside guillemets, a narrow one before « ; ! ? ».

Two nets. The static one reads our sources: every template's text, every string of the
static JavaScript, every string constant of the Python package a person may read (docstrings
and SQL left out); it names the exact characters. The rendered one walks every page of the
app (public and desk, as in the browser's every-page test) and renders every mail (HTML,
text and subject) over content that has no such punctuation of its own, so whatever the
checker finds there is ours, whichever template, filter or message wrote it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import feedparser
import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from tests.archive_site import NOW, SEEDS, populate
from tests.browser.test_every_page import NOT_PAGES, app_paths, instance, page_values
from tests.members_site import html_part, running_members_site, text_part
from tests.typography import (
    NBSP,
    NNBSP,
    cli_help_texts,
    faults,
    files,
    javascript_strings,
    python_strings,
    strict_faults,
    template_texts,
    visible_text,
)
from veille.archive.search import ArticleHit
from veille.config import Settings, get_settings
from veille.db.alerts import AlertRow
from veille.db.tables import EditionRow, MemberRow
from veille.members import mails
from veille.newsletter import alerts as newsletter_alerts
from veille.newsletter.render import edition_view, render_for
from veille.sources import DEFAULT_THEME_LABELS

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "delegue@exemple.fr"
PASSWORD = "une phrase de passe solide"
# Pages of fake source sites written as a source would (the demo's), not ours.
NOT_OURS = ("veille/demo/render.py", "veille/demo/site.py")


# ----------------------------------------------------------------- the checker


@pytest.mark.parametrize(
    "text",
    [
        "Thème : open data",
        "Thème :",
        "Thème\n: open data",
        "Thème: open data",
        "Pas encore abonné ? Abonnez-vous",
        "Merci !",
        "une virgule ; un point",
        "« titre»",
        "«titre »",
        "« titre »",
    ],
)
def test_the_checker_finds_sloppy_type(text: str) -> None:
    assert faults(text), text


@pytest.mark.parametrize(
    "text",
    [
        f"Thème{NBSP}: open data",
        f"Pas encore abonné{NNBSP}? Abonnez-vous{NNBSP}!",
        f"«{NBSP}titre{NBSP}»{NBSP}: lu",
        f"Séparateur «{NBSP};{NBSP}»",
        "https://veille.example/?q=données&theme=ia à 14:30, n° 7, 16:9",
        "",
    ],
)
def test_the_checker_passes_french_type(text: str) -> None:
    assert strict_faults(text) == [], text


def test_strict_names_the_characters_of_the_rule() -> None:
    assert faults(f"Thème{NNBSP}: x") == []
    assert strict_faults(f"Thème{NNBSP}: x")
    assert strict_faults(f"Vraiment{NBSP}?")
    assert strict_faults(f"«{NNBSP}titre{NNBSP}»")


def test_template_runs_end_at_jinja_blocks_and_tags() -> None:
    texts = template_texts(
        '<p title="Thème : {{ t }}">{{ label }}: {{ n }}</p>{# Commentaire : anglais #}'
        "<style>a { color: red !important; }</style>"
    )
    assert texts == ["Thème : ", ": "]
    assert all(faults(t) for t in texts)


# ----------------------------------------------------------------- what we write


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}: {fault}" for where, faults in found.items() for fault in faults)


def test_templates_follow_french_typography() -> None:
    found: dict[str, list[str]] = {}
    templates = files(ROOT / "templates", "web/**/*.html", "email/**/*.html", "email/**/*.txt")
    templates += files(ROOT / "templates", "static/*.xsl")
    assert len(templates) > 60
    for path in templates:
        for text in template_texts(path.read_text(encoding="utf-8")):
            if problems := strict_faults(text):
                found.setdefault(str(path.relative_to(ROOT)), []).extend(problems)
    assert found == {}, _report(found)


def test_javascript_strings_follow_french_typography() -> None:
    """Pieces joined to other text (« "?" + query », a media query): spaces only."""
    found: dict[str, list[str]] = {}
    scripts = files(ROOT / "templates", "static/*.js")
    assert len(scripts) >= 3
    for path in scripts:
        for text in javascript_strings(path.read_text(encoding="utf-8")):
            if problems := strict_faults(text, glued=False, fragment=True):
                found.setdefault(str(path.relative_to(ROOT)), []).extend(problems)
    assert found == {}, _report(found)


def test_python_messages_follow_french_typography() -> None:
    """Flash messages, form and HTTP errors, the CLI's lines, mail subjects, feed titles:
    every string constant of the package. A literal part of an f-string follows other
    text, and English or code may glue a colon to a word, so only the spaces are read."""
    found: dict[str, list[str]] = {}
    modules = [p for p in files(ROOT / "veille", "**/*.py") if not str(p).endswith(NOT_OURS)]
    for path in modules:
        for line, text in python_strings(path.read_text(encoding="utf-8")):
            if problems := strict_faults(text, glued=False, fragment=True):
                where = f"{path.relative_to(ROOT)}:{line}"
                found.setdefault(where, []).extend(problems)
    assert found == {}, _report(found)


def test_command_line_help_follows_french_typography() -> None:
    """`veille --help` and every `veille <cmd> --help`: the help of each command and option,
    read from the commands typer builds (docstrings included, which the check of the Python
    strings leaves out), as whole texts."""
    from typer.main import get_command

    from veille.cli import app

    texts = list(cli_help_texts(get_command(app)))
    assert len(texts) > 80, len(texts)
    found: dict[str, list[str]] = {}
    for where, text in texts:
        if problems := strict_faults(text):
            found.setdefault(where, []).extend(problems)
    assert found == {}, _report(found)


# ----------------------------------------------------------------- what people see


def _plain(text: str) -> str:
    """`text` without punctuation the checker reads: the seeds' own « : » would be theirs."""
    return re.sub(r"\s*[:;!?«»]\s*", " ", text).strip()


CLEAN_SEEDS = [
    dataclasses.replace(s, title=_plain(s.title), summary=_plain(s.summary), html=_plain(s.html))
    for s in SEEDS
]


def test_the_seeds_have_no_punctuation_of_their_own() -> None:
    for seed in CLEAN_SEEDS:
        assert faults(f"{seed.title} {seed.summary} {seed.html}") == [], seed


@dataclass(frozen=True)
class Site:
    client: httpx.Client
    settings: Settings
    values: dict[str, str]
    member: MemberRow
    alert: AlertRow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The small archive (without its own punctuation), a delegate signed in, a member with
    an alert, a sent edition and a draft."""
    tmp = tmp_path_factory.mktemp("typography")
    settings = get_settings(
        database_url=f"sqlite:///{tmp / 'veille.db'}",
        config_file=tmp / "feeds.yaml",
        secret_key="clé de test assez longue pour signer",
        newsletter_name="Veille des données publiques",
    )
    with running_members_site(settings, clock=lambda: NOW) as running:
        stored = populate(running.sessions, CLEAN_SEEDS)
        with running.sessions() as session, session.begin():
            member, values = page_values(session, running.settings, stored.ids["lyon"])
            alert = AlertRow(
                member_id=member.id,
                name="portail de données",
                filter="q=portail",
                frequency="weekly",
                token_salt="sel",
                created_at=NOW,
                confirmed_at=NOW,
            )
            session.add(alert)
            session.flush()
            session.expunge_all()
        yield Site(running.client, running.settings, values, member, alert)


def _page_faults(response: httpx.Response) -> list[str]:
    return [f for text in visible_text(response.content) for f in faults(text)]


def _log_in(client: httpx.Client) -> None:
    login = client.get("/desk/connexion")
    doc = lxml_html.fromstring(login.content)
    fields = {i.get("name"): i.get("value") or "" for i in doc.cssselect("form input[name]")}
    fields.update(email=EMAIL, password=PASSWORD, suite="/desk")
    assert client.post("/desk/connexion", data=fields).status_code == 303


def test_every_page_reads_in_french_typography(site: Site) -> None:
    """Every GET page of the app, public then desk, plus the error pages and the answers
    of a few forms; checked in the text a reader sees or hears."""
    from veille.web.app import create_app

    paths = [p for p in app_paths(create_app(site.settings)) if not NOT_PAGES.search(p)]
    filled = [instance(p, site.values) for p in paths]
    assert None not in filled
    public = [p for p in filled if p and not p.startswith("/desk")]
    desk = [p for p in filled if p and p.startswith("/desk")]
    public += ["/articles/999999", "/?from=hier", "/?q=portail", "/?theme=none"]
    desk += ["/desk/tri?vue=articles", "/desk/sources/nouvelle?url=http://127.0.0.1:1/rss"]
    found: dict[str, list[str]] = {}
    checked = 0

    def check(path: str) -> None:
        nonlocal checked
        response = site.client.get(path)
        assert response.status_code < 500, path
        if "text/html" in response.headers.get("content-type", ""):
            checked += 1
            if problems := _page_faults(response):
                found[path] = problems

    for path in public:
        check(path)
    check("/desk")  # signed out: the login page
    _log_in(site.client)
    for path in desk:
        check(path)
    assert checked >= 35, checked
    assert found == {}, _report(found)


def test_feeds_titles_read_in_french_typography(site: Site) -> None:
    found: dict[str, list[str]] = {}
    for path in ("/feeds/ia.atom", "/feeds/search.atom?q=portail", "/feeds/editions.atom"):
        feed = feedparser.parse(site.client.get(path).content).feed
        texts = [feed.get("title", ""), feed.get("subtitle", "")]
        assert texts[0], path
        if problems := [f for t in texts for f in faults(t)]:
            found[path] = problems
    assert found == {}, _report(found)


def test_every_mail_reads_in_french_typography(site: Site) -> None:
    """The members' mails, an alert and an edition: subject, HTML and text parts."""
    settings, member, alert = site.settings, site.member, site.alert
    hit = ArticleHit(
        id=1,
        url="https://courrier.example.fr/articles/lyon",
        title="La métropole de Lyon ouvre son portail de données",
        summary="Trois cents jeux de données publiés",
        source_key="courrier",
        source_name="Le Courrier des territoires",
        published_at=NOW - timedelta(hours=3),
        themes=("open_data",),
        score=80.0,
        coverage=1,
        partial=False,
    )
    messages = {
        "confirm": mails.confirmation_message(settings, member, DEFAULT_THEME_LABELS),
        "already": mails.already_subscribed_message(settings, member),
        "reconsent": mails.reconsent_message(settings, member, "1er décembre 2026"),
        "alert_confirm": mails.alert_confirmation_message(settings, member, alert),
        "login": mails.login_message(settings, member),
        "alert": newsletter_alerts.alert_message(settings, alert, member, [hit], True, NOW),
    }
    found: dict[str, list[str]] = {}
    for name, message in messages.items():
        texts = [str(message["Subject"]), text_part(message), *visible_text(html_part(message))]
        if problems := [f for t in texts for f in faults(t)]:
            found[name] = problems
    assert found == {}, _report(found)


def test_the_edition_mail_reads_in_french_typography(site: Site) -> None:
    from veille.db.engine import make_engine, session_factory

    engine = make_engine(site.settings.database_url)
    try:
        with session_factory(engine)() as session:
            number = int(site.values["/editions/{number:int}|number"])
            row = session.scalars(select(EditionRow).where(EditionRow.number == number)).one()
            view = edition_view(session, row, DEFAULT_THEME_LABELS)
    finally:
        engine.dispose()
    view = dataclasses.replace(view, greeting="Bonjour {prénom},")

    @dataclass(frozen=True)
    class Links:
        preferences: str = "https://veille.example/preferences/abc"
        unsubscribe: str = "https://veille.example/desabonnement/abc"

    mail = render_for(view, ["ia", "open_data"], Links(), "Odile Roux", site.settings)
    assert mail is not None
    texts = [mail.subject, mail.text, *visible_text(mail.html)]
    assert [f for t in texts for f in faults(t)] == []
