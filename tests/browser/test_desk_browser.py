"""The weekly inbox in Chromium under the real CSP: log in, move with j/k, keep with r,
star with s, edit a summary, undo with u — without any page reload (a marker set on
`window` survives every action) — and the state is there after a reload."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, SEEDS, Seed, populate, serve
from tests.browser.conftest import _context
from tests.browser.test_archive_browser import _serious_violations
from veille.config import Settings
from veille.db.tables import ArticleRow, CurationRow
from veille.desk import accounts
from veille.web.app import create_app

pytestmark = pytest.mark.browser
EMAIL = "delegue@exemple.fr"
PASSWORD = "une phrase de passe solide"


def state_of(sessions: sessionmaker[Session], article_id: int) -> str:
    with sessions() as session:
        row = session.get(ArticleRow, article_id)
        assert row is not None
        return row.curation


@contextmanager
def desk_site(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[tuple[str, Any]]:
    """The small archive of tests/archive_site.py, a desk user, a real server."""
    settings = settings.model_copy(update={"secret_key": "clé de test assez longue pour signer"})
    # « ia-top »: a second story at the top of the inbox (« lyon-bis » is « lyon »'s story).
    extra = Seed("ia-top", "labo", "Un assistant d'IA pour les marchés publics", ("ia",), 30, 70.0)
    ids = populate(sessions, [*SEEDS, extra]).ids
    with sessions() as session, session.begin():
        accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=NOW)
    with serve(create_app(settings, clock=lambda: NOW)) as base_url:
        yield base_url, ids


def log_in(page: Any, base_url: str) -> None:
    page.goto(base_url + "/desk/connexion?suite=/desk/tri")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Tri de la semaine").wait_for()
    page.wait_for_selector("html.desk-ready")


def test_keyboard_curation_without_reload(
    browser: Any, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with desk_site(settings, sessions) as (base_url, ids):
        context = _context(browser)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))  # a script error
        page.on(  # e.g. a Content-Security-Policy violation
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on(  # a refused request (CSP, API); the browser's own favicon probe aside
            "response",
            lambda r: (
                errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        try:
            log_in(page, base_url)
            page.evaluate("window.__sansRechargement = 'oui'")
            order = [
                int(x)
                for x in page.eval_on_selector_all(
                    "article.desk-item", "els => els.map(e => e.dataset.id)"
                )
            ]
            # One card per story: « lyon-bis » is « lyon »'s story, not a card of its own.
            assert order[:2] == [ids["lyon"], ids["ia-top"]]
            assert ids["lyon-bis"] not in order

            # j: first article; j: second; k: back to the first; r keeps it and moves on.
            page.keyboard.press("j")
            page.keyboard.press("j")
            page.keyboard.press("k")
            focused = page.evaluate("document.activeElement.dataset.id")
            assert int(focused) == ids["lyon"]
            page.keyboard.press("r")
            page.wait_for_selector(f"#article-{ids['lyon']}[data-state=kept]")
            page.get_by_role("status").filter(has_text="retenu").wait_for()
            assert state_of(sessions, ids["lyon"]) == "kept"
            assert int(page.evaluate("document.activeElement.dataset.id")) == ids["ia-top"]

            # x discards the second, u undoes it.
            page.keyboard.press("x")
            page.wait_for_selector(f"#article-{ids['ia-top']}[data-state=discarded]")
            page.keyboard.press("u")
            page.wait_for_selector(f"#article-{ids['ia-top']}[data-state=new]")
            assert state_of(sessions, ids["ia-top"]) == "new"

            # s stars it; e opens the form; a new summary is saved; Escape-free flow.
            page.keyboard.press("s")
            page.wait_for_selector(f"#article-{ids['ia-top']}[data-starred=true]")
            page.keyboard.press("e")
            summary = page.locator(f"#champ-resume-{ids['ia-top']}")
            summary.wait_for()
            assert summary.input_value()  # pre-filled with the automatic summary
            summary.fill("Un assistant pensé pour les acheteurs.")
            page.locator(f"#edition-{ids['ia-top']}").get_by_role(
                "button", name="Enregistrer", exact=True
            ).click()
            page.locator(f"#article-{ids['ia-top']} [data-role=summary]").filter(
                has_text="Un assistant pensé pour les acheteurs."
            ).wait_for()

            # Bulk: tick two articles with c, discard them from the toolbar.
            page.locator(f"#article-{ids['ia']}").focus()
            page.keyboard.press("c")
            page.locator(f"#article-{ids['piege']}").focus()
            page.keyboard.press("c")
            page.get_by_role("button", name="Écarter la sélection").click()
            page.wait_for_selector(f"#article-{ids['piege']}[data-state=discarded]")
            page.wait_for_selector(f"#article-{ids['ia']}[data-state=discarded]")

            assert page.evaluate("window.__sansRechargement") == "oui"
            assert errors == []

            page.reload()
            page.wait_for_selector(f"#article-{ids['lyon']}[data-state=kept]")
            page.wait_for_selector(f"#article-{ids['ia-top']}[data-starred=true]")
            assert page.evaluate("window.__sansRechargement") is None
        finally:
            context.close()
    with sessions() as session:
        row = session.get(CurationRow, ids["ia-top"])
        assert row is not None and row.summary == "Un assistant pensé pour les acheteurs."
    assert state_of(sessions, ids["ia"]) == "discarded"


def test_inbox_accessibility(
    browser: Any, settings: Settings, sessions: sessionmaker[Session], axe_js: Path
) -> None:
    with desk_site(settings, sessions) as (base_url, ids):
        context = _context(browser, bypass_csp=True)
        page = context.new_page()
        try:
            log_in(page, base_url)
            page.keyboard.press("j")
            page.keyboard.press("e")  # with an edit form open too
            page.locator(f"#champ-titre-{ids['lyon']}").wait_for()
            assert _serious_violations(page, axe_js) == []
        finally:
            context.close()


def _listed(page: Any) -> list[int]:
    return [
        int(x)
        for x in page.eval_on_selector_all("article.desk-item", "els => els.map(e => e.dataset.id)")
    ]


def _story(sessions: sessionmaker[Session], article_id: int) -> int | None:
    with sessions() as session:
        row = session.get(ArticleRow, article_id)
        assert row is not None
        return row.story_id


def test_story_corrections_from_the_cards(
    browser: Any, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    """Take another source's article out of a story from the card that lists it, then join
    the two stories again by ticking both: each says what it did once the page reloaded."""
    with desk_site(settings, sessions) as (base_url, ids):
        context = _context(browser)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            log_in(page, base_url)
            lyon, bis = ids["lyon"], ids["lyon-bis"]
            assert bis not in _listed(page)
            # Beside « La Gazette numérique » on « lyon »'s card: take that article out.
            page.locator(f"#article-{lyon}").get_by_role(
                "button", name="Sortir du sujet l’article de La Gazette numérique"
            ).click()
            page.get_by_role("status").filter(has_text="est sorti de son sujet").wait_for()
            assert "Lyon : un portail open data" in page.get_by_role("status").inner_text()
            assert {lyon, bis} <= set(_listed(page))
            # The article taken out has the focus, in view: the result is seen, not guessed.
            assert int(page.evaluate("document.activeElement.dataset.id")) == bis
            assert _story(sessions, bis) != _story(sessions, lyon)

            # Tick both (keyboard: focus, c) and join them from the toolbar.
            for ident in (lyon, bis):
                page.locator(f"#article-{ident}").focus()
                page.keyboard.press("c")
            page.get_by_role("button", name="Réunir les sujets cochés").click()
            page.get_by_role("status").filter(has_text="2 sujets réunis").wait_for()
            listed = _listed(page)
            assert lyon in listed and bis not in listed
            assert int(page.evaluate("document.activeElement.dataset.id")) == lyon
            assert _story(sessions, bis) == _story(sessions, lyon)

            # Every article listed (group=none): keeping one card of the story shows the
            # other card kept too, without a reload, as the server stored it.
            page.goto(base_url + "/desk/tri?group=none")
            page.wait_for_selector("html.desk-ready")
            page.evaluate("window.__sansRechargement = 'oui'")
            page.locator(f"#article-{lyon}").get_by_role("button", name="Retenir").click()
            page.wait_for_selector(f"#article-{bis}[data-state=kept]")
            assert page.locator(f"#article-{bis} [data-role=state]").inner_text() == "Retenu"
            assert state_of(sessions, bis) == "kept"
            assert page.evaluate("window.__sansRechargement") == "oui"
            assert errors == []
        finally:
            context.close()


def test_phone_toolbar_does_not_cover_the_cards(
    browser: Any, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    """At 390 px the bulk buttons stack to half the screen; kept on top while scrolling they
    hid the card being read. There the toolbar scrolls away with the page."""
    with desk_site(settings, sessions) as (base_url, ids):
        context = _context(browser)
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        try:
            log_in(page, base_url)
            card = page.locator(f"#article-{ids['ia']}")
            card.scroll_into_view_if_needed()
            bar = page.locator(".desk-toolbar").bounding_box()
            box = card.bounding_box()
            assert bar is not None and box is not None
            top = max(box["y"], 0)
            assert bar["y"] + bar["height"] <= top + 1, (bar, box)
        finally:
            context.close()
