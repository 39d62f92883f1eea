"""The archive as a member uses it, in headless Chromium: filter by theme, search in French
with and without accents, paginate, open an article, follow a feed link; and axe-core finds
no serious or critical accessibility violation on the main pages.

Everything runs against the real app over a real collection of the demo site (conftest.py).
A screenshot of `/` is kept in test-artifacts/archive.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit

import feedparser
import pytest

if TYPE_CHECKING:
    from tests.browser.conftest import Archive

pytestmark = pytest.mark.browser

THEME = "open_data"
THEME_LABEL = "Open data"
EMPTY = "Aucun article ne correspond à ces critères."


def _card_links(page: Any) -> list[str]:
    """The article links of the result cards, in page order."""
    links = page.locator("article.card h2 a")
    return [links.nth(i).get_attribute("href") or "" for i in range(links.count())]


def _query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _search(page: Any, archive: Archive, text: str) -> list[str]:
    """Type `text` in the search box of `/` and submit the form, as a member would."""
    page.goto(archive.url("/"))
    page.get_by_role("searchbox", name="Rechercher").fill(text)
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(r"[?&]q="))
    assert _query(page).get("q") == [text]
    return _card_links(page)


def test_home_has_the_archive_form_and_a_screenshot(
    page: Any, archive: Archive, artifacts: Path
) -> None:
    response = page.goto(archive.url("/"))
    assert response is not None and response.status == 200
    form = page.locator('form[role="search"]')
    assert form.get_attribute("method") == "get"
    assert form.get_attribute("action") == "/"
    assert page.get_by_role("searchbox", name="Rechercher").get_attribute("name") == "q"
    assert page.get_by_role("group", name="Thèmes").locator("input[name=theme]").count() >= 3
    assert page.get_by_role("group", name="Sources").locator("input[name=source]").count() >= 2
    assert page.get_by_label("Du").get_attribute("name") == "from"
    assert page.get_by_label("Au").get_attribute("name") == "to"
    assert page.get_by_label("Trier par").get_attribute("name") == "sort"
    assert page.locator("article.card").count() > 0
    shot = artifacts / "archive.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    # After the screenshot (a focused skip link would cover the header): the skip link is the
    # first thing a keyboard reaches.
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Aller au contenu"


def test_filter_by_theme(page: Any, archive: Archive) -> None:
    page.goto(archive.url("/"))
    everything = _card_links(page)
    page.get_by_role("group", name="Thèmes").locator(f"input[name=theme][value={THEME}]").check()
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(r"[?&]theme="))
    assert _query(page)["theme"] == [THEME]
    cards = page.locator("article.card")
    assert cards.count() > 0
    for i in range(cards.count()):
        card = cards.nth(i)
        assert card.get_by_text(THEME_LABEL, exact=True).count() >= 1, card.inner_text()
    # The box stays ticked on the filtered page, and the filter really narrowed something.
    box = page.locator(f"input[name=theme][value={THEME}]")
    assert box.is_checked()
    assert _card_links(page) != everything


def test_search_french_word_with_and_without_accents(page: Any, archive: Archive) -> None:
    accented = _search(page, archive, "données")
    assert accented, "no result for « données »"
    assert page.get_by_text(EMPTY).count() == 0
    plain = _search(page, archive, "donnees")
    assert plain == accented


def test_search_without_match_says_so(page: Any, archive: Archive) -> None:
    assert _search(page, archive, "zzqxwvj") == []
    assert page.get_by_text(EMPTY).is_visible()


def test_paginate(page: Any, archive: Archive) -> None:
    page.goto(archive.url("/"))
    first = _card_links(page)
    assert first
    pager = page.get_by_role("navigation", name="Pagination")
    nxt = pager.get_by_role("link", name="Page suivante")
    assert nxt.get_attribute("rel") == "next"
    nxt.click()
    page.wait_for_url(re.compile(r"[?&]page=2"))
    second = _card_links(page)
    assert second
    assert not set(first) & set(second)


def test_open_an_article(page: Any, archive: Archive) -> None:
    page.goto(archive.url("/"))
    link = page.locator("article.card h2 a").first
    title = link.inner_text().strip()
    link.click()
    page.wait_for_url(re.compile(r"/articles/\d+$"))
    assert page.locator("h1").inner_text().strip() == title
    original = page.get_by_role("link", name="Lire l'article original")
    href = original.get_attribute("href") or ""
    assert href.startswith("http://127.0.0.1:"), href
    assert not href.startswith(archive.base_url)


def test_follow_a_feed_link(page: Any, archive: Archive) -> None:
    page.goto(archive.url(f"/?theme={THEME}"))
    feed = page.locator("a.feed-link")
    assert feed.inner_text().strip() == "S'abonner (Atom)"
    href = urljoin(page.url, feed.get_attribute("href") or "")
    assert urlsplit(href).path == "/feeds/search.atom"
    assert parse_qs(urlsplit(href).query).get("theme") == [THEME]
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.body())
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles_on_page = {t.strip() for t in page.locator("article.card h2 a").all_inner_texts()}
    assert parsed.entries
    assert {e.title for e in parsed.entries} & titles_on_page


def _serious_violations(page: Any, axe_js: Path) -> list[str]:
    page.add_script_tag(path=str(axe_js))
    result = page.evaluate("async () => await axe.run(document)")
    out = []
    for v in result["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:5]]
            out.append(f"{v['id']} ({v['impact']}): {v['help']} — {targets}")
    return out


@pytest.mark.parametrize(
    "path",
    ["/", f"/?theme={THEME}&q=donn%C3%A9es", "article"],
    ids=["home", "filtered", "article"],
)
def test_axe_no_serious_violation(axe_page: Any, archive: Archive, axe_js: Path, path: str) -> None:
    if path == "article":
        axe_page.goto(archive.url("/"))
        href = axe_page.locator("article.card h2 a").first.get_attribute("href")
        assert href and href.startswith("/articles/"), href
        path = href
    response = axe_page.goto(archive.url(path))
    assert response is not None and response.status == 200
    assert _serious_violations(axe_page, axe_js) == []


def test_axe_check_catches_a_violation(axe_page: Any, archive: Archive, axe_js: Path) -> None:
    """The check above is live: an unlabelled field added to `/` is reported."""
    axe_page.goto(archive.url("/"))
    axe_page.evaluate(
        "document.querySelector('main, body').append(Object.assign("
        "document.createElement('input'), {type: 'text', name: 'sans_label'}))"
    )
    found = _serious_violations(axe_page, axe_js)
    assert any(v.startswith("label (critical)") for v in found), found


def test_pages_run_clean_under_the_real_csp(page: Any, archive: Archive) -> None:
    """No console error (a CSP refusal shows there) and no script error on `/`, a filtered
    `/` and an article page, with the app's own headers in force."""
    errors: list[str] = []

    def on_console(message: Any) -> None:
        where = message.location.get("url", "")
        # Chromium asks every site for /favicon.ico on its own; that is not the page's doing.
        if message.type == "error" and not where.endswith("/favicon.ico"):
            errors.append(f"{message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(archive.url("/"))
    href = page.locator("article.card h2 a").first.get_attribute("href") or ""
    page.goto(archive.url(f"/?theme={THEME}&q=donn%C3%A9es"))
    page.goto(archive.url(href))
    page.wait_for_load_state("load")
    assert errors == []
