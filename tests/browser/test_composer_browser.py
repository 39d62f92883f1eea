"""The edition composer in Chromium, under the app's real CSP, against a real uvicorn and a
real SMTP server (aiosmtpd): nothing typed is lost, the order changes without a reload, the
greeting is said once, an article is added from a search, and the send is followed live
until its counts reach the total. At 1280 px (the whole journey) and 390 px (a phone: the
same work without horizontal scroll).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from tests.archive_site import NOW, SEEDS, populate
from tests.browser.conftest import _context
from tests.browser.test_archive_browser import _serious_violations
from tests.browser.test_delegate_week import WEEK, watch
from tests.browser.test_desk_browser import EMAIL, PASSWORD, log_in
from tests.members_site import MemberSite, html_part, running_members_site, text_part
from veille.config import Settings
from veille.db import editions as edition_db
from veille.db.tables import EditionItemRow
from veille.desk import accounts
from veille.members import subscriptions

pytestmark = pytest.mark.browser

EDITO = (
    "Une semaine riche : **six articles** choisis pour vous.\n\n"
    "Avant jeudi, relisez [le guide](https://guide.example.fr/ouverture)."
)
MEMBERS = ("odile", "paul", "zoe", "marc", "ines", "leo")
SEARCHED = "Données d'intérêt général : ce que change la loi"  # 20 days old: not in the draft


@contextmanager
def composer_site(settings: Settings) -> Iterator[MemberSite]:
    # 2 messages a second: the send of 6 lasts ~3 s, long enough to be seen moving
    settings = settings.model_copy(
        update={"secret_key": "clé de test assez longue pour signer", "send_rate": 2.0}
    )
    with running_members_site(settings, clock=lambda: NOW) as site:
        populate(site.sessions, [*SEEDS, *WEEK])
        with site.sessions() as session, session.begin():
            accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=NOW)
            for name in MEMBERS:
                subscriptions.add_by_hand(
                    session,
                    email=f"{name}@exemple.fr",
                    name=f"{name.capitalize()} Durand",
                    organisation="Commune",
                    themes=None,
                    now=NOW,
                    by="test",
                    require_confirmation=False,
                )
        yield site


def new_draft(page: Any, site: MemberSite) -> tuple[str, int]:
    log_in(page, site.base_url)
    page.goto(site.base_url + "/desk/editions")
    page.get_by_role("button", name="Nouveau brouillon").click()
    page.get_by_text("Brouillon créé.").wait_for()
    page.wait_for_selector("[data-role=save-state]", state="attached")
    url = page.url.split("?")[0]
    return url, int(url.rsplit("/", 1)[1])


def items(site: MemberSite, number: int) -> list[EditionItemRow]:
    with site.sessions() as session:
        edition = edition_db.by_number(session, number)
        assert edition is not None
        return edition_db.items_of(session, edition.id)


def a_pair(site: MemberSite, number: int) -> tuple[str, int, int]:
    """A section with two items or more: its theme, its first and second item ids."""
    by_theme: dict[str, list[EditionItemRow]] = {}
    for item in sorted(items(site, number), key=lambda i: i.position):
        by_theme.setdefault(item.theme, []).append(item)
    theme, found = next((t, i) for t, i in by_theme.items() if len(i) >= 2)
    return theme, found[0].id, found[1].id


def order(page: Any, theme: str) -> list[int]:
    return [
        int(x)
        for x in page.eval_on_selector_all(
            f"ol[data-theme={theme}] > li[data-item]", "els => els.map(e => e.dataset.item)"
        )
    ]


def wait_saved(page: Any) -> None:
    page.wait_for_selector("[data-role=save-state][data-state=saved]")


def no_horizontal_scroll(page: Any) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"horizontal scroll: {width} > {inner} px"


def type_edito_then_move(page: Any, site: MemberSite, number: int) -> tuple[str, list[int]]:
    """Type the edito and, without waiting for its save, click « Monter »: both stick."""
    theme, first, second = a_pair(site, number)
    page.evaluate("window.__sansRechargement = 'oui'")
    page.get_by_label("Édito").fill(EDITO)
    page.locator(f"#article-{second} form[data-move=up] button").click()
    wait_saved(page)
    assert order(page, theme)[:2] == [second, first]
    assert page.evaluate("window.__sansRechargement") == "oui", "the page reloaded"
    # the first item now shows « Descendre » only, the moved one « Descendre » only too
    assert page.locator(f"#article-{second} form[data-move=up]").is_hidden()
    assert page.locator(f"#article-{first} form[data-move=up]").is_visible()
    page.reload()
    assert page.get_by_label("Édito").input_value() == EDITO
    return theme, order(page, theme)


def test_the_composer_keeps_the_work_and_shows_the_send(
    browser: Any, settings: Settings, artifacts: Path
) -> None:
    with composer_site(settings) as site:
        context = _context(browser)
        page = context.new_page()
        errors = watch(page)
        try:
            _, number = new_draft(page, site)

            # --- the edito, typed, then an item moved at once: reload, both are there ------
            _, shown = type_edito_then_move(page, site, number)
            stored = [i.id for i in sorted(items(site, number), key=lambda i: i.position)]
            assert [i for i in stored if i in shown] == shown
            # the preview beside it: the server's Markdown, as in the mail, and the greeting
            preview = page.locator("[data-role=edito-preview]")
            assert preview.locator("strong").inner_text() == "six articles"
            assert (
                preview.locator("a").get_attribute("href") == "https://guide.example.fr/ouverture"
            )
            assert page.locator("[data-role=greeting-preview]").inner_text() == "Bonjour Marie,"

            # --- an item's comment, typed: leaving now asks first, and it is saved --------
            item_id = shown[0]
            page.on("dialog", lambda dialog: dialog.dismiss())  # stay on the page
            comment = page.locator(f"#commentaire-{item_id}")
            comment.click()
            comment.press_sequentially("À lire avant le conseil.")
            with page.expect_event("dialog") as asked:
                page.close(run_before_unload=True)
            assert asked.value.type == "beforeunload"
            wait_saved(page)
            assert next(i for i in items(site, number) if i.id == item_id).comment == (
                "À lire avant le conseil."
            )

            # --- the greeting, once, edited in place -------------------------------------
            page.get_by_label("Formule", exact=True).fill("Chère {prenom}, cher lecteur,")
            page.locator("[data-role=greeting-preview]").filter(
                has_text="Chère Marie, cher lecteur,"
            ).wait_for()
            page.get_by_label("Formule", exact=True).fill("Bonjour {prénom},")
            page.locator("[data-role=greeting-preview]").filter(
                has_text="Bonjour Marie,"
            ).wait_for()
            wait_saved(page)

            # --- remove an item without a reload --------------------------------------------
            page.evaluate("window.__sansRechargement = 'oui'")
            before = page.locator("li.composer-item").count()
            last = page.locator("li.composer-item").last
            removed = int(last.get_attribute("data-item"))
            last.locator("form[data-remove] button").click()
            page.wait_for_selector(f"#article-{removed}", state="detached")
            assert page.locator("li.composer-item").count() == before - 1
            assert page.locator("[data-role=item-count]").inner_text() == f"{before - 1} articles"
            assert removed not in {i.id for i in items(site, number)}
            assert page.evaluate("window.__sansRechargement") == "oui"

            # --- « Ajouter un article » from a search by source name ------------------------
            page.get_by_label(re.compile("^Chercher dans l’archive")).fill("gazette numérique")
            page.get_by_role("button", name="Chercher").click()
            page.get_by_role("button", name=f"Ajouter « {SEARCHED} »").click()
            page.get_by_text("Article ajouté.").wait_for()
            assert SEARCHED in [i.title for i in items(site, number)]
            assert page.locator(f'li.composer-item input[value="{SEARCHED}"]').count() == 1
            no_horizontal_scroll(page)
            page.screenshot(path=str(artifacts / "desk-composer-autosave.png"), full_page=True)

            # --- send, then watch it live ------------------------------------------------------
            page.get_by_role("link", name="Envoyer maintenant…").click()
            page.get_by_role("button", name="Envoyer maintenant").click()
            page.get_by_text("Envoi lancé").wait_for()
            badge = page.locator("[data-role=status-badge]")
            assert badge.inner_text() != "brouillon"
            assert (
                page.locator("form.edition-form, form[data-move], form[data-remove]").count() == 0
            )
            page.evaluate(
                """() => { window.__seen = []; window.__states = [];
                const bar = document.querySelector('[data-role=send-bar]');
                const line = document.querySelector('[data-role=send-state]');
                new MutationObserver(() => window.__seen.push([bar.value, bar.max]))
                  .observe(bar, {childList: true});
                new MutationObserver(() => window.__states.push(line.textContent))
                  .observe(line, {childList: true}); }"""
            )
            page.locator("[data-role=send-state]").filter(has_text="Envoi terminé").wait_for(
                timeout=30_000
            )
            seen = page.evaluate("window.__seen")
            assert seen and seen[-1] == [len(MEMBERS), len(MEMBERS)], seen
            # while it ran: the count so far and the time left (the configured pace)
            states = page.evaluate("window.__states")
            assert any(
                re.fullmatch(rf"Envoi en cours : \d sur {len(MEMBERS)} — reste .+\.", s)
                for s in states
            ), states
            assert badge.inner_text() == "envoyée"
            state = page.locator("[data-role=send-state]").inner_text()
            assert f"{len(MEMBERS)} envoyés, 0 en échec" in state, state
            assert page.locator("[data-count=sent]").inner_text() == str(len(MEMBERS))
            # the sent edition renders its edito, not its Markdown
            sheet = page.locator(".mail-sheet")
            assert sheet.locator("strong").inner_text() == "six articles"
            assert "**" not in sheet.inner_text()
            assert errors == []
        finally:
            context.close()

        # --- the mails: one greeting, the edito's paragraphs -------------------------------
        received = site.wait_for_mail(len(MEMBERS))
        odile = next(r for r in received if r["To"] and "odile@" in str(r["To"]))
        text, page_html = text_part(odile).replace("\r\n", "\n"), html_part(odile)
        assert text.count("Bonjour") == 1 and "Bonjour Odile,\n" in text, text
        assert (
            "Une semaine riche : six articles choisis pour vous.\n\n"
            "Avant jeudi, relisez le guide (https://guide.example.fr/ouverture)."
        ) in text, text
        body = " ".join(lxml_html.fromstring(page_html).text_content().split())
        assert body.count("Bonjour") == 1 and "Bonjour Odile," in body
        assert "<strong>six articles</strong>" in page_html


def test_the_composer_on_a_phone(
    browser: Any, settings: Settings, artifacts: Path, axe_js: Path
) -> None:
    """The same work at 390 px, no horizontal scroll; and axe finds no serious violation
    (its script needs the CSP bypassed: the first test runs under the real one)."""
    with composer_site(settings) as site:
        context = _context(browser, bypass_csp=True)
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        errors = watch(page)
        try:
            _, number = new_draft(page, site)
            no_horizontal_scroll(page)
            type_edito_then_move(page, site, number)
            page.get_by_label(re.compile("^Chercher dans l’archive")).fill("données")
            page.get_by_role("button", name="Chercher").click()
            page.locator(".found-list li").first.wait_for()
            no_horizontal_scroll(page)
            page.screenshot(path=str(artifacts / "desk-composer-390.png"), full_page=True)
            assert errors == []
            assert _serious_violations(page, axe_js) == []
        finally:
            context.close()
