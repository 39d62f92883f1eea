"""Main text and metadata of an article page, with trafilatura.

Runs in a process pool (CPU-bound), so `extract_article` is a top-level function of plain
arguments. One trafilatura pass with upstream's text settings gives the scored text; the
stored HTML is rendered from the same extracted tree (no second pass). Measured on the
trafilatura corpus (tests/test_extract_corpus.py): keeping links, images or inline formatting
in that pass lowers text F1 (0.919, 0.918, 0.928 against 0.930), and favouring precision or
recall lowers it too (0.904, 0.901), so the stored HTML keeps structure (paragraphs,
headings, lists, quotes, tables) but not inline links.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.etree import XPath, tostring

# trafilatura and charset_normalizer are imported where they are used: extraction runs in
# the worker processes, and the main process (a cycle of unchanged feeds) should not pay
# ~0.1 s of imports for them.
from veille.collect.clean import sanitize_html
from veille.collect.htmlbounds import MAX_CHARS, MAX_DEPTH, bound_html
from veille.collect.types import Extracted
from veille.text.language import detect_language
from veille.text.urls import canonical_url, same_site

log = logging.getLogger(__name__)

# Below this much main text, the page is a listing, a stub or an error page.
MIN_TEXT_CHARS = 100
MIN_TEXT_WORDS = 15

# --------------------------------------------------------------------------- decoding

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG: browsers read these labels as windows-1252, and so do the pages written for them.
_AS_CP1252 = {"iso8859-1", "latin-1", "ascii", "iso-8859-1", "latin1", "us-ascii"}


def _codec(label: str | bytes | None) -> str | None:
    if not label:
        return None
    name = label.decode("ascii", "ignore") if isinstance(label, bytes) else label
    try:
        info = codecs.lookup(name.strip().lower())
    except LookupError:
        return None
    return "cp1252" if info.name in _AS_CP1252 else info.name


def decode_html(data: bytes, declared: str | None = None) -> str:
    """Bytes → text, trusting evidence in order: BOM, (mostly) valid UTF-8, declared, guess.

    Valid UTF-8 wins over a declared legacy charset because a page that decodes as UTF-8 is
    almost never anything else, while "charset=iso-8859-1" on UTF-8 pages is common.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a few stray bytes (pasted legacy text): legacy charsets would turn
    # every valid multi-byte sequence into mojibake, so keep UTF-8 and lose the strays.
    lossy = data.decode("utf-8", "replace")
    bad = lossy.count("\ufffd")
    if sum(1 for ch in lossy if ord(ch) > 127) - bad >= 10 * bad:
        return lossy
    head = data[:4096]
    candidates = [_codec(declared)]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        m = pattern.search(head)
        candidates.append(_codec(m.group(1)) if m else None)
    for codec in candidates:
        if codec and codec not in ("utf-8", "utf-16", "utf-32"):
            try:
                return data.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[:20000]).best()
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    return data.decode("cp1252", "replace")


# --------------------------------------------------------------------------- parsing

# Whether the document has an element `MAX_DEPTH + 1` levels down, its root counted: one
# XPath step per level, each visiting the elements of that level once, in C (~0.15 ms a
# page of 2,000 elements).
_DEEPER_THAN_BOUND = XPath("boolean(" + "/*" * (MAX_DEPTH + 1) + ")")


def parse_bounded(text: str) -> Any:
    """trafilatura's tree of a page whose nesting is bounded (`htmlbounds`): at most
    `MAX_DEPTH` levels, or the tree of the markup `bound_html` leaves.

    The page is parsed first and its depth read in the tree: libxml2 nests nearly every
    page a few dozen levels deep, and checking that in C costs a tenth of counting the
    page's 2,000 tags in Python before the parse (`bound_html`: ~1.4 ms a page, ~8 % of
    the extraction job; benchmarks/README.md, round 25). Only a tree deeper than the bound
    — or a page libxml2 stops in, which it does past ~255 levels, dropping the rest of the
    page — is parsed again from `bound_html`'s markup, flattened, its text kept: the cost
    stays linear in the page (tests/test_hostile_content.py). A page `bound_html` leaves
    unchanged gets the same tree either way.
    """
    from trafilatura.utils import load_html

    tree = None
    if len(text) <= MAX_CHARS:
        tree = load_html(text)
        if tree is not None and not _DEEPER_THAN_BOUND(tree):
            return tree
    bounded = bound_html(text)
    if bounded is text:  # within the bound as `bound_html` counts: the same parse
        return tree
    return load_html(bounded)


# --------------------------------------------------------------------------- language


def _html_lang(tree: object) -> str | None:
    try:
        values = tree.xpath(  # type: ignore[attr-defined]
            "/html/@lang | //meta[@http-equiv='content-language']/@content"
        )
    except Exception:
        return None
    for value in values:
        code = str(value).strip().lower()[:2]
        if code.isalpha() and len(code) == 2:
            return code
    return None


# --------------------------------------------------------------------------- metadata


def _canonical(tree: Any, url: str) -> str | None:
    """`<link rel=canonical>` resolved, kept only on the page's own site (else it is spam).

    The `link` elements in document order whose `rel`, its letters of « canonical »
    lower-cased, holds « canonical »: what the XPath
    `//link[contains(translate(@rel, 'CANONICAL', 'canonical'), 'canonical')]/@href` finds,
    without evaluating `translate` on each of the page's ~2,000 elements.
    """
    try:
        links = [link.get("href") for link in tree.iter("link") if _is_canonical(link.get("rel"))]
    except Exception:
        return None
    for href in links:
        if href is None:
            continue
        href = str(href).strip()
        if not href:
            continue
        try:
            absolute = urljoin(url, href)
        except ValueError:
            continue
        if urlsplit(absolute).scheme in ("http", "https") and same_site(absolute, url):
            return canonical_url(absolute)
    return None


_CANONICAL_LETTERS = str.maketrans("CANOIL", "canoil")


def _is_canonical(rel: str | None) -> bool:
    return rel is not None and "canonical" in rel.translate(_CANONICAL_LETTERS)


def parse_date(value: str | None) -> datetime | None:
    """htmldate's output → aware UTC; a date without time is midnight UTC."""
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    return None


def _absolute_http(url: str, value: str | None) -> str | None:
    if not value:
        return None
    try:
        absolute = urljoin(url, value.strip())
    except ValueError:
        return None
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _clean_field(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


# --------------------------------------------------------------------------- extraction


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _word_count(text: str) -> int:
    """Space-separated words, plus CJK characters (those scripts do not separate words)."""
    return len(text.split()) + len(_CJK.findall(text))


def extract_article(
    html: bytes | str,
    *,
    url: str,
    encoding: str | None = None,
    extensive_date: bool = True,
    need_author: bool = True,
) -> Extracted | None:
    """The article in a page, or None when there is none (never raises on bad input).

    `encoding` is the charset of the HTTP Content-Type, a hint only. Callers that already
    have a date or an author from the feed say so: `extensive_date=False` skips htmldate's
    full-page search (≈35 % of the time per page), `need_author=False` trafilatura's byline
    search (≈15 %).
    """
    try:
        return _extract(
            html,
            url=url,
            encoding=encoding,
            extensive_date=extensive_date,
            need_author=need_author,
        )
    except Exception:  # hostile pages (deep nesting included) cost one article, not a worker
        log.debug("extraction failed for %s", url, exc_info=True)
        return None


def _metadata(tree: Any, url: str, date_params: dict[str, Any], *, need_author: bool) -> Any:
    """trafilatura's `extract_metadata` without the parts we never store (categories, tags,
    licence: ~10 % of a page's extraction time) and without the byline search when the
    feed named the author. Same steps and helpers otherwise; if a trafilatura release moves
    them, the full upstream function is used.
    """
    try:
        from htmldate import find_date
        from trafilatura.metadata import (
            examine_meta,
            extract_author,
            extract_meta_json,
            extract_sitename,
            extract_title,
            extract_url,
        )
    except ImportError:  # pragma: no cover - depends on the installed trafilatura
        from trafilatura.metadata import extract_metadata

        return extract_metadata(tree, url, date_params)
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:  # a bare handle, as upstream drops it
        meta.author = None
    try:
        meta = extract_meta_json(tree, meta)
    except Exception:  # upstream guards its JSON-LD reader the same way
        log.debug("JSON-LD metadata unreadable on %s", url, exc_info=True)
    if not meta.title:
        meta.title = extract_title(tree)
    if need_author and not meta.author:
        meta.author = extract_author(tree)
    # The page's own URL helps htmldate; only worth finding when the date is searched for.
    page_url = meta.url or (extract_url(tree, url) if date_params.get("extensive_search") else url)
    meta.date = find_date(tree, **{**date_params, "url": page_url})
    if not meta.sitename:
        meta.sitename = extract_sitename(tree)
    if meta.sitename:  # upstream's tidying: a Twitter handle, a lower-case brand
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    meta.clean_and_trim()
    return meta


def _extract(
    html: bytes | str, *, url: str, encoding: str | None, extensive_date: bool, need_author: bool
) -> Extracted | None:
    from trafilatura import bare_extraction
    from trafilatura.htmlprocessing import convert_to_html
    from trafilatura.settings import set_date_params
    from trafilatura.xml import xmltotxt

    text_in = decode_html(html, encoding) if isinstance(html, bytes) else html
    if not text_in.strip():
        return None
    tree = parse_bounded(text_in)
    if tree is None:
        return None
    canonical = _canonical(tree, url)
    date_params = set_date_params(extensive_date)
    date_params["outputformat"] = "%Y-%m-%dT%H:%M:%S%z"
    meta = _metadata(tree, url, date_params, need_author=need_author)
    doc = bare_extraction(  # works on a copy of `tree`
        tree,
        url=url,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        include_links=False,
        include_images=False,
        with_metadata=False,
    )
    if doc is None or isinstance(doc, dict) or doc.body is None:
        return None
    text = unicodedata.normalize("NFC", xmltotxt(doc.body, False)).strip()
    if len(text) < MIN_TEXT_CHARS or _word_count(text) < MIN_TEXT_WORDS:
        return None

    body = convert_to_html(doc.body)[0]
    inner = (body.text or "") + "".join(tostring(child, encoding="unicode") for child in body)
    base = canonical or url
    return Extracted(
        text=text,
        html=sanitize_html(inner, base_url=base),
        title=_clean_field(meta.title),
        author=_clean_field(meta.author),
        published_at=parse_date(meta.date),
        description=_clean_field(meta.description),
        image=_absolute_http(base, meta.image),
        language=detect_language(text) or _html_lang(tree),
        canonical_url=canonical,
        sitename=_clean_field(meta.sitename),
    )


# --------------------------------------------------------------------------- summaries

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def summary_from_text(text: str, max_chars: int = 300) -> str:
    """Whole first sentences up to `max_chars`; else the first one cut at a word, with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    out = ""
    for sentence in _SENTENCE_END.split(flat):
        candidate = f"{out} {sentence}".strip()
        if len(candidate) > max_chars:
            break
        out = candidate
    if out:
        return out
    cut = flat[: max_chars - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–—") + "…"
