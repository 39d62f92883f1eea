"""A member's path in Chromium: subscribe on the form, follow the confirmation link from
the mail the real SMTP server caught, change themes, unsubscribe; axe on those pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import _context
from tests.browser.test_archive_browser import _serious_violations
from tests.members_site import link_in, running_members_site
from veille.config import Settings
from veille.db import members as member_db


def status_of(site: Any, email: str) -> tuple[str, list[str] | None]:
    with site.sessions() as session:
        row = member_db.by_email(session, email)
        assert row is not None
        return row.status, row.themes


def test_subscribe_confirm_change_themes_unsubscribe(
    browser: Any, settings: Settings, axe_js: Path
) -> None:
    with running_members_site(settings) as site:
        context = _context(browser)
        page = context.new_page()
        try:
            page.goto(site.base_url + "/abonnement")
            page.get_by_label("Adresse e-mail").fill("nadia@exemple.fr")
            page.get_by_label("Nom", exact=True).fill("Nadia Benali")
            page.get_by_label("Organisation").fill("Ville de Nantes")
            page.get_by_label("Open data").check()
            page.get_by_role("button", name="S’abonner").click()
            page.get_by_role("heading", name="Vérifiez votre boîte aux lettres").wait_for()
            assert status_of(site, "nadia@exemple.fr") == ("pending", ["open_data"])

            mail = site.wait_for_mail(1)[0]
            page.goto(link_in(mail, "/abonnement/confirmer/"))
            page.get_by_role("button", name="Je confirme mon inscription").click()
            page.get_by_role("heading", name="Inscription confirmée").wait_for()
            assert status_of(site, "nadia@exemple.fr")[0] == "active"

            page.get_by_role("link", name="Gérer mes préférences").click()
            page.get_by_role("heading", name="Mes préférences").wait_for()
            page.get_by_label("Intelligence artificielle").check()
            page.get_by_role("button", name="Enregistrer mes thèmes").click()
            page.get_by_text("Vos thèmes sont enregistrés.").wait_for()
            assert status_of(site, "nadia@exemple.fr") == ("active", ["ia", "open_data"])
            assert urlsplit(page.url).path.startswith("/preferences/")
            prefs_url = page.url

            page.get_by_role("button", name="Me désabonner").click()
            page.get_by_text("Vous êtes désabonné").wait_for()
            assert status_of(site, "nadia@exemple.fr")[0] == "unsubscribed"
        finally:
            context.close()

        axe_context = _context(browser, bypass_csp=True)
        axe_page = axe_context.new_page()
        try:
            for url in (site.base_url + "/abonnement", prefs_url):
                axe_page.goto(url)
                assert _serious_violations(axe_page, axe_js) == [], url
        finally:
            axe_context.close()
