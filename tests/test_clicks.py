"""What members read, without tracking anyone: real letters sent over SMTP (aiosmtpd) carry
`/r/…` links in their text and HTML parts, the same in every member's letter; following
one counts once per (edition, item), redirects to the article, and moves the source's
value score; a forged token is a 404, never a redirect; the counts reach `veille edition
status --json` and the composer's « Suivi »; `VEILLE_CLICK_COUNTS=false` sends the
articles' own links."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from email.message import EmailMessage

import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.archive_site import NOW, populate
from tests.members_site import html_part, running_members_site, text_part
from tests.test_desk_members import EMAIL, PASSWORD, doc, log_in
from veille.cli import app
from veille.config import Settings
from veille.db import clicks as click_db
from veille.db import members as member_db
from veille.db.counter_tables import EditionClickRow
from veille.db.engine import transaction
from veille.db.tables import ArticleRow, EditionItemRow, EditionRow, MemberRow
from veille.desk import accounts
from veille.newsletter.clicks import parse_token, token_for
from veille.newsletter.send import send_edition

runner = CliRunner()


def prepare(sessions: sessionmaker[Session]) -> dict[str, int]:
    """The small archive, a desk user, two members, and edition 1 carrying two of its
    articles (from the « labo » and « gazette » sources)."""
    ids = populate(sessions).ids
    with sessions() as session, session.begin():
        accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=NOW)
        for email in ("anne@exemple.fr", "bruno@exemple.fr"):
            session.add(
                MemberRow(
                    email=email, email_key=member_db.email_key(email), name=email[:5].title(),
                    status="active", themes=None, token_salt=member_db.new_salt(),
                    created_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
        edition = EditionRow(
            number=1, title="Lettre n° 1", edito="Bonne lecture.", status="approved",
            period_start=NOW - timedelta(days=7), period_end=NOW, section_order=["ia"],
            created_at=NOW, created_by="test", version=1,
        )  # fmt: skip
        session.add(edition)
        session.flush()
        for position, key in enumerate(("ia", "loi")):
            article = session.get(ArticleRow, ids[key])
            assert article is not None
            session.add(
                EditionItemRow(
                    edition_id=edition.id, article_id=article.id, theme="ia",
                    position=position, title=article.title, url=article.url,
                    source_name=article.source.name, summary="Résumé.", comment="",
                    published_at=article.published_at,
                )
            )  # fmt: skip
    return ids


def item_links(message: EmailMessage) -> tuple[list[str], list[str]]:
    """The article links of a letter: text part (« Lire l’article : … ») and HTML part
    (the item titles' links)."""
    text = re.findall(r"Lire l’article : (\S+)", text_part(message))
    tree = lxml_html.fromstring(html_part(message))
    html = [str(a.get("href")) for a in tree.cssselect("p.item-title a")]
    return text, html


def editor_points(sessions: sessionmaker[Session], article_id: int) -> tuple[float, float]:
    """(the `editor` component's points, the points of all the others)."""
    with sessions() as session:
        row = session.get(ArticleRow, article_id)
        assert row is not None and row.score is not None
        points = {name: float(c["points"]) for name, c in row.score_components.items()}
        if row.score != round(sum(points.values()), 1):  # the fixture's own score: not a sum
            assert row.score_components["editor"]["value"] == 0.5
        return points.pop("editor"), round(sum(points.values()), 1)


@pytest.mark.postgres  # the counter's UPDATE … RETURNING and its first-click INSERT
def test_links_count_clicks_per_item_never_per_member(settings: Settings) -> None:
    settings = settings.model_copy(update={"secret_key": "clé de test assez longue pour signer"})
    with running_members_site(settings, clock=lambda: NOW) as site:
        ids = prepare(site.sessions)
        report = send_edition(site.sessions, site.settings, 1, actor="test", clock=lambda: NOW)
        assert report.sent == 2
        mails = site.wait_for_mail(2)
        with site.sessions() as session:
            items = {
                i.article_id: i
                for i in session.scalars(select(EditionItemRow).order_by(EditionItemRow.position))
            }
            urls = {i.id: i.url for i in items.values()}
        links = [item_links(m) for m in mails]
        text, html = links[0]
        assert len(text) == len(html) == 2
        assert all(link.startswith(site.base_url + "/r/") for link in text + html)
        assert text == html and links[1] == links[0]  # the same links for every member
        assert not any(url in text_part(m) + html_part(m) for m in mails for url in urls.values())

        ia_item = items[ids["ia"]]
        link = next(
            x
            for x in text
            if parse_token(site.settings.secret_key, x.split("/r/")[1]) == (1, ia_item.id)
        )
        before = editor_points(site.sessions, ids["ia"])
        with httpx.Client() as reader:  # a member's mail client: no desk cookie
            followed = reader.get(link)
            assert followed.status_code == 302
            assert followed.headers["location"] == ia_item.url
            assert followed.headers["cache-control"] == "no-store"
            assert not followed.cookies
            after_first = editor_points(site.sessions, ids["ia"])
            assert reader.get(link).status_code == 302  # a second reader, later
        after_second = editor_points(site.sessions, ids["ia"])
        with site.sessions() as session:
            counters = list(session.scalars(select(EditionClickRow)))
        assert [(c.item_id, c.clicks) for c in counters] == [(ia_item.id, 2)]
        assert set(EditionClickRow.__table__.columns.keys()) == {  # nothing about a reader
            "id", "edition_id", "item_id", "clicks"
        }  # fmt: skip
        # The source's value score moved on the first read, bounded by the component's 5
        # points: (0 kept + 1 read + 1) / (0 + 0 + 1 + 2) = 0.667 instead of 0.5.
        assert before[0] == 2.5 and after_first[0] == 3.3 and after_second == after_first
        assert after_first[1] == before[1]  # the other components untouched
        with site.sessions() as session:
            row = session.get(ArticleRow, ids["ia"])
            assert row is not None
            assert row.score == round(after_first[0] + after_first[1], 1)
            assert "1 article(s) lu(s) par les membres" in row.score_components["editor"]["why"]

        token = link.split("/r/")[1]
        forged = [
            token[:-1] + ("A" if token[-1] != "A" else "B"),  # altered signature
            token_for("une autre clé", 1, ia_item.id),  # signed by someone else
            token_for(site.settings.secret_key, 2, ia_item.id),  # no such edition
            token_for(site.settings.secret_key, 1, 999_999),  # no such item
            "1-1-https%3A%2F%2Fevil.example",
            "..%2F..%2Fdesk",
        ]
        for bad in forged:
            answer = site.client.get("/r/" + bad, follow_redirects=False)
            assert answer.status_code == 404, bad
            assert "location" not in answer.headers
        with site.sessions() as session:
            assert session.scalar(select(EditionClickRow.clicks)) == 2  # none of them counted

        env = {"VEILLE_DATABASE_URL": site.settings.database_url}
        status = runner.invoke(app, ["edition", "status", "1", "--json"], env=env)
        assert status.exit_code == 0, status.output
        assert json.loads(status.stdout)["clicks"] == {"total": 2, "items": {str(ia_item.id): 2}}
        as_text = runner.invoke(app, ["edition", "status", "1"], env=env)
        assert "Clics sur les articles : 2" in as_text.stdout

        log_in(site.client)
        suivi = doc(site.client.get("/desk/editions/1"))
        read = [li.text_content() for li in suivi.cssselect("ol.read-items li")]
        assert read[0].endswith(": 2 clics") and ia_item.title in read[0]
        assert read[1].endswith(": 0 clic")


def test_click_counts_off_sends_the_articles_own_links(settings: Settings) -> None:
    settings = settings.model_copy(
        update={"secret_key": "clé de test assez longue pour signer", "click_counts": False}
    )
    with running_members_site(settings, clock=lambda: NOW) as site:
        prepare(site.sessions)
        send_edition(site.sessions, site.settings, 1, actor="test", clock=lambda: NOW)
        with site.sessions() as session:
            items = list(session.scalars(select(EditionItemRow).order_by(EditionItemRow.position)))
        for message in site.wait_for_mail(2):
            text, html = item_links(message)
            assert text == html == [i.url for i in items]
        # A letter sent before the setting changed still leads to its article, uncounted.
        old = site.client.get(
            "/r/" + token_for(site.settings.secret_key, 1, items[0].id), follow_redirects=False
        )
        assert old.status_code == 302 and old.headers["location"] == items[0].url
        with site.sessions() as session:
            assert session.scalar(select(EditionClickRow.id)) is None
        log_in(site.client)
        suivi = doc(site.client.get("/desk/editions/1")).cssselect("#lectures + p")[0]
        assert "comptage des clics est désactivé" in suivi.text_content()


def test_what_members_read_is_worth_more_within_bounds() -> None:
    from veille.classify.score import READ_CAP, WEIGHTS, editor_component

    neutral, _ = editor_component(0, 0)
    read_once, why = editor_component(0, 0, 1)
    assert neutral == 0.5 and round(read_once, 3) == 0.667 and "1 article(s) lu(s)" in why
    # Capped: a source read a thousand times counts as READ_CAP « kept », no more.
    capped, _ = editor_component(0, 0, 1000)
    assert capped == (READ_CAP + 1) / (READ_CAP + 2) < 1
    # The delegate's discards still weigh: 10 discarded, 10 read → back to the middle.
    assert editor_component(0, 10, 10)[0] == 0.5
    assert WEIGHTS["editor"] == 5.0  # the whole component moves a score by 5 points at most


@pytest.mark.postgres
def test_concurrent_first_clicks_are_all_counted(sessions: sessionmaker[Session]) -> None:
    """Many readers opening the same new item at once: the first-click INSERT races, the
    losers fall back to the UPDATE, and no click is lost or doubled (row locks on
    PostgreSQL, the write lock on SQLite)."""
    prepare(sessions)
    with sessions() as session:
        item = session.scalars(select(EditionItemRow)).first()
        assert item is not None
        edition_id, item_id = item.edition_id, item.id
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                with transaction(sessions) as session:
                    click_db.count_click(session, edition_id, item_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as session:
        assert click_db.clicks_of(session, edition_id) == {item_id: 60}
