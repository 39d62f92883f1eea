"""The delegate's week starts on the desk's home, and a source is added from the desk, in
Chromium under the real CSP, at 1280 and 390 px: log in, read the home page, open
« Sources », paste a page of the bundled demo site, see the first articles it would give,
save, change its weight in place — feeds.yaml keeps the delegate's comment — with no
horizontal scroll, and axe on each page (no serious or critical violation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, populate, serve
from tests.browser.conftest import _context
from tests.browser.screenshots import doc_screenshot
from tests.browser.test_archive_browser import _serious_violations
from veille.config import Settings
from veille.db.tables import SourceRow
from veille.demo import start_demo_site
from veille.desk import accounts
from veille.newsletter.editions import create_draft
from veille.sources import load_feeds_config
from veille.web.app import create_app

pytestmark = pytest.mark.browser
EMAIL = "delegue@exemple.fr"
PASSWORD = "une phrase de passe solide"
FEEDS = """\
# Les sources de la veille — notes de la déléguée
themes: []
sources:
  # La presse territoriale
  - key: courrier
    name: Le Courrier des territoires
    url: http://127.0.0.1:1/rss
  - key: gazette
    name: La Gazette numérique
    url: http://127.0.0.1:1/atom
  # Un laboratoire
  - key: labo
    name: Labo IA publique
    url: http://127.0.0.1:1/labo
    kind: page
"""


def log_in(page: Any, base_url: str) -> None:
    page.goto(base_url + "/desk/connexion")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Bureau de la veille").wait_for()


def no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url}: {width[0]} px wide in a {width[1]} px window"


def watch(page: Any) -> list[str]:
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
    return errors


def add_source(page: Any, base_url: str, url: str, name: str, weight: str) -> None:
    page.get_by_role("link", name="Sources", exact=True).click()
    page.get_by_role("heading", name="Sources", exact=True).wait_for()
    no_horizontal_scroll(page)
    page.get_by_role("link", name="Ajouter une source").click()
    page.get_by_label("Adresse du site, de son flux ou de sa page d’actualités").fill(url)
    page.get_by_role("button", name="Chercher la source").click()
    page.get_by_role("heading", name="Aperçu : flux trouvé").wait_for()
    previewed = page.locator(".preview-list li")
    assert previewed.count() == 8  # the first articles of the demo feed, before saving
    assert previewed.first.inner_text().strip()
    no_horizontal_scroll(page)
    doc_screenshot(page, "sources-ajouter")
    page.get_by_label("Nom de la source").fill(name)
    page.get_by_label("Poids (0 à 5)").fill("1")
    page.get_by_role("button", name="Enregistrer la source").click()
    page.get_by_text("Source ajoutée à feeds.yaml").wait_for()
    card = page.locator(".source-card", has=page.get_by_role("heading", name=name))
    assert "pas encore relevée" in card.inner_text()
    card.get_by_text("Modifier").click()
    card.get_by_label("Poids (0 à 5)").fill(weight)
    card.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Source modifiée dans feeds.yaml.").wait_for()
    card = page.locator(".source-card", has=page.get_by_role("heading", name=name))
    assert f"Poids : {weight}" in card.inner_text()
    no_horizontal_scroll(page)


def test_home_and_adding_a_source_at_two_widths(
    browser: Any, settings: Settings, sessions: sessionmaker[Session], axe_js: Path
) -> None:
    settings = settings.model_copy(update={"secret_key": "clé de test assez longue pour signer"})
    populate(sessions)
    with sessions() as session, session.begin():
        accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=NOW)
    settings.config_file.write_text(FEEDS, encoding="utf-8")
    with (
        start_demo_site(now=NOW) as demo,
        serve(create_app(settings, clock=lambda: NOW)) as base_url,
    ):
        journeys = (
            (1280, "/territoires/", "Territoires (démo)", "2,5"),
            (390, "/fil-donnees/", "Le Fil (démo)", "0,5"),
        )
        for width, path, name, weight in journeys:
            context = _context(browser)
            page = context.new_page()
            page.set_viewport_size({"width": width, "height": 900})
            errors = watch(page)
            try:
                log_in(page, base_url)
                assert page.locator("#semaine-tri").inner_text().startswith("À trier")
                assert (
                    "Aucune lettre en préparation" in page.locator("#semaine-lettre").inner_text()
                )
                no_horizontal_scroll(page)
                add_source(page, base_url, demo.base_url + path, name, weight)
                page.goto(base_url + "/desk/sources")
                doc_screenshot(page, "sources")
                assert errors == [], errors
            finally:
                context.close()

        text = settings.config_file.read_text(encoding="utf-8")
        assert text.startswith(FEEDS)  # the delegate's comments and order, untouched
        added = {s.name: s for s in load_feeds_config(settings.config_file).sources}
        assert added["Territoires (démo)"].weight == 2.5
        assert added["Territoires (démo)"].url == demo.base_url + "/territoires/rss.xml"
        assert added["Le Fil (démo)"].weight == 0.5

        # The other desk pages, for docs/desk.md (written only with VEILLE_DOC_SCREENSHOTS).
        with sessions() as session, session.begin():
            draft = create_draft(session, now=NOW, actor=EMAIL)
            draft.edito = "Cette semaine, **l’IA** au service des collectivités."
            number = draft.number
            gazette = session.scalar(select(SourceRow).where(SourceRow.key == "gazette"))
            assert gazette is not None
            gazette.last_status, gazette.last_http_status = "error", 404
            gazette.consecutive_failures = 3
        context = _context(browser)
        page = context.new_page()
        try:
            log_in(page, base_url)
            for path, name in (
                ("/desk", "bureau"),
                ("/desk/tri", "tri"),
                ("/desk/editions", "lettres"),
                (f"/desk/editions/{number}", "composition"),
                ("/desk/membres", "membres"),
            ):
                page.goto(base_url + path)
                page.locator("h1").first.wait_for()
                doc_screenshot(page, name)
        finally:
            context.close()

        axe_context = _context(browser, bypass_csp=True)
        axe_page = axe_context.new_page()
        try:
            log_in(axe_page, base_url)
            for path in ("/desk", "/desk/sources", "/desk/sources/ajouter"):
                axe_page.goto(base_url + path)
                assert _serious_violations(axe_page, axe_js) == [], path
            axe_page.get_by_label("Adresse du site, de son flux ou de sa page d’actualités").fill(
                demo.base_url + "/territoires/"
            )
            axe_page.get_by_role("button", name="Chercher la source").click()
            axe_page.get_by_role("heading", name="Aperçu : flux trouvé").wait_for()
            assert _serious_violations(axe_page, axe_js) == [], "preview"
        finally:
            axe_context.close()
