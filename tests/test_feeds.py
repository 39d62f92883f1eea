"""parse_feed on the project's own fixtures: shapes, fallbacks, hostile documents."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from veille.collect import fastfeed, feeds
from veille.collect.feeds import parse_feed
from veille.errors import ParseError

DATA = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_rss_fields_relative_links_and_missing_parts() -> None:
    data = _read("rss_relative.xml")
    assert fastfeed.read(data) is not None  # the fast path reads this shape
    feed = parse_feed(data, url="https://donnees.exemple.fr/blog/feed.xml", now=NOW)
    assert feed.format == "rss20"
    assert feed.title == "Observatoire des données & territoires"
    assert feed.link == "https://donnees.exemple.fr/blog/"
    assert feed.ttl_minutes == 90
    assert feed.warning is None
    first, by_guid, no_link, no_title = feed.entries
    assert first.link == "https://donnees.exemple.fr/blog/articles/socle-commun-2024"
    assert first.guid == "socle-42"
    assert first.title == "Le socle commun des données locales"
    assert first.published_at == datetime(2024, 5, 14, 7, 30, tzinfo=UTC)
    assert first.author == "Camille Martin"
    assert first.image == "https://donnees.exemple.fr/img/socle.jpg"
    assert first.language == "fr"
    assert first.content_html.startswith("<p>Le texte complet")
    assert first.summary_html == "<p>Un résumé.</p>"
    assert by_guid.link == "https://donnees.exemple.fr/blog/guid-permalien"
    assert by_guid.published_at == datetime(2024, 5, 13, 8, 0, tzinfo=UTC)
    assert by_guid.image == "https://donnees.exemple.fr/img/b.png"
    assert no_link.link is None and no_link.guid == "interne-7781"
    assert no_link.published_at is None  # 2099 is not news
    assert no_title.title == "" and no_title.link == "https://autre.exemple.org/billet-sans-titre"
    assert no_title.guid is None and no_title.published_at is None


def test_both_readers_agree_on_the_rss_fixture() -> None:
    data = _read("rss_relative.xml")
    url = "https://donnees.exemple.fr/blog/feed.xml"
    raw_fast = fastfeed.read(data)
    assert raw_fast is not None
    fast = feeds._finish(raw_fast, url=url, now=NOW)
    slow = feeds._finish(feeds._read_with_feedparser(data, None), url=url, now=NOW)
    assert fast.entries == slow.entries
    assert (fast.title, fast.link, fast.ttl_minutes) == (slow.title, slow.link, slow.ttl_minutes)


def test_atom_with_xml_base_goes_through_feedparser() -> None:
    data = _read("atom_base.xml")
    assert fastfeed.read(data) is None  # xml:base: feedparser resolves it
    feed = parse_feed(data, url="https://ia.exemple.eu/journal/atom.xml", now=NOW)
    assert feed.format == "atom10"
    assert feed.title == "Journal de l'IA publique"
    registre, maj = feed.entries
    assert registre.link == "https://ia.exemple.eu/journal/billets/registre-algorithmes"
    assert registre.title == "Algorithmes publics : un registre"
    assert registre.published_at == datetime(2024, 5, 9, 8, 15, tzinfo=UTC)
    assert registre.updated_at == datetime(2024, 5, 10, 7, 0, tzinfo=UTC)
    assert registre.author == "Équipe IA"
    assert registre.language == "en"
    assert registre.summary_html == "Résumé en texte &lt;brut&gt;"
    assert "<strong>riche</strong>" in registre.content_html
    assert maj.published_at == datetime(2024, 5, 8, 6, 0, tzinfo=UTC)  # updated stands in
    assert maj.image == "https://ia.exemple.eu/img/maj.jpg"
    assert maj.language == "fr"


def test_atom_fast_path_resolves_against_the_feed_link() -> None:
    data = _read("atom_plain.xml")
    assert fastfeed.read(data) is not None
    feed = parse_feed(data, url="https://data.exemple.eu/feed.atom", now=NOW)
    (entry,) = feed.entries
    assert entry.link == "https://data.exemple.eu/actualites/2024/jeux-forte-valeur"
    assert entry.published_at == datetime(2024, 5, 9, 8, 15, tzinfo=UTC)
    assert entry.content_html == "<p>Le règlement d'exécution…</p>"


def test_rdf() -> None:
    feed = parse_feed(_read("rdf.xml"), url="https://recherche.exemple.fr/rss", now=NOW)
    assert feed.format == "rss10"
    (entry,) = feed.entries
    assert entry.link == entry.guid == "https://recherche.exemple.fr/pub/2024-communs-numeriques"
    assert entry.published_at == datetime(2024, 4, 30, tzinfo=UTC)
    assert entry.author == "L. Bernard" and entry.language == "fr"


def test_illformed_feed_yields_readable_entries_and_a_warning() -> None:
    feed = parse_feed(_read("illformed.xml"), url="https://collectivite.exemple.fr/rss", now=NOW)
    assert feed.warning and len(feed.warning) <= 200
    assert feed.entries[0].link == "https://collectivite.exemple.fr/actu/premier-article"
    assert feed.entries[0].published_at == datetime(2024, 5, 8, 10, 0, tzinfo=UTC)
    links = {e.link for e in feed.entries}
    assert "https://collectivite.exemple.fr/actu/second-article" in links


def test_json_feed() -> None:
    feed = parse_feed(_read("feed.json"), url="https://carnet.exemple.fr/feed.json", now=NOW)
    assert feed.format == "json11"
    assert feed.title == "Carnet de la donnée"
    assert feed.link == "https://carnet.exemple.fr/"
    sante, note = feed.entries  # the item that is not an object is skipped
    assert sante.link == "https://carnet.exemple.fr/2024/05/ouverture-des-donnees-de-sante"
    assert sante.published_at == datetime(2024, 5, 7, 7, 0, tzinfo=UTC)
    assert sante.updated_at == datetime(2024, 5, 7, 10, 0, tzinfo=UTC)
    assert sante.author == "Carnet" and sante.language == "fr-FR"
    assert sante.content_html == "<p>Texte <em>HTML</em>.</p>"
    assert sante.image == "https://carnet.exemple.fr/img/sante.jpg"
    assert note.link is None and note.guid == "note-12"
    assert note.content_html == "<p>Une note sans titre ni lien.</p>"
    assert note.author == "Alex" and note.language == "en"


def test_charset_from_content_type_is_honoured() -> None:
    data = (
        '<rss version="2.0"><channel><title>Données publiques</title>'
        "<item><title>Été</title><link>https://ex.fr/ete-2024</link></item></channel></rss>"
    ).encode("iso-8859-1")
    feed = parse_feed(data, url="https://ex.fr/rss", content_type="text/xml; charset=iso-8859-1")
    assert feed.title == "Données publiques"
    assert feed.entries[0].title == "Été"


def test_fast_path_steps_aside_for_a_doctype_with_a_safe_entity() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY copie "&#169;">\n]>\n'
        b'<rss version="2.0"><channel><title>&copie; Ville</title>'
        b"<item><title>a</title><link>https://ville.exemple.fr/a-1</link></item></channel></rss>"
    )
    assert fastfeed.read(data) is None
    feed = parse_feed(data, url="https://ville.exemple.fr/rss")
    assert feed.title == "© Ville"
    assert feed.entries[0].link == "https://ville.exemple.fr/a-1"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"  \n ",
        b"\x00\x01\x02 not a feed at all \xff\xfe",
        b"<!DOCTYPE html><html><head><title>Accueil</title></head><body>x</body></html>",
        b"<html><body><p>Hello</p></body></html>",
        b'{"name": "not a feed"}',
        b'{"version": ',
        b"[1, 2, 3]",
        b"<?xml version='1.0'?><kml xmlns='http://www.opengis.net/kml/2.2'><Placemark/></kml>",
    ],
)
def test_non_feeds_raise_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_feed(body, url="https://ex.fr/feed")
    assert str(info.value).endswith(".")


def test_valid_empty_feed_is_not_an_error() -> None:
    data = b'<rss version="2.0"><channel><title>Vide</title></channel></rss>'
    feed = parse_feed(data, url="https://ex.fr/feed")
    assert feed.entries == () and feed.title == "Vide"


def _peak_mib(data: bytes) -> tuple[float, feeds.ParsedFeed]:
    tracemalloc.start()
    try:
        feed = parse_feed(data, url="https://ex.fr/feed")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20, feed


def test_billion_laughs_stays_small() -> None:
    decls = '<!ENTITY lol0 "lol">\n' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">\n' for i in range(1, 10)
    )
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n{decls}]>\n<rss version="2.0"><channel>'
        "<title>&lol9;</title><item><title>&lol9;</title><link>https://ex.fr/a-1</link>"
        "</item></channel></rss>"
    ).encode()
    peak, feed = _peak_mib(data)
    assert peak < 20
    assert len(feed.entries[0].title) < 100


def test_quadratic_entity_expansion_is_defused() -> None:
    # 60 KB that feedparser alone would expand to 4 MB of title (880 MB of RSS for 3 MB).
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "{"x" * 200}">\n]>\n'
        '<rss version="2.0"><channel><title>t</title><item><title>'
        + "&a;" * 20_000
        + "</title><link>https://ex.fr/a-1</link></item></channel></rss>"
    ).encode()
    assert len(feeds.defuse_entities(data)) < len(data)
    peak, feed = _peak_mib(data)
    assert peak < 60
    assert len(feed.entries[0].title) <= feeds.MAX_TITLE


def test_every_exception_becomes_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_feed(
            b'\xef\xbb\xbf{"version": "https://jsonfeed.org/version/1", "items": 5}\xff',
            url="https://ex.fr/f",
        )


# --- plain absolute links and images: the fast paths read what the general ones read ----

_LINKS = [
    "http://exemple.fr/a/b.html",
    "https://exemple.fr:8443/a/b?utm_source=rss&x=1#haut",
    "https://user:pw@exemple.fr/a/b?q?r#f?g#h",
    "http://exemple.fr",
    "http://exemple.fr/a/b?",  # empty query: urlunsplit drops the `?`
    "http://exemple.fr/a/b#",  # empty fragment: dropped too
    "http://exemple.fr/a/b?#f",
    "http://exemple.fr/a;b/c;d",  # path parameters
    "HTTP://exemple.fr/a",  # the scheme is lowercased
    "http://exemple.fr/a\tb",  # urlsplit removes tabs and newlines
    "http://[::1/a",  # an unclosed bracket: urlsplit refuses it
    "http://[::1]:8080/a",
    "http:///a",
    "http://",
    "ftp://exemple.fr/a",
    "javascript:alert(1)",
    "//exemple.fr/a",
    "/a/b",
    "a/b?c",
    "http://exemple.fr/é",
]


@pytest.mark.parametrize("link", _LINKS)
@pytest.mark.parametrize("base", ["https://exemple.fr/flux.xml", "http://exemple.fr/", ""])
def test_absolute_links_read_as_urljoin_and_urlsplit_read_them(link: str, base: str) -> None:
    try:
        joined: str | None = feeds.urljoin(base, link)
    except ValueError:
        joined = None
    try:
        parts = feeds.urlsplit(joined) if joined is not None else None
    except ValueError:
        parts = None
    web = parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)
    assert feeds._absolute(link, base) == (joined if web else None)
    try:
        own = feeds.urlsplit(link)
        link_web = own.scheme in ("http", "https") and bool(own.netloc)
    except ValueError:
        link_web = False
    assert feeds._is_web_url(link) is link_web


def test_plain_absolute_links_are_kept_without_urljoin(monkeypatch: pytest.MonkeyPatch) -> None:
    """~25,000 entry links a first cycle: the plain absolute ones skip urljoin's parse."""

    def refuse(base: str, link: str) -> str:
        raise AssertionError(f"urljoin called for {link}")

    monkeypatch.setattr(feeds, "urljoin", refuse)
    data = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        b"<link>https://exemple.fr/</link>"
        b"<item><title>Un</title><link>https://exemple.fr/a/un.html?utm_source=rss</link>"
        b'<enclosure url="https://exemple.fr/img/un.jpg" type="image/jpeg"/></item>'
        b"<item><title>Deux</title><guid>https://exemple.fr/a/deux.html</guid></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(data, url="https://exemple.fr/flux.xml", now=NOW)
    assert feed.link == "https://exemple.fr/"
    one, two = feed.entries
    assert one.link == "https://exemple.fr/a/un.html?utm_source=rss"
    assert one.image == "https://exemple.fr/img/un.jpg"
    assert two.link == "https://exemple.fr/a/deux.html"


def test_entry_image_in_order_of_preference() -> None:
    """media:thumbnail child (the first only), media:content anywhere below, an image
    enclosure, an atom:link enclosure: `_image` reads them in one pass, in that order."""
    head = (
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>'
    )
    items = {
        # a first thumbnail without URL hides a second one; media:content in a group wins
        '<media:thumbnail/><media:thumbnail url="https://e.fr/t2.jpg"/>'
        '<enclosure url="https://e.fr/e.jpg" type="image/jpeg"/>'
        '<media:group><media:content url="https://e.fr/v.mp4" type="video/mp4"/>'
        '<media:content url="https://e.fr/m.jpg" medium="image"/></media:group>': "https://e.fr/m.jpg",
        # the thumbnail child comes first whatever the document order
        '<enclosure url="https://e.fr/e.jpg" type="image/jpeg"/>'
        '<media:thumbnail url="https://e.fr/t.jpg"/>': "https://e.fr/t.jpg",
        # an enclosure below another element is not the item's; a later image one is
        '<source url="https://e.fr/">S</source><enclosure url="https://e.fr/a.mp3" '
        'type="audio/mpeg"/><enclosure url="https://e.fr/e2.png" type="image/png"/>'
        '<atom:link rel="enclosure" type="image/png" href="https://e.fr/l.png"/>': "https://e.fr/e2.png",
        # the first image atom:link decides, even without href
        '<atom:link rel="enclosure" type="image/png"/>'
        '<atom:link rel="enclosure" type="image/png" href="https://e.fr/l2.png"/>': None,
        '<atom:link rel="enclosure" type="image/png" href="https://e.fr/l.png"/>': "https://e.fr/l.png",
        "": None,
    }
    for body, image in items.items():
        data = f"{head}<item><title>Un</title>{body}</item></channel></rss>"
        item = etree.fromstring(data.encode()).find("channel/item")
        assert fastfeed._image(item) == image, body
    data = f"{head}<item><title>Un</title><link>https://e.fr/1</link>{next(iter(items))}</item>"
    raw = fastfeed.read(f"{data}</channel></rss>".encode())
    assert raw is not None and raw["entries"][0]["image"] == "https://e.fr/m.jpg"
