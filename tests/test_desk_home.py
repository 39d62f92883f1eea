"""The desk's home says what to do this week: counts to triage by theme that match the
triage page they link to, the draft and its scheduled send, the sources to look at, the
last edition's figures, the model's last training — from a real database and server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.archive_site import NOW, populate
from tests.members_site import running_members_site
from tests.test_desk_members import EMAIL, PASSWORD, doc, log_in
from veille.config import Settings
from veille.db.counter_tables import EditionClickRow
from veille.db.tables import (
    ArticleRow,
    BounceRow,
    DeliveryRow,
    EditionItemRow,
    EditionRow,
    MemberEventRow,
    MemberRow,
    ModelVersionRow,
    SourceRow,
)
from veille.desk import accounts


def seed_week(site_sessions: object) -> dict[str, int]:
    ids = populate(site_sessions).ids  # type: ignore[arg-type]
    with site_sessions() as session, session.begin():  # type: ignore[operator]
        accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=NOW)
        first = session.scalar(select(ArticleRow).order_by(ArticleRow.id).limit(1))
        first.curation = "kept"  # triaged: no longer counted
        sources = {s.key: s for s in session.scalars(select(SourceRow))}
        sources["gazette"].last_status = "error"
        sources["gazette"].last_http_status = 404
        sources["gazette"].consecutive_failures = 3
        sources["courrier"].last_status = "ok"
        sources["courrier"].last_new_article_at = NOW - timedelta(days=20)
        sources["labo"].last_status = "ok"
        sources["labo"].last_new_article_at = NOW - timedelta(days=1)
        sent = EditionRow(
            number=1, title="Lettre 1", status="sent", period_start=NOW - timedelta(days=14),
            period_end=NOW - timedelta(days=8), sending_started_at=NOW - timedelta(days=8),
            sent_at=NOW - timedelta(days=8),
        )  # fmt: skip
        draft = EditionRow(
            number=2, title="Lettre 2", status="approved", period_start=NOW - timedelta(days=8),
            period_end=NOW, scheduled_at=NOW + timedelta(days=1, hours=-1),
        )  # fmt: skip
        session.add_all([sent, draft])
        session.flush()
        deliveries = []
        for i, status in enumerate(("sent", "sent", "sent", "failed")):
            member = MemberRow(
                email=f"m{i}@exemple.fr", email_key=f"m{i}@exemple.fr", status="active",
                token_salt=f"sel{i}",
            )  # fmt: skip
            session.add(member)
            session.flush()
            delivery = DeliveryRow(
                edition_id=sent.id, member_id=member.id, email=member.email, status=status
            )
            session.add(delivery)
            deliveries.append((member, delivery))
        session.flush()
        member, delivery = deliveries[0]
        item = EditionItemRow(edition_id=sent.id, theme="ia", title="Lu", url="https://a.fr/")
        session.add(item)
        session.flush()
        session.add(
            BounceRow(member_id=member.id, delivery_id=delivery.id, kind="hard", source="dsn")
        )
        session.add(EditionClickRow(edition_id=sent.id, item_id=item.id, clicks=7))
        session.add(
            MemberEventRow(
                member_id=deliveries[1][0].id, kind="unsubscribe", at=NOW - timedelta(days=2)
            )
        )
        session.add(
            ModelVersionRow(
                version="semaine", training_size=1234, editor_labels=56,
                metrics={"macro_f1": 0.81}, thresholds={}, blob=b"-", active=False,
                created_at=NOW - timedelta(days=1),
            )
        )  # fmt: skip
    return ids


@pytest.mark.postgres  # aggregates over dates and joins: the home page's SQL
def test_the_home_page_lists_the_weeks_work(settings: Settings) -> None:
    with running_members_site(settings, clock=lambda: NOW) as site:
        seed_week(site.sessions)
        with site.sessions() as session, session.begin():
            session.execute(ModelVersionRow.__table__.update().values(active=True))
        log_in(site.client)
        home = site.client.get("/desk")
        assert home.status_code == 200, home.text
        page = doc(home)

        triage = page.cssselect("#semaine-tri")[0]
        links = {a.text_content().split(" : ")[0]: a for a in triage.cssselect("li a")}
        # The week (7 days before NOW): « lyon »'s story (open data) is kept; two IA articles.
        assert set(links) == {"Intelligence artificielle"}
        assert "Open data : 0" in triage.text_content()
        assert "2 sujets à trier" in triage.text_content()
        for label, link in links.items():
            shown = int(link.text_content().split(" : ")[1].replace("\u202f", ""))
            listed = doc(site.client.get(link.get("href"))).cssselect("article.desk-item")
            assert shown == len(listed) > 0, label  # the count is what the link shows
            assert all("state-new" in a.get("class") for a in listed)

        letter = page.cssselect("#semaine-lettre")[0].text_content()
        assert "Édition n° 2 : approuvée" in letter
        assert "Envoi programmé le 24 novembre 2026 à 09:00" in letter

        watched = page.cssselect("#semaine-sources li")
        assert [li.text_content() for li in watched] == [
            "La Gazette numérique : en échec (3 fois de suite). L'adresse n'existe plus sur le "
            "site (erreur 404) : vérifiez-la.",
            "Le Courrier des territoires : silencieuse : aucun nouvel article depuis le "
            "3 nov. 2026",
        ]
        assert watched[0].cssselect("a")[0].get("href") == "/desk/sources#source-gazette"

        figures = page.cssselect("#semaine-derniere dl")[0]
        values = dict(
            zip(
                [dt.text_content() for dt in figures.cssselect("dt")],
                [dd.text_content() for dd in figures.cssselect("dd")],
                strict=True,
            )
        )
        assert values == {
            "Remises": "3",
            "Refusées ou revenues": "2",
            "Désabonnements depuis": "1",
            "Clics sur les articles": "7",
        }
        assert figures.cssselect("dd a")[0].get("href") == "/desk/editions/1#lectures"

        model = page.cssselect("#semaine-modele")[0].text_content()
        assert "sur 1\u202f234 articles dont 56 étiquetés au bureau" in model
        assert "Qualité bonne" in model and "(F1 81 sur 100)" in model


def test_an_empty_desk_says_so(settings: Settings) -> None:
    with running_members_site(settings, clock=lambda: NOW) as site:
        with site.sessions() as session, session.begin():
            accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=NOW)
        log_in(site.client)
        page = doc(site.client.get("/desk"))
        assert "Rien à trier" in page.cssselect("#semaine-tri")[0].text_content()
        letter = page.cssselect("#semaine-lettre")[0].text_content()
        # The scheduler drafts on Mondays at 08:00 by default: NOW is Monday 10:00 in Paris.
        assert "Prochain brouillon automatique le 30 novembre 2026 à 08:00" in letter
        assert "Aucune lettre envoyée" in page.text_content()
        assert "Modèle d’origine" in page.text_content()
