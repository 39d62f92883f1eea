"""loadhtml.load_html gives the tree trafilatura's load_html gives, for the same text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from trafilatura.utils import load_html as upstream

from veille.collect.extract import decode_html
from veille.collect.htmlbounds import bound_html
from veille.collect.loadhtml import load_html

PAGE = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Titre</title></head>'
    "<body><main><h1>Un titre</h1><p>Un paragraphe « accentué », avec des données.</p>"
    "<script>for (i=0;i<n;i++) {}</script></main></body></html>"
)
CASES = [
    PAGE,
    PAGE.replace("<p>Un", "\n<p>Un"),  # several lines
    PAGE.replace("données", "don\x00n\x07é\x1fes\ufffe\uffff"),  # characters XML forbids
    PAGE.replace("des", "d\x0be\x0cs\r\n"),
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x/y.dtd"><html><body><p>t</p></body>',
    "<!doctype html/><html><body><p>t</p></body></html>\n<p>suite</p>",
    '<html lang="fr"/>\n<body><p>texte</p></body>',  # a self-closing <html/> on the first lines
    '<?xml version="1.0" encoding="utf-8"?><html><body><p>t</p></body></html>',  # ValueError
    "<p>un fragment seul</p>",  # dubious: no html in the first characters
    "<div><p>un</p></div><div><p>deux</p></div>",
    "du texte sans balise",
    "",
    "   ",
    "<html></html>",
    "<html><body>" + "<div>" * 300 + "profond" + "</div>" * 300 + "</body></html>",
]


def _same(text: str) -> None:
    ours, theirs = load_html(text), upstream(text)
    assert (ours is None) == (theirs is None), text[:80]
    if ours is not None:
        assert etree.tostring(ours) == etree.tostring(theirs), text[:80]


@pytest.mark.parametrize("text", CASES)
def test_same_tree_as_trafilatura(text: str) -> None:
    _same(text)


def test_invalid_characters_are_removed_as_upstream_does() -> None:
    tree = load_html(CASES[2])
    assert tree is not None
    assert "données" in tree.text_content() and "\x00" not in tree.text_content()


@pytest.mark.slow
def test_same_tree_on_the_trafilatura_corpus(corpora: Path) -> None:
    """The 530 real pages as extraction gets them (decoded, nesting bounded)."""
    folder = corpora / "trafilatura"
    expected = folder / "expected.json"
    if not expected.is_file():
        pytest.skip(f"trafilatura corpus absent ({folder})")
    entries = json.loads(expected.read_text(encoding="utf-8"))["entries"]
    for entry in entries:
        _same(bound_html(decode_html((folder / entry["file"]).read_bytes())))
