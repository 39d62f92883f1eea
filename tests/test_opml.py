"""OPML import and export."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from veille.collect.opml import OpmlOutline, parse_opml, write_opml
from veille.errors import ParseError

DATA = Path(__file__).parent / "data" / "pages"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "feedvalidator" / "opml"


def test_parse_subscriptions_with_nested_folders_and_odd_case() -> None:
    outlines = parse_opml((DATA / "subscriptions.opml").read_bytes())
    assert outlines == [
        OpmlOutline(
            "Portail national",
            "https://portail.exemple.fr/feed.xml",
            "https://portail.exemple.fr/",
            "Open data",
        ),
        OpmlOutline("Région Nord", "https://nord.exemple.fr/rss", None, "Régions"),
        OpmlOutline("Sans dossier", "https://seul.exemple.eu/atom.xml", None, "IA publique"),
    ]


def test_round_trip() -> None:
    outlines = [
        OpmlOutline("Sans catégorie", "https://a.exemple.fr/feed", "https://a.exemple.fr/"),
        OpmlOutline("CNIL & co", "https://b.exemple.fr/rss?x=1&y=2", None, "Protection"),
        OpmlOutline("Données <ouvertes>", "https://c.exemple.fr/atom.xml", None, "Protection"),
        OpmlOutline("IA", "https://d.exemple.eu/feed.json", "https://d.exemple.eu/", "IA"),
    ]
    data = write_opml(outlines, title="veille — sources")
    assert data.startswith(b"<?xml")
    assert parse_opml(data) == outlines


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"<html><body>x</body></html>", b"\x00\xff garbage", b'{"opml": 1}'],
)
def test_non_opml_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_opml(body)
    assert str(info.value).endswith(".")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpora/feedvalidator/opml absent")
def test_feedvalidator_opml_files_never_raise_anything_else() -> None:
    files = sorted(CORPUS.rglob("*.opml"))
    assert len(files) > 30
    found = 0
    for path in files:
        with contextlib.suppress(ParseError):
            found += len(parse_opml(path.read_bytes()))
    assert found > 0  # the subscription lists among them yield feeds
