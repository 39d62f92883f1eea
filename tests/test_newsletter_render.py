"""Rendering an edition: the member's sections only, their own links, the list headers, valid
MIME, inlined CSS, hostile content made inert, French dates, DKIM; and the web version
(`/editions`, `/editions/{n}`, `/feeds/editions.atom`) over a real uvicorn server."""

from __future__ import annotations

import quopri
import random
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, populate, serve
from tests.smtp_server import SmtpTestServer
from veille.config import Settings, get_settings
from veille.db.tables import EditionItemRow, EditionRow
from veille.mail import SmtpSender, build_message, parse_transport
from veille.mail.verp import Token, find_tokens
from veille.newsletter import editions as newsletter_editions
from veille.newsletter.message import message_bytes, qp_piece
from veille.newsletter.render import (
    EditionView,
    Renderer,
    edition_message,
    edition_view,
    message_id_for,
    render_for,
    sign_message,
    view_of,
)
from veille.sources import DEFAULT_THEME_LABELS

BASE = "https://veille.opendatafrance.example"
EVIL_TITLE = '<script>alert("titre")</script>Open data <img src=x onerror="alert(2)"> à Lyon'
EVIL_EDITO = (
    "Cette semaine, **trois sujets** !\n\n"
    "Lisez <script>alert(1)</script> <img src=x onerror=alert(2)> "
    "[piège](javascript:alert(3)) et [le site](https://opendatafrance.example/)\n\n"
    "- premier point\n- second point"
)


@dataclass(frozen=True)
class Links:
    preferences: str
    unsubscribe: str


LINKS = Links(
    preferences=f"{BASE}/preferences/tok.abc?a=1&b=2",
    unsubscribe=f"{BASE}/unsubscribe/" + "t" * 90,
)


def mail_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "base_url": BASE,
        "mail_from": "veille@opendatafrance.example",
        "newsletter_name": "Veille données publiques",
        "secret_key": "un secret de test",
    }
    values.update(overrides)
    return get_settings(**values)


def item(n: int, theme: str, **fields: Any) -> EditionItemRow:
    values: dict[str, Any] = {
        "id": n,
        "edition_id": 1,
        "article_id": n,
        "theme": theme,
        "position": n,
        "title": f"Article {n} : les données de la commune",
        "url": f"https://gazette.example.fr/articles/{n}",
        "source_name": "La Gazette numérique",
        "summary": f"Résumé de l'article {n}, en deux phrases. La seconde phrase.",
        "comment": "",
        "published_at": datetime(2026, 11, 22, 10, 0, tzinfo=UTC) - timedelta(days=n % 5),
    }
    values.update(fields)
    return EditionItemRow(**values)


def edition_row(**fields: Any) -> EditionRow:
    values: dict[str, Any] = {
        "id": 1,
        "number": 7,
        "title": "Lettre de veille n° 7 — semaine du 17 novembre 2026",
        "edito": "Cette semaine, **trois sujets** ! Lisez [le programme](https://example.org/p).",
        "status": "sent",
        "period_start": datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
        "period_end": datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        "section_order": ["ia", "open_data", "donnees_interet_general"],
        "sent_at": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    }
    values.update(fields)
    return EditionRow(**values)


def sample_view(**edition_fields: Any) -> EditionView:
    """Items in open_data and ia, none in donnees_interet_general."""
    items = [item(1, "open_data", comment="À lire absolument.\nSurtout la fin."), item(2, "ia")]
    items += [item(n, "open_data") for n in range(3, 6)]
    return view_of(edition_row(**edition_fields), items, DEFAULT_THEME_LABELS)


def section_titles(html: str) -> list[str]:
    return [h.text_content().strip() for h in lxml_html.fromstring(html).iter("h2")]


def assert_inert(doc: Any) -> None:
    """No script element, no event handler, no script link anywhere in the document."""
    assert not list(doc.iter("script"))
    for element in doc.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            assert "javascript:" not in value.lower(), (element.tag, value)
            assert "alert" not in value, (element.tag, value)


def parse(msg: EmailMessage) -> EmailMessage:
    back = message_from_bytes(msg.as_bytes(), policy=default)
    assert isinstance(back, EmailMessage)
    return back


# ----------------------------------------------------------------- personalisation


def test_only_the_members_sections_in_the_edition_order() -> None:
    renderer = Renderer(sample_view(), mail_settings())
    both = renderer.render(("open_data", "ia", "donnees_interet_general"), LINKS, "Zoé")
    assert both is not None
    # section_order puts ia first; the empty donnees_interet_general section is absent
    assert section_titles(both.html) == ["Intelligence artificielle", "Open data"]
    assert "Données d'intérêt général" not in both.text.split("--")[0]
    only_ia = renderer.render(["ia"], LINKS, "Zoé")
    assert only_ia is not None
    assert section_titles(only_ia.html) == ["Intelligence artificielle"]
    assert "Article 2 " in only_ia.text and "Article 1 " not in only_ia.text
    assert "Article 1 " not in only_ia.html
    assert "pour les thèmes : Intelligence artificielle." in only_ia.text


def test_a_member_with_no_matching_item_gets_no_mail() -> None:
    renderer = Renderer(sample_view(), mail_settings())
    assert renderer.render(("donnees_interet_general",), LINKS, "Zoé") is None
    assert renderer.render((), LINKS, "Zoé") is None
    assert render_for(sample_view(), ["ia"], LINKS, "", mail_settings()) is not None


def test_member_values_are_substituted_and_escaped() -> None:
    renderer = Renderer(sample_view(), mail_settings())
    zoe = renderer.render(("open_data",), LINKS, "<b>Zoé</b>")
    other = renderer.render(
        ("open_data",), Links(f"{BASE}/preferences/autre", f"{BASE}/unsubscribe/autre"), ""
    )
    assert zoe is not None and other is not None
    assert "Bonjour &lt;b&gt;Zoé&lt;/b&gt;," in zoe.html and "<b>Zoé" not in zoe.html
    assert "Bonjour <b>Zoé</b>," in zoe.text  # text is not HTML: written as is
    doc = lxml_html.fromstring(zoe.html)
    hrefs = {a.text_content().strip(): a.get("href") for a in doc.iter("a")}
    assert hrefs["Gérer mes préférences"] == LINKS.preferences  # &amp; decoded by the parser
    assert hrefs["Se désabonner"] == LINKS.unsubscribe
    assert hrefs["Voir dans le navigateur"] == f"{BASE}/editions/7"
    assert "tok.abc?a=1&amp;b=2" in zoe.html
    assert f"Gérer mes préférences : {LINKS.preferences}" in zoe.text
    assert f"Se désabonner : {LINKS.unsubscribe}" in zoe.text
    # the cached theme set serves the next member with their own values, no leftovers
    assert "Bonjour," in other.text and "Zoé" not in other.text + other.html
    assert f"{BASE}/unsubscribe/autre" in other.html and LINKS.unsubscribe not in other.html
    for mail in (zoe, other):
        assert "veillename" not in mail.html + mail.text
        assert "veillepreferences" not in mail.html + mail.text
        assert "veilleunsubscribe" not in mail.html + mail.text


def test_layout_header_footer_and_inlined_css() -> None:
    mail = Renderer(sample_view(), mail_settings()).render(("open_data", "ia"), LINKS, "Zoé")
    assert mail is not None
    doc = lxml_html.fromstring(mail.html)
    sheet = doc.xpath("//table[@width='600']")
    assert sheet, "600px table layout"
    assert not doc.xpath("//*[contains(@style, 'flex') or contains(@style, 'grid')]")
    assert "Voir dans le navigateur" in doc.xpath("//td[@class='top']")[0].text_content()
    h1 = doc.xpath("//h1")[0]
    assert "font-size" in h1.get("style", "")
    comment = doc.xpath("//td[@class='comment']")
    assert len(comment) == 1 and "border-left" in comment[0].get("style", "")
    assert "Notre regard" in comment[0].text_content()
    assert "Surtout la fin." in comment[0].text_content()
    # only the @media rules stay in a <style>: dark mode for the clients that honour it
    styles = [s.text or "" for s in doc.iter("style")]
    assert styles and all("@media" in s for s in styles)
    assert "prefers-color-scheme: dark" in "".join(styles) and ".comment" in "".join(styles)
    assert all(img.get("alt") is not None for img in doc.iter("img"))
    foot = doc.xpath("//td[@class='foot']")[0].text_content()
    assert "Vous recevez cette lettre car vous êtes abonné(e) à « Veille données publiques »" in (
        foot
    )
    assert "Open data, Intelligence artificielle" in foot
    # the text alternative writes the URLs out
    assert "Voir dans le navigateur : https://veille.opendatafrance.example/editions/7" in mail.text
    assert "Lire l’article : https://gazette.example.fr/articles/1" in mail.text
    assert "le programme (https://example.org/p)" in mail.text
    assert "> Notre regard : À lire absolument.\n  > Surtout la fin." in mail.text


def test_french_dates() -> None:
    view = sample_view()
    assert view.period == "du 16 au 23 novembre 2026"
    assert view.sent_date == "lundi 23 novembre 2026"
    assert view.sections[1].items[0].date == "21 novembre 2026"  # item 1, open_data
    first = sample_view(
        period_start=datetime(2026, 10, 31, 23, 30, tzinfo=UTC),  # 1 November in Paris
        period_end=datetime(2026, 11, 7, 9, 0, tzinfo=UTC),
    )
    assert first.period == "du 1er au 7 novembre 2026"
    across = sample_view(
        period_start=datetime(2026, 12, 28, 9, 0, tzinfo=UTC),
        period_end=datetime(2027, 1, 4, 9, 0, tzinfo=UTC),
    )
    assert across.period == "du 28 décembre 2026 au 4 janvier 2027"
    mail = Renderer(view, mail_settings()).render(("open_data",), LINKS, "")
    assert mail is not None
    assert "du 16 au 23 novembre 2026" in mail.html and "21 novembre 2026" in mail.text


def test_hostile_content_never_reaches_a_mail_unsanitised() -> None:
    items = [
        item(1, "open_data", title=EVIL_TITLE, url="javascript:alert(4)"),
        item(
            2,
            "open_data",
            summary='<img src=x onerror="alert(5)"> Résumé <b onclick="alert(6)">piégé</b>',
            comment='<a href="javascript:alert(7)">clic</a> &lt;script&gt;alert(8)&lt;/script&gt;',
            source_name="<script>alert(9)</script>Source",
        ),
        item(3, "open_data", url='https://ok.example/"><script>alert(10)</script>'),
    ]
    view = view_of(edition_row(edito=EVIL_EDITO), items, DEFAULT_THEME_LABELS)
    mail = Renderer(view, mail_settings()).render(("open_data",), LINKS, "Zoé")
    assert mail is not None
    doc = lxml_html.fromstring(mail.html)
    assert_inert(doc)
    assert "<script" not in mail.html.lower() and "onerror" not in mail.html
    assert "Open data à Lyon" in doc.text_content()  # the text survives, the markup does not
    assert "Résumé piégé" in doc.text_content()
    assert "le site" in doc.text_content() and "premier point" in doc.text_content()
    # the text part carries no markup or script link either
    for needle in ("<script", "onerror", "onclick", "javascript:alert(4)", "javascript:alert(7)"):
        assert needle not in mail.text, needle
    assert "Open data à Lyon" in mail.text and "le site (https://opendatafrance.example/)" in (
        mail.text
    )
    assert "Article 3" in mail.text and "https://ok.example" not in mail.text


# ----------------------------------------------------------------- the message


def member_message(
    settings: Settings, *, name: str = "Zoé Lefèvre", member_id: int = 42
) -> tuple[EmailMessage, Any]:
    mail = Renderer(sample_view(), settings).render(("open_data", "ia"), LINKS, name)
    assert mail is not None
    msg = edition_message(settings, mail, "zoe@example.org", name, 7, member_id, LINKS)
    return msg, mail


def test_list_headers_and_deterministic_message_id() -> None:
    settings = mail_settings()
    msg, _ = member_message(settings)
    back = parse(msg)
    # The mailto is the VERP unsubscribe address of this edition and member (veille.bounces).
    web, mailto = back["List-Unsubscribe"].split(", ")
    assert web == f"<{LINKS.unsubscribe}>"
    assert re.fullmatch(
        r"<mailto:bounces\+u7m42-[0-9a-f]{16}@opendatafrance\.example\?subject=unsubscribe>",
        mailto,
    )
    assert find_tokens(settings, mailto.replace("?", " ")) == [Token("u", 7, 42)]
    assert back["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert back["List-Id"] == (
        "Veille données publiques <veille-donnees-publiques.veille.opendatafrance.example>"
    )
    assert back["Subject"] == "Lettre de veille n° 7 — semaine du 17 novembre 2026"
    assert back["To"].addresses[0].display_name == "Zoé Lefèvre"
    assert back["To"].addresses[0].addr_spec == "zoe@example.org"
    assert back["From"].addresses[0].addr_spec == "veille@opendatafrance.example"
    assert back["Date"].datetime.tzinfo is not None
    message_id = back["Message-ID"]
    assert message_id.startswith("<edition-7.member-42.")
    assert message_id.endswith("@opendatafrance.example>")
    again, _ = member_message(settings)
    assert parse(again)["Message-ID"] == message_id  # a resend carries the same id
    assert message_id_for(settings, 7, 42) == message_id
    assert message_id_for(settings, 7, 43) != message_id
    assert message_id_for(settings, 8, 42) != message_id
    assert message_id_for(mail_settings(secret_key="autre"), 7, 42) != message_id
    # the long unsubscribe URL stays one plain URL (the email package would encode it)
    assert b"=?utf-8?q?=3Chttps" not in msg.as_bytes()


def test_build_message_accepts_a_fixed_message_id() -> None:
    fixed = "<edition-1.member-1.abc@opendatafrance.example>"
    msg = build_message(
        sender="veille@opendatafrance.example",
        to="zoe@example.org",
        subject="Essai",
        text="Bonjour",
        message_id=fixed,
    )
    assert msg["Message-ID"] == fixed


@pytest.mark.parametrize("name", ["Zoé Lefèvre", "<b>Zoé</b>", 'Jean "Jo" Dupont', ""])
def test_valid_mime_multipart_alternative_in_utf8(name: str) -> None:
    msg, mail = member_message(mail_settings(), name=name)
    raw = msg.as_bytes()
    assert raw.isascii()
    back = parse(msg)
    assert not back.defects
    assert back.get_content_type() == "multipart/alternative"
    parts = list(back.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part, body in zip(parts, (mail.text, mail.html), strict=True):
        assert not part.defects
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert part.get_content().rstrip("\n") == body.rstrip("\n")
    assert back["To"].addresses[0].display_name == name
    body_lines = raw.split(b"\n\n", 1)[1].split(b"\n")
    assert max(len(line) for line in body_lines) <= 76
    assert max(len(line) for line in raw.split(b"\n")) <= 998


def test_fast_bytes_are_the_generators_bytes(dkim_key: tuple[Path, bytes]) -> None:
    key, _ = dkim_key
    plain_settings = mail_settings()
    signing = mail_settings(dkim_private_key_file=key, dkim_selector="lettre")
    for name in ("Zoé Lefèvre", 'Jean "Jo" Dupont', "", "x" * 120):
        msg, _ = member_message(plain_settings, name=name)
        assert message_bytes(msg) == msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
        assert message_bytes(msg, "\n") == msg.as_bytes()
        signed = sign_message(member_message(signing, name=name)[0], signing)
        assert message_bytes(signed) == signed.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    other = build_message(sender="a@example.org", to="b@example.org", subject="é", text="t")
    assert message_bytes(other, "\n") == other.as_bytes()  # not ours: the generator


def test_encoded_pieces_join_into_valid_quoted_printable() -> None:
    rng = random.Random(6)
    alphabet = 'aé =\n.\t€x<>"\u00a0'
    for _ in range(3000):
        pieces = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 160)))
            for _ in range(rng.randint(1, 5))
        ]
        encoded = "".join(qp_piece(p, last=False) for p in pieces[:-1]) + qp_piece(pieces[-1])
        assert max(len(line) for line in encoded.split("\n")) <= 76, encoded
        decoded = quopri.decodestring(encoded.encode("ascii")).decode("utf-8")
        assert decoded.rstrip("\n") == "".join(pieces).rstrip("\n")


def test_the_message_goes_through_a_real_smtp_server() -> None:
    settings = mail_settings()
    msg, _ = member_message(settings)
    with SmtpTestServer() as server:
        sender = SmtpSender(parse_transport(server.url))
        try:
            sender.send(msg)
        finally:
            sender.close()
        (received,) = server.messages
    assert received.rcpt_tos == ("zoe@example.org",)
    html = received.message.get_body(("html",))
    assert html is not None and "Se désabonner" in html.get_content()
    assert received.message["Message-ID"] == msg["Message-ID"]


def test_renders_quickly() -> None:
    view = view_of(
        edition_row(),
        [item(n, ("open_data", "ia", "donnees_interet_general")[n % 3]) for n in range(1, 31)],
        DEFAULT_THEME_LABELS,
    )
    settings = mail_settings()
    renderer = Renderer(view, settings)
    sets = [("open_data",), ("ia", "open_data"), ("donnees_interet_general", "ia", "open_data")]
    started = time.perf_counter()
    for n in range(1000):
        links = Links(f"{BASE}/preferences/{n}", f"{BASE}/unsubscribe/{n}")
        mail = renderer.render(sets[n % 3], links, f"Membre {n}")
        assert mail is not None
        edition_message(settings, mail, f"m{n}@example.org", f"Membre {n}", 7, n, links)
    # measured ~0.25 s; 10 s would mean theme sets are rendered again per member
    assert time.perf_counter() - started < 10


# ----------------------------------------------------------------- DKIM


@pytest.fixture
def dkim_key(tmp_path: Path) -> tuple[Path, bytes]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    import base64

    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_dkim_signature_verifies_and_covers_the_list_headers(
    dkim_key: tuple[Path, bytes],
) -> None:
    import dkim

    key, record = dkim_key
    settings = mail_settings(dkim_private_key_file=key, dkim_selector="lettre")
    msg, _ = member_message(settings)
    signed = sign_message(msg, settings)
    raw = signed.as_bytes()
    assert raw.startswith(b"DKIM-Signature:")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"lettre._domainkey.opendatafrance.example."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    signature = parse(signed)["DKIM-Signature"]
    covered = signature.split("h=")[1].split(";")[0].replace(" ", "").lower().split(":")
    for header in ("from", "to", "subject", "date", "message-id", "list-id"):
        assert header in covered
    assert {"list-unsubscribe", "list-unsubscribe-post"} <= set(covered)
    tampered = raw.replace(b"/unsubscribe/ttt", b"/unsubscribe/xxx", 1)
    assert tampered != raw and not dkim.verify(tampered, dnsfunc=dns)
    # and it still verifies after a real SMTP hop
    with SmtpTestServer() as server:
        sender = SmtpSender(parse_transport(server.url))
        try:
            sender.send(signed)
        finally:
            sender.close()
        (received,) = server.messages
    assert dkim.verify(received.raw, dnsfunc=dns)


def test_no_dkim_settings_no_signature() -> None:
    settings = mail_settings()
    msg, _ = member_message(settings)
    assert "DKIM-Signature" not in sign_message(msg, settings)


# ----------------------------------------------------------------- the web version


def store_edition(
    session: Session, number: int, status: str, items: list[dict[str, Any]], **fields: Any
) -> EditionRow:
    edition = edition_row(number=number, status=status, **fields)
    edition.id = None  # type: ignore[assignment]
    session.add(edition)
    session.flush()
    for position, values in enumerate(items):
        session.add(
            EditionItemRow(
                edition_id=edition.id,
                article_id=values.get("article_id"),
                theme=values["theme"],
                position=position,
                title=values["title"],
                url=values.get("url", f"https://exemple.fr/{number}/{position}"),
                source_name="Le Courrier des territoires",
                summary=values.get("summary", "Un résumé."),
                comment=values.get("comment", ""),
                published_at=NOW - timedelta(days=1),
            )
        )
    return edition


@pytest.fixture
def web(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[str]:
    from veille.web.app import create_app

    populate(sessions)
    with sessions() as session, session.begin():
        store_edition(
            session,
            1,
            "sent",
            [{"theme": "open_data", "title": "Première lettre, premier article"}],
            title="Lettre de veille n° 1",
            sent_at=NOW - timedelta(days=7),
        )
        store_edition(
            session,
            2,
            "sent",
            [
                {"theme": "ia", "title": EVIL_TITLE, "comment": "Très <b>utile</b>"},
                {"theme": "open_data", "title": "Lyon ouvre ses données", "url": "javascript:x"},
            ],
            title="Lettre de veille n° 2",
            edito=EVIL_EDITO,
            sent_at=NOW,
        )
        draft = newsletter_editions.create_draft(session, now=NOW, actor="test")
        assert draft.number == 3 and draft.status == "draft"
    app = create_app(settings, clock=lambda: NOW)
    with serve(app) as base_url:
        yield base_url


def test_edition_list_and_page(web: str) -> None:
    response = httpx.get(f"{web}/editions", timeout=10)
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.content)
    titles = [a.text_content() for a in doc.xpath("//ul[@class='editions']//h2/a")]
    assert titles == ["Lettre de veille n° 2", "Lettre de veille n° 1"]  # sent only, newest first
    assert "lundi 23 novembre 2026" in doc.text_content()
    assert doc.xpath("//link[@type='application/atom+xml']/@href") == ["/feeds/editions.atom"]

    page = httpx.get(f"{web}/editions/2", timeout=10)
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.content)
    assert doc.xpath("//h1")[0].text_content() == "Lettre de veille n° 2"
    sections = [h.text_content() for h in doc.xpath("//article//h2")]
    assert sections == ["Intelligence artificielle", "Open data"]  # every section
    assert "du 16 au 23 novembre 2026" in doc.text_content()
    assert "Très utile" in doc.text_content()
    assert_inert(doc)


def test_unsent_and_unknown_editions_answer_a_french_404(web: str) -> None:
    for path in ("/editions/3", "/editions/99", "/editions/abc"):
        response = httpx.get(web + path, timeout=10)
        assert response.status_code == 404, path
        assert "Page introuvable" in response.text


def test_editions_atom_feed(web: str) -> None:
    response = httpx.get(f"{web}/feeds/editions.atom", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.title for e in feed.entries] == ["Lettre de veille n° 2", "Lettre de veille n° 1"]
    ids = [e.id for e in feed.entries]
    assert ids == ["tag:127.0.0.1,2026:edition:2", "tag:127.0.0.1,2026:edition:1"]
    assert feed.entries[0].link == "http://127.0.0.1:8000/editions/2"
    assert feed.feed.updated_parsed is not None and feed.entries[0].updated_parsed is not None
    content = feed.entries[0].content[0].value
    assert "Lyon ouvre ses données" in content and "le site" in content
    assert_inert(lxml_html.fromstring(content))
    again = feedparser.parse(httpx.get(f"{web}/feeds/editions.atom", timeout=10).content)
    assert [e.id for e in again.entries] == ids


def test_edition_view_from_the_database(sessions: sessionmaker[Session]) -> None:
    populate(sessions)
    with sessions() as session, session.begin():
        draft = newsletter_editions.create_draft(session, now=NOW, actor="test")
        view = edition_view(session, draft, DEFAULT_THEME_LABELS)
    assert view.number == 1 and view.sections
    assert all(section.items for section in view.sections)
    hostile = [i for s in view.sections for i in s.items if "Piège" in i.title]
    for entry in hostile:
        assert "<" not in entry.title and "onerror" not in entry.summary
