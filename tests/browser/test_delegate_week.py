"""The delegate's whole week in Chromium, under the app's real CSP, against a real uvicorn and
a real SMTP server (aiosmtpd):

log in → sort the week's inbox (keep 6 with keys and buttons, discard two, edit a summary,
re-theme one), all without a page reload → a new draft holds exactly the 6 kept items → write
the edito (Markdown link) → preview as the « ia »-only member → send a test to oneself →
send, confirmed → the SMTP server holds one message per active member who has items for
their themes (none for the paused, the pending, nor the member whose theme has no item),
each multipart/alternative (text + HTML) with only their sections, the one-click headers,
and links that work without any cookie.

The archive is tests/archive_site.py's, plus a few articles of the week so that six
on-topic ones fall in the inbox's period (the 7 days before the app's clock, NOW: no
edition went out yet). Screenshots of the inbox and the composer go to test-artifacts/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from tests.archive_site import NOW, SEEDS, Seed, populate
from tests.browser.conftest import _context
from tests.browser.test_desk_browser import EMAIL, PASSWORD, log_in
from tests.members_site import MemberSite, html_part, link_in, running_members_site, text_part
from tests.smtp_server import Received
from veille.config import Settings
from veille.db import editions as edition_db
from veille.db import members as member_db
from veille.db.tables import ArticleRow, MemberRow
from veille.desk import accounts
from veille.members import subscriptions

pytestmark = pytest.mark.browser

# The week's extra articles (ages in hours before NOW, all inside the 7-day inbox period).
WEEK = [
    Seed(
        "rennes",
        "labo",
        "Un assistant conversationnel répond aux habitants de Rennes",
        ("ia",),
        30,
        70.0,
        summary="La ville teste un agent qui oriente les demandes vers le bon service.",
    ),
    Seed(
        "nantes",
        "courrier",
        "Nantes publie son budget en données ouvertes",
        ("open_data",),
        44,
        65.0,
        summary="Le budget primitif est disponible sur le portail de la métropole.",
    ),
    Seed(
        "cantine",
        "gazette",
        "Des algorithmes pour composer les menus des cantines",
        ("open_data",),
        60,
        50.0,
        summary="Un outil d'optimisation propose des menus équilibrés aux communes.",
    ),
    Seed(
        "dsp",
        "gazette",
        "Délégations de service public : les données à rendre",
        ("donnees_interet_general",),
        80,
        45.0,
        summary="Les contrats devront prévoir la transmission des données à la collectivité.",
    ),
    Seed(
        "velo",
        "courrier",
        "Les comptages vélo de Strasbourg en open data",
        ("open_data",),
        90,
        42.0,
        summary="Quarante compteurs publient leurs relevés chaque heure.",
    ),
]
KEPT = ("lyon", "nantes", "velo", "ia", "rennes", "cantine")
OPEN_DATA_ITEMS = ("lyon", "nantes", "velo")
IA_ITEMS = ("ia", "rennes", "cantine")  # « cantine » moves from open data to IA at the desk
NEW_SUMMARY = "Le budget primitif de Nantes, ligne à ligne, dans un fichier CSV réutilisable."
EDITION_TITLE = "La semaine des données publiques"
EDITO = (
    "Une semaine riche : **six articles** choisis pour vous.\n\n"
    "Avant jeudi, relisez [le guide de l’ouverture](https://guide.example.fr/ouverture)."
)
LABELS = {
    "open_data": "Open data",
    "ia": "Intelligence artificielle",
    "donnees_interet_general": "Données d'intérêt général",
}
# (address, themes, final status): who should receive what.
MEMBERS = (
    ("tous@exemple.fr", None, "active"),
    ("odile@exemple.fr", ["ia"], "active"),
    ("paul@exemple.fr", ["open_data"], "active"),
    ("dig@exemple.fr", ["donnees_interet_general"], "active"),  # no item: no mail
    ("pause@exemple.fr", None, "paused"),
    ("attente@exemple.fr", None, "pending"),
)
EXPECTED = {
    "tous@exemple.fr": ("open_data", "ia"),
    "odile@exemple.fr": ("ia",),
    "paul@exemple.fr": ("open_data",),
}


def seed(site: MemberSite) -> dict[str, int]:
    ids = populate(site.sessions, [*SEEDS, *WEEK]).ids
    with site.sessions() as session, session.begin():
        accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=NOW)
        for address, themes, status in MEMBERS:
            outcome = subscriptions.add_by_hand(
                session,
                email=address,
                name=address.split("@")[0].capitalize(),
                organisation="Commune",
                themes=themes,
                now=NOW,
                by="test",
                require_confirmation=status == "pending",
            )
            outcome.member.status = status
    return ids


def watch(page: Any) -> list[str]:
    """Script errors, CSP violations and refused requests seen by the page."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    return errors


def curate(page: Any, ids: dict[str, int]) -> None:
    """The inbox: keys for some, buttons for others; one summary edited, one re-themed."""

    def item(key: str) -> Any:
        return page.locator(f"#article-{ids[key]}")

    def wait_state(key: str, state: str) -> None:
        page.wait_for_selector(f"#article-{ids[key]}[data-state={state}]")

    # j focuses the first article (Lyon, the best open data one); r keeps it and moves on
    # to the next (Nantes), kept with r too. Lyon's other source is not a card of its own:
    # the story is listed once, and keeping it keeps the story.
    assert page.locator(f"#article-{ids['lyon-bis']}").count() == 0
    page.keyboard.press("j")
    assert int(page.evaluate("document.activeElement.dataset.id")) == ids["lyon"]
    page.keyboard.press("r")
    wait_state("lyon", "kept")
    assert int(page.evaluate("document.activeElement.dataset.id")) == ids["nantes"]
    page.keyboard.press("r")
    wait_state("nantes", "kept")

    # Nantes' summary, with e on the article.
    item("nantes").focus()
    page.keyboard.press("e")
    summary = page.locator(f"#champ-resume-{ids['nantes']}")
    summary.wait_for()
    assert summary.input_value(), "the summary is pre-filled"
    summary.fill(NEW_SUMMARY)
    page.locator(f"#edition-{ids['nantes']}").get_by_role(
        "button", name="Enregistrer", exact=True
    ).click()
    item("nantes").locator("[data-role=summary]").filter(has_text=NEW_SUMMARY).wait_for()

    # Re-theme « cantine »: IA added, open data removed (editor labels), then kept.
    ia_box = page.locator(f"#theme-{ids['cantine']}-ia")
    ia_box.check()
    page.get_by_role("status").filter(
        has_text="Thème « Intelligence artificielle » ajouté"
    ).wait_for()
    page.locator(f"#theme-{ids['cantine']}-open_data").uncheck()
    page.get_by_role("status").filter(has_text="Thème « Open data » retiré").wait_for()
    item("cantine").get_by_role("button", name="Retenir").click()
    wait_state("cantine", "kept")

    # Buttons for the Strasbourg counters and the public-service contracts.
    item("velo").get_by_role("button", name="Retenir").click()
    wait_state("velo", "kept")
    item("dsp").get_by_role("button", name="Écarter").click()
    wait_state("dsp", "discarded")

    # The IA articles with the keyboard again.
    for key in ("rennes", "ia"):
        item(key).focus()
        page.keyboard.press("r")
        wait_state(key, "kept")


def kept_in_db(site: MemberSite) -> set[int]:
    with site.sessions() as session:
        return set(session.scalars(select(ArticleRow.id).where(ArticleRow.curation == "kept")))


def wait_until_sent(page: Any, composer_url: str, timeout: float = 20.0) -> None:
    """The send runs after the response: reload the composer until it says « envoyée »."""
    deadline = time.monotonic() + timeout
    while not page.locator("h1 .edition-status-sent").count():
        if time.monotonic() > deadline:
            raise AssertionError("the edition did not reach « envoyée » in time")
        time.sleep(0.2)  # another thread sends: no clock to inject
        page.goto(composer_url + "#suivi")


def headings(message: Any) -> list[str]:
    tree = lxml_html.fromstring(html_part(message))
    return [" ".join(h.text_content().split()) for h in tree.xpath("//h2")]


def check_member_mail(received: Received, themes: tuple[str, ...], titles: dict[str, str]) -> None:
    message = received.message
    assert message.get_content_type() == "multipart/alternative", message.get_content_type()
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message.defects == [] and all(p.defects == [] for p in message.iter_parts())
    # The list headers: https/http URL and mailto, one-click, List-Id, Message-ID.
    unsubscribe = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))
    assert len(unsubscribe) == 2, message["List-Unsubscribe"]
    assert re.match(r"https?://[^/]+/unsubscribe/\S+$", unsubscribe[0]), unsubscribe
    assert unsubscribe[1].startswith("mailto:"), unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] and "<" in str(message["List-Id"])
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(message["Message-ID"]).strip())
    assert message["Date"]
    assert EDITION_TITLE in str(message["Subject"])

    text, page = text_part(message), html_part(message)
    # Only the member's sections, and only their items.
    assert headings(message) == [LABELS[t] for t in themes]
    for theme, label in LABELS.items():
        assert (f"== {label} ==" in text) == (theme in themes), (theme, text)
    mine = {k for t in themes for k in (OPEN_DATA_ITEMS if t == "open_data" else IA_ITEMS)}
    for key, title in titles.items():
        shown = key in mine
        assert (title in text) == shown, (key, received.rcpt_tos)
        assert (title in " ".join(lxml_html.fromstring(page).text_content().split())) == shown
    if "open_data" in themes:
        assert NEW_SUMMARY in text and NEW_SUMMARY in page
    # The edito, its Markdown link a real link in the HTML, the URL in the text.
    assert "six articles" in text and "<strong>six articles</strong>" in page
    assert 'href="https://guide.example.fr/ouverture"' in page
    assert "https://guide.example.fr/ouverture" in text
    assert "Voir dans le navigateur" in page


def test_the_delegates_week(browser: Any, settings: Settings, artifacts: Path) -> None:
    settings = settings.model_copy(update={"secret_key": "clé de test assez longue pour signer"})
    with running_members_site(settings, clock=lambda: NOW) as site:
        ids = seed(site)
        every = {s.key: s.title for s in [*SEEDS, *WEEK]}
        titles = {k: every[k] for k in [*KEPT, "lyon-bis", "dsp", "piege"]}
        context = _context(browser)
        page = context.new_page()
        errors = watch(page)
        try:
            # --- Monday morning: the inbox ---------------------------------------------
            log_in(page, site.base_url)
            page.evaluate("window.__sansRechargement = 'oui'")
            shown = {
                int(x)
                for x in page.eval_on_selector_all(
                    "article.desk-item", "els => els.map(e => e.dataset.id)"
                )
            }
            assert {ids[k] for k in [*KEPT, "dsp"]} <= shown
            curate(page, ids)
            assert page.evaluate("window.__sansRechargement") == "oui", "a full reload happened"
            # Keeping Lyon kept its story: the other source's article too.
            assert kept_in_db(site) == {ids[k] for k in [*KEPT, "lyon-bis"]}
            page.screenshot(path=str(artifacts / "desk-inbox.png"), full_page=True)

            # --- the edition -------------------------------------------------------------
            page.get_by_role("link", name="Lettres").click()
            page.get_by_role("heading", name="Éditions de la lettre").wait_for()
            page.get_by_role("button", name="Nouveau brouillon").click()
            page.get_by_text("Brouillon créé.").wait_for()
            composer_url = page.url.split("?")[0]
            number = int(composer_url.rsplit("/", 1)[1])
            page.get_by_role("heading", name="Rubriques (6 articles)").wait_for()
            with site.sessions() as session:
                edition = edition_db.by_number(session, number)
                assert edition is not None
                items = edition_db.items_of(session, edition.id)
            # One item per kept story: Lyon, not its other source.
            assert sorted(i.article_id or 0 for i in items) == sorted(ids[k] for k in KEPT)
            by_article = {i.article_id: i for i in items}
            assert by_article[ids["cantine"]].theme == "ia"  # the re-theming reached it
            assert by_article[ids["nantes"]].summary == NEW_SUMMARY
            assert page.locator("li.composer-item").count() == 6

            edition_form = page.locator("form.edition-form")
            edition_form.get_by_label("Titre", exact=True).fill(EDITION_TITLE)
            edition_form.get_by_label("Édito").fill(EDITO)
            page.get_by_role("button", name="Enregistrer le titre et l’édito").click()
            # saved by the composer's script, without a reload (its status line says so)
            page.wait_for_selector("[data-role=save-state][data-state=saved]")
            page.reload()
            assert page.get_by_label("Édito").input_value() == EDITO
            page.screenshot(path=str(artifacts / "desk-composer.png"), full_page=True)

            # Preview as Odile, who reads only the IA section.
            page.get_by_role("link", name="Aperçu HTML").click()
            page.get_by_label("Vu par le membre (adresse e-mail)").fill("odile@exemple.fr")
            page.get_by_role("button", name="Afficher").click()
            page.get_by_text("aperçu pour odile@exemple.fr").wait_for()
            mail = page.frame_locator("iframe.mail-frame")
            mail.get_by_role("heading", name=LABELS["ia"]).wait_for()
            frame_text = mail.locator("body").inner_text()
            assert titles["rennes"] in frame_text and titles["cantine"] in frame_text
            assert LABELS["open_data"] not in frame_text and titles["lyon"] not in frame_text
            page.get_by_role("link", name="texte", exact=True).click()
            plain = page.locator("pre.mail-text").inner_text()
            assert f"== {LABELS['ia']} ==" in plain and f"== {LABELS['open_data']} ==" not in plain

            # A test to myself: every section, subject marked [TEST], no delivery.
            page.get_by_role("link", name="← Retour à l’édition").click()
            page.get_by_role("button", name="M’envoyer un test").click()
            page.get_by_text("Envoi de test parti").wait_for()
            test_mail = site.wait_for_mail(1)[0]
            assert site.smtp.messages[0].rcpt_tos == (EMAIL,)
            assert str(test_mail["Subject"]).startswith("[TEST]")
            assert headings(test_mail) == [LABELS["open_data"], LABELS["ia"]]
            with site.sessions() as session:
                assert not any(edition_db.delivery_counts(session, edition.id).values())

            # Send, after the confirmation page.
            page.get_by_role("link", name="Envoyer maintenant…").click()
            page.get_by_role("heading", name=f"Envoyer l’édition n° {number} ?").wait_for()
            page.get_by_text("Elle part maintenant vers les 4 membres actifs").wait_for()
            page.get_by_role("button", name="Envoyer maintenant").click()
            page.get_by_text("Envoi lancé").wait_for()
            wait_until_sent(page, composer_url)
            counts = page.locator("ul.delivery-counts").inner_text()
            assert "envoyés : 3" in counts and "sans article pour eux : 1" in counts, counts
            assert errors == []
        finally:
            context.close()

        # --- what the SMTP server holds ------------------------------------------------
        received = site.smtp.messages[1:]
        assert sorted(r.rcpt_tos for r in received) == sorted((a,) for a in EXPECTED)
        with site.sessions() as session:
            counts = edition_db.delivery_counts(session, edition.id)
        assert counts == {"pending": 0, "sending": 0, "sent": 3, "failed": 0, "skipped": 1}
        for r in received:
            check_member_mail(r, EXPECTED[r.rcpt_tos[0]], titles)
        assert len({str(r.message["Message-ID"]) for r in received}) == 3

        # --- the links work, without any cookie -----------------------------------------
        odile = next(r.message for r in received if r.rcpt_tos == ("odile@exemple.fr",))
        unsubscribe_url = re.findall(r"<([^>]+)>", str(odile["List-Unsubscribe"]))[0]
        web = httpx.get(link_in(odile, "/editions/"), timeout=10)
        assert web.status_code == 200 and EDITION_TITLE in web.text
        preferences = httpx.get(link_in(odile, "/preferences/"), timeout=10)
        assert preferences.status_code == 200, preferences.text
        assert "odile@exemple.fr" in preferences.text
        # RFC 8058: what a mail client POSTs, with no cookie and no CSRF token.
        one_click = httpx.post(
            unsubscribe_url,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        assert one_click.status_code == 200, one_click.text
        with site.sessions() as session:
            member = member_db.by_email(session, "odile@exemple.fr")
            assert member is not None and member.status == "unsubscribed"
            others = session.scalars(
                select(MemberRow.status).where(MemberRow.email != "odile@exemple.fr")
            )
            assert "unsubscribed" not in set(others)
