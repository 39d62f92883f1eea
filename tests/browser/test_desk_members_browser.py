"""The delegate in Chromium, under the app's real CSP: log in, find a member, pause them,
add one by hand; axe on the desk's members pages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.browser.conftest import _context
from tests.browser.test_archive_browser import _serious_violations
from tests.members_site import MemberSite, running_members_site
from veille.config import Settings
from veille.db import members as member_db
from veille.desk import accounts
from veille.members import subscriptions

EMAIL = "delegue@exemple.fr"
PASSWORD = "une phrase de passe solide"


def seed(site: MemberSite) -> int:
    now = datetime.now(UTC)
    with site.sessions() as session, session.begin():
        accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=now)
        for i in range(3):
            subscriptions.add_by_hand(
                session,
                email=f"membre{i}@exemple.fr",
                name=f"Membre {i}",
                organisation="Commune",
                themes=None,
                now=now,
                by="test",
                require_confirmation=False,
            )
        outcome = subscriptions.add_by_hand(
            session,
            email="odile@exemple.fr",
            name="Odile Roux",
            organisation="Ville de Brest",
            themes=["ia"],
            now=now,
            by="test",
            require_confirmation=False,
        )
        return outcome.member.id


def log_in(page: Any, base_url: str) -> None:
    page.goto(base_url + "/desk/membres")  # not logged in: sent to the login page
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Membres", exact=True).wait_for()


def status_of(site: MemberSite, email: str) -> str:
    with site.sessions() as session:
        row = member_db.by_email(session, email)
        assert row is not None
        return row.status


def test_delegate_logs_in_finds_and_pauses_a_member(
    browser: Any, settings: Settings, axe_js: Path
) -> None:
    with running_members_site(settings) as site:
        member_id = seed(site)
        context = _context(browser)
        page = context.new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else 0)
        try:
            log_in(page, site.base_url)
            page.get_by_label("Rechercher (adresse, nom ou organisation)").fill("brest")
            page.get_by_role("button", name="Filtrer").click()
            page.get_by_role("link", name="odile@exemple.fr").click()
            page.get_by_role("heading", name="odile@exemple.fr").wait_for()
            page.get_by_role("button", name="Suspendre l’abonnement").click()
            page.get_by_text("Abonnement suspendu.").wait_for()
            assert status_of(site, "odile@exemple.fr") == "paused"

            page.get_by_role("link", name="Supprimer ce membre…").click()
            page.get_by_role("link", name="Annuler").click()
            page.get_by_role("button", name="Reprendre l’abonnement").wait_for()
            assert status_of(site, "odile@exemple.fr") == "paused"

            page.goto(site.base_url + "/desk/membres/ajouter")
            page.get_by_label("Adresse e-mail").fill("paul@exemple.fr")
            page.get_by_label("Nom").fill("Paul")
            page.get_by_label("Open data").check()
            page.get_by_role("button", name="Ajouter").click()
            page.get_by_text("Membre ajouté.").wait_for()
            assert status_of(site, "paul@exemple.fr") == "active"

            page.get_by_role("button", name="Déconnexion").click()
            page.get_by_text("Vous êtes déconnecté.").wait_for()
            assert blocked == []
        finally:
            context.close()

        axe_context = _context(browser, bypass_csp=True)
        axe_page = axe_context.new_page()
        try:
            log_in(axe_page, site.base_url)
            for path in (
                "/desk",
                "/desk/membres",
                f"/desk/membres/{member_id}",
                f"/desk/membres/{member_id}/supprimer",
                "/desk/membres/ajouter",
                "/desk/membres/import",
            ):
                axe_page.goto(site.base_url + path)
                assert _serious_violations(axe_page, axe_js) == [], path
        finally:
            axe_context.close()
