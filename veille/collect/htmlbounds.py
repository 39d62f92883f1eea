"""Bound untrusted markup before any HTML parser sees it: nesting depth and size.

Why: a feed item or page nesting `<div>` 100,000 deep costs the sanitiser (nh3) time that
grows with the square of the depth (~50 s of CPU for 100,000 levels), and libxml2 silently
drops whatever lies deeper than ~255 levels (its text was lost). One pass over the raw
markup, with a regular expression that never backtracks past the next `<`, counts open
elements; start and end tags deeper than `MAX_DEPTH` are left out, so what lies deeper is
kept as text flattened into the deepest allowed element. The pass never builds a tree, so it
does not itself suffer from the depth it limits: its cost is linear in the input.

The counting follows HTML well enough for this purpose, not exactly: void elements never
open, elements whose end tag is optional (`p`, `li`, `td`…) close their open sibling, an end
tag closes what it matches among the few innermost open elements, and `/>` closes at once
only inside `svg`/`math` (in HTML `<div/>` opens a `div`). Raw-text elements (`script`,
`style`, `textarea`…) and comments are passed through whole: their content is not markup.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

log = logging.getLogger(__name__)

# Deeper than any real article's content (~30 levels on page-builder sites) and far below
# libxml2's ~255 levels, where text starts to disappear.
MAX_DEPTH = 100
# Larger than any real article page; the fetcher's body limit bounds the input anyway, this
# bounds what one entry can cost the sanitiser and the extractor.
MAX_CHARS = 2_000_000

# fmt: off
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
     "param", "source", "track", "wbr", "image", "frame", "basefont", "bgsound"}
)
_RAW_TEXT = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
     "noscript", "plaintext"}
)
# An element whose end tag may be omitted, and the open elements its start tag closes.
_CLOSES_SIBLING = {
    "p": {"p"}, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "tr": {"tr", "td", "th"},
    "td": {"td", "th"}, "th": {"td", "th"}, "option": {"option"}, "optgroup": {"optgroup"},
    "thead": {"tbody", "tfoot"}, "tbody": {"thead", "tbody", "tfoot"}, "tfoot": {"thead", "tbody"},
}
# fmt: on
_FOREIGN = frozenset({"svg", "math"})
# How far down the open elements an end tag looks for its match: bounded, so a page of
# unmatched end tags stays linear.
_MATCH_WINDOW = 8

# Possessive runs (`*+`): a `<` that opens no tag (« i<n » in an inline script, « a<b » in
# text) fails at the next `<` or `>` instead of backtracking over every split of the name
# and the rest, which cost ~30 ms per such `<` on a page of 100 KB (each of the script's
# loops) and made this pass dearer than the extraction itself. Same matches: the rest's
# characters include the name's, so no shorter split can end on a `>` the longest missed.
_TOKEN = re.compile(
    r"<(?:!--.*?(?:-->|\Z)|(?P<end>/?)(?P<name>[A-Za-z][^\t\n\f\r /<>]*+)(?P<rest>[^<>]*+)>"
    r"|[!?][^<>]*+>)",
    re.DOTALL,
)


def _ascii_case(name: str) -> str:
    """`name` in either case, ASCII letters only: `str.lower` maps no other character to
    an ASCII letter of a raw-text name (only the Kelvin sign to « k »)."""
    return "".join(f"[{c}{c.upper()}]" for c in name)


def _raw_text_element(name: str) -> str:
    """A raw-text start tag and its content as `bound_html`'s loop skips it: every token
    that starts before the first `</name` after the tag, where a comment that starts
    before it may run past it (its `-->` comes later)."""
    close = rf"</(?i:{name})\b"
    return (
        _ascii_case(name) + r"(?=[\t\n\f\r />])[^<>]*+>"
        rf"(?:[^<]++|(?!{close})(?!<!--)<|<!--(?:(?!{close}).)*?(?:-->|\Z))*+"
        r"(?:<!--.*?(?:-->|\Z))?"
    )


# `_TOKEN` with each raw-text element matched whole, start tag and content (its groups
# empty, like a comment's): `findall` then yields the tags `bound_html`'s loop counts, in
# C, without the loop's positions (`_within`).
_COUNTED = re.compile(
    r"<(?:!--.*?(?:-->|\Z)|"
    + "|".join(_raw_text_element(n) for n in sorted(_RAW_TEXT))
    + r"|(/?)([A-Za-z][^\t\n\f\r /<>]*+)([^<>]*+)>|[!?][^<>]*+>)",
    re.DOTALL,
)


def _within(html: str, max_depth: int) -> bool:
    """Whether `bound_html`'s loop would keep every tag of `html` (never `max_depth` open
    elements when one more opens): the same counting over the same tags, without the
    positions the loop needs only to drop tags. It is ~3× cheaper per tag, and pages are
    ~2,000 tags each, nearly all within the limits (the loop was ~15 % of a page's
    extraction). Checked against the loop on random markup (tests/test_htmlbounds.py)."""
    stack: list[str] = []
    foreign = 0
    for is_end, name, rest in _COUNTED.findall(html):
        if not name:  # comment, doctype, raw-text element
            continue
        name = name.lower()
        if is_end:
            if stack and stack[-1] == name:  # the innermost open element: the usual case
                stack.pop()
                if foreign and name in _FOREIGN:
                    foreign -= 1
                continue
            window = stack[-_MATCH_WINDOW:]
            if name in window:
                depth = len(stack) - 1 - window[::-1].index(name)
                if foreign:
                    foreign -= sum(1 for n in stack[depth:] if n in _FOREIGN)
                del stack[depth:]
        elif name not in _VOID and not (foreign and rest.rstrip().endswith("/")):
            siblings = _CLOSES_SIBLING.get(name)
            if siblings and stack and stack[-1] in siblings:
                stack.pop()
            if len(stack) >= max_depth:
                return False
            stack.append(name)
            if name in _FOREIGN:
                foreign += 1
    return True


@lru_cache(maxsize=4)  # the store bounds the same entry for its HTML, text and summary
def bound_html(html: str, *, max_depth: int = MAX_DEPTH, max_chars: int = MAX_CHARS) -> str:
    """`html` with at most `max_depth` nested elements and `max_chars` characters.

    Markup within the limits comes back unchanged (same string). Beyond the depth, tags are
    dropped and their text kept; beyond the size, the markup is cut at a tag boundary.
    """
    if len(html) > max_chars:
        cut = html.rfind("<", 0, max_chars)
        log.warning("HTML of %d characters cut at %d", len(html), max_chars)
        html = html[: cut if cut > 0 else max_chars]
    if html.count("<") <= max_depth:  # cannot nest deeper than it has tags
        return html
    if _within(html, max_depth):  # nothing to drop: the common case, counted cheaply
        return html
    return _drop_deeper(html, max_depth)


def _drop_deeper(html: str, max_depth: int) -> str:
    """`html` without the tags deeper than `max_depth`, their text kept: one pass over
    the tags, which opens and closes elements as described at the top of this module."""
    kept: list[str] = []  # the input between dropped tags
    last = 0  # where the input not yet copied to `kept` starts
    skip = 0  # inside a raw-text element until there
    stack: list[str] = []  # open elements within the limit, innermost last
    overflow = 0  # open elements beyond the limit (their tags left out)
    foreign = 0  # svg/math elements in `stack`
    for m in _TOKEN.finditer(html):
        start = m.start()
        if start < skip:
            continue
        is_end, name, rest = m.group("end", "name", "rest")
        if not name:  # comment, doctype, processing instruction
            continue
        name = name.lower()
        if is_end:
            if overflow:
                overflow -= 1
                kept.append(html[last:start])
                last = m.end()
                continue
            window = stack[-_MATCH_WINDOW:]
            if name in window:
                depth = len(stack) - 1 - window[::-1].index(name)
                foreign -= sum(1 for n in stack[depth:] if n in _FOREIGN)
                del stack[depth:]
        elif name in _RAW_TEXT:
            close = re.compile(rf"</{name}\b", re.IGNORECASE).search(html, m.end())
            skip = len(html) if close is None else close.start()
        elif name not in _VOID and not (foreign and rest.rstrip().endswith("/")):
            siblings = _CLOSES_SIBLING.get(name)
            if siblings and stack and stack[-1] in siblings:
                stack.pop()
            if len(stack) >= max_depth:
                overflow += 1
                kept.append(html[last:start])
                last = m.end()
                continue
            stack.append(name)
            foreign += name in _FOREIGN
    if not kept:
        return html
    log.info("HTML nested deeper than %d levels: its deeper tags flattened", max_depth)
    kept.append(html[last:])
    return "".join(kept)
