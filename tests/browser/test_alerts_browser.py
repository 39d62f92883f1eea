"""A member's alert in Chromium, at desktop and phone widths: search the archive, create an
alert from the results, confirm it through the link of the mail the real SMTP server
caught, find it on the preferences page, delete it; axe and horizontal scroll checked on
the alert's pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.archive_site import populate
from tests.browser.conftest import _context
from tests.browser.test_archive_browser import _serious_violations
from tests.members_site import link_in, running_members_site, text_part
from veille.config import Settings
from veille.db import alerts as alert_db
from veille.db import members as member_db


def alert_names(site: Any, email: str) -> list[tuple[str, str, bool]]:
    with site.sessions() as session:
        member = member_db.by_email(session, email)
        if member is None:
            return []
        return [
            (a.name, a.filter, a.confirmed_at is not None)
            for a in alert_db.of_member(session, member.id)
        ]


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("width", [1280, 390])
def test_search_create_confirm_see_and_delete_an_alert(
    browser: Any, settings: Settings, axe_js: Path, width: int
) -> None:
    email = f"lea.{width}@exemple.fr"
    with running_members_site(settings) as site:
        populate(site.sessions)
        context = _context(browser)
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": 900})
        pages: list[str] = []
        try:
            page.goto(site.base_url + "/")
            page.get_by_label("Rechercher").fill("portail")
            page.get_by_label("Rechercher").press("Enter")
            page.get_by_role("link", name="Créer une alerte pour cette recherche").click()
            page.get_by_role("heading", name="Créer une alerte pour cette recherche").wait_for()
            assert page.get_by_label("Nom de l’alerte").input_value() == "« portail »"
            pages.append(page.url)
            assert no_horizontal_scroll(page), page.url
            page.get_by_label("Nom de l’alerte").fill("Portails de données")
            page.get_by_label("Adresse e-mail").fill(email)
            page.get_by_label("Quotidienne").check()
            page.get_by_role("button", name="Créer l’alerte").click()
            page.get_by_role("heading", name="Vérifiez votre boîte aux lettres").wait_for()
            assert alert_names(site, email) == [("Portails de données", "q=portail", False)]

            mail = site.wait_for_mail(1)[0]
            assert "Portails de données" in text_part(mail)
            page.goto(link_in(mail, "/alertes/confirmer/"))
            pages.append(page.url)
            page.get_by_role("button", name="Je confirme mon alerte").click()
            page.get_by_role("heading", name="Votre alerte est confirmée").wait_for()
            assert alert_names(site, email) == [("Portails de données", "q=portail", True)]

            page.get_by_role("link", name="Gérer mes alertes").click()
            page.get_by_role("heading", name="Mes alertes").wait_for()
            item = page.locator("li.alert-item")
            assert item.locator("h3").inner_text() == "Portails de données"
            assert "Quotidienne" in item.inner_text()
            feed = item.locator("a.feed-url").get_attribute("href")
            assert feed == site.base_url + "/feeds/search.atom?q=portail"
            pages.append(page.url)
            assert no_horizontal_scroll(page), page.url
            page.get_by_role("button", name="Supprimer l’alerte « Portails de données »").click()
            page.get_by_text("Alerte supprimée.").wait_for()
            assert page.locator("li.alert-item").count() == 0
            assert alert_names(site, email) == []
        finally:
            context.close()

        axe_context = _context(browser, bypass_csp=True)
        axe_page = axe_context.new_page()
        axe_page.set_viewport_size({"width": width, "height": 900})
        try:
            for url in pages[:1] + pages[2:]:  # the confirmation link is spent
                axe_page.goto(url)
                assert _serious_violations(axe_page, axe_js) == [], url
        finally:
            axe_context.close()
