"""A page's text → the lxml tree trafilatura's `load_html` gives for it, for less CPU.

Why: `trafilatura.utils.load_html` repairs the text before libxml2 parses it, and its
repairs cost as much as the parse on a news page (~100 KB, one line): it removes the
characters XML forbids with a regular expression over the whole page (~0.55 ms: a
character class tested at every character) although nearly no page holds one. Here the
same repairs run only on a page that needs them, found with `str` searches in C (~0.25
ms); the steps are otherwise trafilatura's own, with its parser and helpers, so the tree is
the same: tests/test_loadhtml.py compares the two on the trafilatura corpus, the
benchmark's pages and crafted inputs. A trafilatura release that moves these helpers makes
this module use `load_html` itself.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# The characters of trafilatura's INVALID_XML_CHARS ([\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]).
_INVALID_XML = tuple(
    [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + ["\ufffe", "\uffff"]
)


def _repair(text: str, beginning: str) -> str:
    """trafilatura's `repair_faulty_html`, each substitution run only where it can match."""
    from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, INVALID_XML_CHARS

    if any(char in text for char in _INVALID_XML):
        text = INVALID_XML_CHARS.sub("", text)
    if "doctype" in beginning:
        firstline, _, rest = text.partition("\n")
        text = DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in text[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            text = FAULTY_HTML.sub(r"\1>", text, count=1)
            break
    return text


def load_html(text: str) -> Any:
    """The page's tree (an lxml `HtmlElement`), or None when it is not HTML: what
    `trafilatura.utils.load_html(text)` returns for a `str`, step for step."""
    try:
        from lxml.html import fromstring
        from trafilatura.utils import HTML_PARSER, fromstring_bytes, is_dubious_html
    except ImportError:  # pragma: no cover - depends on the installed trafilatura
        from trafilatura.utils import load_html as upstream

        return upstream(text)
    beginning = text[:50].lower()
    check_flag = is_dubious_html(beginning)
    text = _repair(text, beginning)
    tree = None
    fallback_parse = False
    try:
        tree = fromstring(text, parser=HTML_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree = fromstring_bytes(text)
        fallback_parse = True
    except Exception as err:  # as upstream: a parser error is no tree
        log.debug("lxml parsing failed: %s", err)
    if (tree is None or len(tree) < 1) and not fallback_parse:
        tree = fromstring_bytes(text)
    if tree is not None and check_flag and len(tree) < 2:
        return None  # not (well-formed) HTML
    return tree
