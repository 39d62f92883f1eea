"""Article extraction: text, sanitised HTML, metadata, charsets, hostile input."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest
from lxml.etree import tostring
from trafilatura.utils import load_html

from veille.collect.extract import (
    decode_html,
    extract_article,
    parse_bounded,
    parse_date,
    summary_from_text,
)
from veille.collect.htmlbounds import MAX_DEPTH, bound_html
from veille.text.language import detect_language

PARAGRAPHS = [
    "La métropole de Valcourt a ouvert lundi son portail de données ouvertes, avec près de "
    "deux cent quarante jeux de données publiés dès le lancement de la plateforme.",
    "On y trouve les horaires du tramway, la localisation des bornes de collecte du verre "
    "et le budget primitif détaillé par politique publique, sous Licence Ouverte.",
    "« Nous voulons que les habitants et les associations s'emparent de ces informations », "
    "explique l'adjointe au numérique, qui annonce une seconde vague de publications.",
    "Les données sur la qualité de l'air et l'urbanisme suivront avant l'été, après un "
    "travail d'harmonisation mené avec les communes de la métropole.",
]


def page(
    *,
    charset: str | None = "utf-8",
    canonical: str | None = "/actu/portail-open-data",
    extra_body: str = "",
) -> str:
    meta_charset = f'<meta charset="{charset}">' if charset else ""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "\n".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!DOCTYPE html>
<html lang="fr"><head>{meta_charset}
<title>Valcourt ouvre son portail open data | Le Journal des Territoires</title>
{link}
<meta property="og:title" content="Valcourt ouvre son portail open data">
<meta property="og:description" content="Près de 240 jeux de données dès le lancement.">
<meta property="og:image" content="/img/portail.jpg">
<meta property="og:site_name" content="Le Journal des Territoires">
<meta name="author" content="Camille Durand">
<meta property="article:published_time" content="2026-11-23T09:30:00+01:00">
<script>var tracker = "ne pas extraire";</script>
</head><body>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/territoires">Territoires</a></li></ul></nav>
<article>
<h1>Valcourt ouvre son portail open data</h1>
{paragraphs}
<h2>Ce qui arrive ensuite</h2>
<ul><li>Qualité de l'air</li><li>Urbanisme et permis de construire</li></ul>
<table><tr><th>Thème</th><th>Jeux</th></tr><tr><td>Mobilité</td><td>42</td></tr></table>
<p onclick="alert(1)">Un dernier paragraphe pour la forme, assez long pour être gardé
par l'extracteur comme faisant partie de l'article principal.</p>
{extra_body}
</article>
<footer>Mentions légales - Abonnez-vous à notre lettre d'information</footer>
</body></html>"""


URL = "https://www.journal-territoires.fr/actu/portail-open-data?utm_source=rss"


def test_extracts_text_html_and_metadata() -> None:
    result = extract_article(page().encode("utf-8"), url=URL)
    assert result is not None
    for paragraph in PARAGRAPHS:
        assert paragraph in result.text
    assert "Mentions légales" not in result.text
    assert "Accueil" not in result.text
    assert "ne pas extraire" not in result.text
    assert result.title == "Valcourt ouvre son portail open data"
    assert result.author == "Camille Durand"
    assert result.published_at == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert result.description == "Près de 240 jeux de données dès le lancement."
    assert result.image == "https://www.journal-territoires.fr/img/portail.jpg"
    assert result.sitename == "Le Journal des Territoires"
    assert result.language == "fr"
    assert result.canonical_url == "https://www.journal-territoires.fr/actu/portail-open-data"
    html = result.html
    assert "<p>" in html and "<li>" in html and "<td>Mobilité</td>" in html
    assert "<h2>" in html
    for gone in ("onclick", "<script", "<nav", "<footer", "class="):
        assert gone not in html


def test_canonical_on_another_site_is_ignored() -> None:
    html = page(canonical="https://agregateur.example.com/copie/123")
    result = extract_article(html, url=URL)
    assert result is not None
    assert result.canonical_url is None
    sub = extract_article(
        page(canonical="https://blog.journal-territoires.fr/a/?utm_medium=x"), url=URL
    )
    assert sub is not None
    assert sub.canonical_url == "https://blog.journal-territoires.fr/a"
    assert extract_article(page(canonical=None), url=URL).canonical_url is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("encoding", "declared", "meta"),
    [
        ("cp1252", None, "windows-1252"),  # declared in the page
        ("iso-8859-1", None, "iso-8859-1"),
        ("cp1252", "windows-1252", None),  # only the HTTP header knows
        ("cp1252", None, None),  # nobody says: guessed
        ("cp1252", None, "utf-8"),  # wrong declaration
        ("utf-8", None, "iso-8859-1"),  # wrong declaration the other way
        ("utf-16", None, None),  # BOM
    ],
)
def test_charsets(encoding: str, declared: str | None, meta: str | None) -> None:
    data = page(charset=meta).encode(encoding)
    result = extract_article(data, url=URL, encoding=declared)
    assert result is not None
    assert PARAGRAPHS[2] in result.text
    assert "Ã" not in result.text


def test_decode_keeps_mostly_utf8_pages_with_stray_bytes() -> None:
    data = "Données publiées à Valcourt, été ".encode() * 20 + b"caf\xe9"
    text = decode_html(data)
    assert text.startswith("Données publiées")
    assert decode_html(b"\xef\xbb\xbfabc") == "abc"


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"   ",
        b"\x00\x01\x02\xff" * 100,
        "<html><body><p>Court.</p></body></html>",
        "<div>" * 10000,
        b"\x1f\x8b\x08\x00garbage",
        "<?xml version='1.0' encoding='latin-1'?><a/>",
        "<html><body><nav>" + "<a href='/x'>lien</a>" * 300 + "</nav></body></html>",
    ],
)
def test_nothing_substantial_gives_none_without_raising(junk: bytes | str) -> None:
    assert extract_article(junk, url="https://x.fr/a") is None


def _levels(tree: object) -> int:
    """Elements from the document's root to its deepest element, both counted."""
    return 1 + max(len(list(e.iterancestors())) for e in tree.iter())  # type: ignore[attr-defined]


@pytest.mark.parametrize("depth", [10, MAX_DEPTH - 2, MAX_DEPTH - 1, 150, 300, 100_000])
def test_the_parsed_page_is_bounded_and_keeps_its_deep_text(depth: int) -> None:
    """The page is parsed before its nesting is checked (in the tree): libxml2 stops past
    ~255 levels and drops the rest of the page, so a tree deeper than the bound is parsed
    again from `bound_html`'s flattened markup; within the bound, the tree is the one the
    bounded markup gives."""
    html = (
        "<html><body>" + "<div>" * depth + "<p>au fond</p>" + "</div>" * depth
        + "<p>après</p></body></html>"
    )  # fmt: skip
    tree = parse_bounded(html)
    assert _levels(tree) <= MAX_DEPTH
    assert "au fond" in tree.text_content() and "après" in tree.text_content()
    assert tostring(tree) == tostring(load_html(bound_html(html)))
    if depth > 255:  # what the guard is for: libxml2 alone loses the text
        assert "après" not in load_html(html).text_content()


def test_markup_libxml2_nests_shallow_is_not_flattened() -> None:
    """150 unclosed links: `bound_html` counts them 150 deep and would drop 51 of them,
    libxml2 closes each at the next; its tree is within the bound, so it is kept whole."""
    html = "<html><body>" + "<a href='/x'>lien " * 150 + "</body></html>"
    assert bound_html(html) is not html
    tree = parse_bounded(html)
    assert _levels(tree) <= MAX_DEPTH and len(tree.findall(".//a")) == 150


def test_runs_in_a_process_pool() -> None:
    pickle.dumps(extract_article)
    data = page().encode("utf-8")
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_extract_title, [data, b"", data]))
    assert results == [
        "Valcourt ouvre son portail open data",
        None,
        "Valcourt ouvre son portail open data",
    ]


def _extract_title(data: bytes) -> str | None:
    result = extract_article(data, url=URL, extensive_date=False)
    return result.title if result else None


def test_detect_language() -> None:
    assert detect_language(" ".join(PARAGRAPHS)) == "fr"
    assert (
        detect_language(
            "The city has opened its open data portal and it is used by many of the residents "
            "who have been waiting for this for a long time."
        )
        == "en"
    )
    assert (
        detect_language(
            "Die Stadt hat ein Portal für offene Daten eröffnet, und es wird von den Bürgern "
            "genutzt, die auf die Daten gewartet haben."
        )
        == "de"
    )
    assert (
        detect_language(
            "La ciudad ha abierto su portal de datos abiertos y los vecinos lo usan para "
            "consultar los presupuestos del ayuntamiento."
        )
        == "es"
    )
    assert (
        detect_language(
            "Il comune ha aperto il portale dei dati aperti e i cittadini lo usano per "
            "consultare il bilancio della città come sempre."
        )
        == "it"
    )
    assert detect_language("Open data 2026") is None


def test_parse_date() -> None:
    assert parse_date("2026-11-23") == datetime(2026, 11, 23, tzinfo=UTC)
    assert parse_date("2026-11-23T09:30:00+0100") == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert parse_date("2026-11-23T09:30:00") == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert parse_date("hier") is None
    assert parse_date(None) is None


def test_summary_from_text() -> None:
    text = "\n".join(PARAGRAPHS)
    summary = summary_from_text(text, max_chars=300)
    assert summary == PARAGRAPHS[0]  # two sentences would exceed 300 characters
    assert len(summary_from_text(text, max_chars=400)) <= 400
    assert summary_from_text(text, max_chars=400).endswith("publique, sous Licence Ouverte.")
    cut = summary_from_text(PARAGRAPHS[0], max_chars=60)
    assert len(cut) <= 60 and cut.endswith("…")
    assert cut[:-1] == PARAGRAPHS[0][: len(cut) - 1]
    assert PARAGRAPHS[0].startswith(cut[:-1] + " ")  # cut at a word boundary
    assert summary_from_text("  Court   texte. ") == "Court texte."
    assert summary_from_text("") == ""
