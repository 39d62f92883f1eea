"""URL canonicalisation, site comparison, HTML sanitising, text and fingerprints."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from veille.collect.clean import html_to_text, sanitize_html
from veille.text.fingerprint import content_fingerprint, normalise_text
from veille.text.urls import (
    _fallback_registrable,
    canonical_url,
    registrable_domain,
    same_site,
    url_key,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://WWW.Example.COM:80/a/./b/../c/?b=2&a=1#top", "http://www.example.com/a/c?a=1&b=2"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x/", "https://example.com:8443/x"),
        ("https://example.com//a//b/", "https://example.com/a/b"),
        ("https://example.com/caf%c3%a9/%7euser", "https://example.com/caf%C3%A9/~user"),
        ("https://example.com/café", "https://example.com/caf%C3%A9"),
        ("https://exämple.fr/", "https://xn--exmple-cua.fr/"),
        (
            "https://x.fr/a?utm_source=rss&utm_medium=feed&id=3&fbclid=Z&gclid=1&dclid=2"
            "&msclkid=3&mc_cid=4&mc_eid=5&xtor=RSS-8&at_medium=m&at_campaign=c&_hsenc=h"
            "&_hsmi=9&igshid=i&ref_src=twsrc&yclid=y&wt_mc=w&spm=s",
            "https://x.fr/a?id=3",
        ),
        ("https://x.fr/a?UTM_Source=x&q=open+data&&p=", "https://x.fr/a?p=&q=open+data"),
        ("  https://x.fr/a  ", "https://x.fr/a"),
        ("mailto:contact@x.fr", "mailto:contact@x.fr"),
        ("http://[::1]:80/x", "http://[::1]/x"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected
    assert canonical_url(expected) == expected  # idempotent


def test_url_key_merges_scheme_and_www_variants() -> None:
    variants = [
        "http://www.data.gouv.fr/fr/posts/x/?utm_source=a",
        "https://data.gouv.fr/fr/posts/x",
        "https://WWW.data.gouv.fr:443/fr/posts/x#comments",
    ]
    assert {url_key(u) for u in variants} == {"data.gouv.fr/fr/posts/x"}
    assert url_key("https://data.gouv.fr/fr/posts/y") != url_key(variants[0])
    assert url_key("https://x.fr/a?id=1") != url_key("https://x.fr/a?id=2")


def test_canonical_url_never_raises_on_garbage() -> None:
    for raw in ["", "http://", "http://[::1", "https://x.fr:99999/", "::::", "javascript:alert(1)"]:
        assert isinstance(canonical_url(raw), str)
        assert isinstance(url_key(raw), str)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://www.data.gouv.fr/a", "https://data.gouv.fr/b", True),
        ("https://blog.opendatafrance.fr/", "https://www.opendatafrance.fr/x", True),
        ("https://a.gouv.fr/", "https://b.gouv.fr/", False),
        ("https://blog.x.co.uk/", "https://x.co.uk/", True),
        ("https://a.co.uk/", "https://b.co.uk/", False),
        ("https://x.fr/", "https://x.com/", False),
        ("http://127.0.0.2:8000/a", "http://127.0.0.2:9000/b", True),
        ("http://127.0.0.2/a", "http://127.0.0.3/a", False),
        ("http://localhost:1/", "http://localhost:2/", True),
        ("", "https://x.fr/", False),
    ],
)
def test_same_site(a: str, b: str, same: bool) -> None:
    assert same_site(a, b) is same


def test_fallback_registrable_domain_without_a_suffix_list() -> None:
    assert _fallback_registrable("www.data.gouv.fr") == "data.gouv.fr"
    assert _fallback_registrable("a.b.co.uk") == "b.co.uk"
    assert _fallback_registrable("x.gouv.qc.ca") == "x.gouv.qc.ca"
    assert _fallback_registrable("news.example.com") == "example.com"
    assert registrable_domain("https://WWW.Example.com/x") == "example.com"


def test_sanitize_keeps_allowed_markup_and_absolutises_links() -> None:
    html = (
        '<h1>Titre</h1><p class="x" style="color:red" onclick="evil()">Un <a href="/d/1" '
        'title="Jeu">jeu</a> <strong>ouvert</strong> <em>enfin</em>.</p>'
        '<figure><img src="img/a.png" alt="Carte" width="3"><figcaption>Carte</figcaption>'
        '</figure><table><thead><tr><th>A</th></tr></thead><tbody><tr><td colspan="2">1</td>'
        "</tr></tbody></table><blockquote>cité</blockquote><pre><code>x = 1</code></pre>"
    )
    out = sanitize_html(html, base_url="https://site.fr/actu/article")
    assert "<h2>Titre</h2>" in out
    assert '<a href="https://site.fr/d/1" title="Jeu" rel="noopener noreferrer nofollow">' in out
    # remote images are links (collect/images.py): no reader's browser fetches them
    assert (
        '<figure><a href="https://site.fr/actu/img/a.png" rel="noopener noreferrer nofollow">'
        "Image : Carte</a><figcaption>" in out
    )
    for kept in (
        "<strong>",
        "<em>",
        "<figcaption>",
        "<th>",
        '<td colspan="2">',
        "<blockquote>",
        "<pre><code>",
    ):
        assert kept in out
    for gone in ("class=", "style=", "onclick", "width="):
        assert gone not in out


def test_sanitize_removes_dangerous_content() -> None:
    html = (
        '<p>ok</p><script>alert(1)</script><style>p{}</style><iframe src="https://e.x">f</iframe>'
        '<a href="javascript:alert(1)">js</a><a href=" JaVaScRiPt:alert(1)">js2</a>'
        '<img src="data:image/png;base64,AAAA"><img src="javascript:x"><img src="ftp://x/i.png">'
        '<a href="data:text/html,<b>x</b>">d</a><svg><text>svg</text></svg>'
        '<form><button>Envoyer</button></form><img src="https://ok.fr/i.png" onerror="x()">'
    )
    out = sanitize_html(html, base_url="https://site.fr/")
    for gone in (
        "script",
        "alert",
        "style",
        "iframe",
        "javascript",
        "data:",
        "ftp:",
        "svg",
        "Envoyer",
        "onerror",
        "<img>",
    ):
        assert gone not in out.lower(), gone
    assert (
        '<a href="https://ok.fr/i.png" rel="noopener noreferrer nofollow">Image : i.png</a>' in out
    )
    assert ">js</a>" in out  # the text stays, the link target does not


def test_sanitize_without_base_drops_relative_images_only() -> None:
    out = sanitize_html('<p><a href="/x">l</a><img src="/i.png"></p>', base_url=None)
    assert out == '<p><a href="/x" rel="noopener noreferrer nofollow">l</a></p>'
    assert sanitize_html("", base_url=None) == ""
    assert sanitize_html("   ", base_url="https://x.fr/") == ""


def test_html_to_text() -> None:
    html = (
        "<div><h2>Un&nbsp;titre</h2><p>Premier   paragraphe &eacute;crit\n sur deux lignes."
        "</p><ul><li>un</li><li>deux</li></ul>fin<br>ligne<script>var x;</script>"
        "<table><tr><td>1</td><td>2</td></tr></table><!-- note --></div>"
    )
    assert html_to_text(html) == (
        "Un titre\nPremier paragraphe écrit sur deux lignes.\nun\ndeux\nfin\nligne\n1 2"
    )
    assert html_to_text("") == ""
    assert html_to_text("texte brut &amp; simple") == "texte brut & simple"
    assert html_to_text("<p>a<b>b</b>c</p>") == "abc"
    assert html_to_text("<pre>a = 1\n  b = 2</pre>") == "a = 1\nb = 2"
    assert html_to_text("<div>" * 200 + "profond" + "</div>" * 200) == "profond"
    # beyond the parser's depth limit: nothing readable, but no exception
    assert isinstance(html_to_text("<div>" * 5000 + "x" + "</div>" * 5000), str)


def test_content_fingerprint_ignores_case_spacing_and_unicode_form() -> None:
    a = content_fingerprint("Les Données  ouvertes\n de la ville.")
    b = content_fingerprint("les données ouvertes de la ville.")  # NFC vs NFD below
    c = content_fingerprint("les donne\u0301es ouvertes de la ville.")
    assert a == b == c
    assert len(a) == 40
    assert content_fingerprint("les données fermées de la ville.") != a


def test_content_hash_folds_the_whitespace_the_regular_expression_did() -> None:
    """`normalise_text` collapses whitespace with `str.split` (round 25) where it used
    `re.sub(r"\\s+", " ", …).strip()`: the stored content hashes of existing articles stay
    valid only if both see the same characters as whitespace, for every code point."""
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    assert re.findall(r"\s", every) == [c for c in every if c.isspace()]
    spaced = " \u00a0Les\u2003données\t\x1c ouvertes\u3000\u2028\x85 ! \u200b\n"
    regex = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", spaced).casefold()).strip()
    assert normalise_text(spaced) == regex == "les données ouvertes ! \u200b"


def test_plain_text_skips_the_parse_and_reads_the_same() -> None:
    """`html_to_text`'s shortcut for text without markup gives what the parse gives."""
    import random

    from veille.collect.clean import _markup_to_text

    rng = random.Random(7)
    letters = [chr(c) for c in range(0x20, 0x250)] + list("«»’“”—–…€œ\u2019\U0001f600\ufffd")
    letters += ["\u0301", "\u200b", "\u00a0", "\u202f", "\u3000", "\t", "\n", "\r", "  "]
    shortcut = 0
    for _ in range(3000):
        text = "".join(rng.choice(letters) for _ in range(rng.randrange(1, 40)))
        if text.strip():
            shortcut += "<" not in text and "&" not in text and text.isprintable()
            assert html_to_text(text) == _markup_to_text(text), repr(text)
    assert shortcut > 300  # the shortcut was tested, not only the parse
    for title in ("  Le  portail   « données »  ", "Budget 2027 : l’État investit", "A > B"):
        assert html_to_text(title) == _markup_to_text(title) == " ".join(title.split())
