"""HTML sanitising and plain text: untrusted markup → the HTML we store and the text we read.

Everything here is pure and cheap: it runs on every entry. URLs are `veille.text.urls`, the
content hash of exact copies `veille.text.fingerprint`.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import nh3
from lxml import etree
from lxml import html as lxml_html

from veille.collect.htmlbounds import bound_html
from veille.collect.images import replace_images

# --------------------------------------------------------------------------- HTML

# fmt: off
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "a", "strong", "em", "b", "i", "u", "s", "del", "sub", "sup", "small",
        "q", "cite", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "h2", "h3", "h4", "h5",
        "h6", "pre", "code", "figure", "figcaption", "img", "hr", "div",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
    }
)
# fmt: on
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "style"},  # size: for `images` only
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "col": {"span"},
    "colgroup": {"span"},
}
# Removed with everything inside: their text is never article text.
# fmt: off
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "math",
     "textarea", "select", "button", "form", "head", "title"}
)
# fmt: on
_LINK_SCHEMES = {"http", "https", "mailto"}
_IMG_SCHEMES = {"http", "https"}
_H1 = re.compile(r"<(/?)h1(?=[\s>/])", re.IGNORECASE)
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


def sanitize_html(html: str, *, base_url: str | None) -> str:
    """Untrusted HTML → the allow-listed subset we store and render as is.

    `h1` becomes `h2` (the page shows the title itself) and unknown block tags keep their
    text; links and images are made absolute against `base_url` so they work in the archive.
    Nesting is bounded first (`htmlbounds`: nh3's cost grows with the square of the depth);
    then trackers are removed and remote images become links (`images`), so a reader's
    browser contacts no third party.
    """
    if not html or not html.strip():
        return ""
    html = bound_html(html)

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if attr not in ("href", "src"):
            return value
        value = value.strip()
        if base_url:
            try:
                value = urljoin(base_url, value)
            except ValueError:
                return None
        scheme = urlsplit(value).scheme.lower() if ":" in value else ""
        allowed = _IMG_SCHEMES if tag == "img" else _LINK_SCHEMES
        if scheme and scheme not in allowed:
            return None
        if tag == "img" and not scheme:
            return None  # a relative image without a base cannot be shown
        return value

    cleaned = nh3.clean(
        _H1.sub(r"<\1h2", html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=attribute_filter,
        url_schemes=_LINK_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return replace_images(_IMG_WITHOUT_SRC.sub("", cleaned)).strip()


# fmt: off
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "aside", "main", "nav", "ul",
        "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "figure", "figcaption", "table",
        "thead", "tbody", "tfoot", "tr", "caption", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "address", "details", "summary", "body", "html", "form", "fieldset",
    }
)
# fmt: on
_CELL_TAGS = frozenset({"td", "th"})
_SKIP_TEXT = frozenset({"script", "style", "noscript", "template", "head", "title", "svg"})
_SPACES = re.compile(r"[^\S\n]+")
_ANY_SPACE = re.compile(r"\s+")
_NEWLINES = re.compile(r"\s*\n\s*")


def html_to_text(html: str) -> str:
    """Readable plain text: one line per block, spaces collapsed, entities decoded."""
    if not html or not html.strip():
        return ""
    if "<" not in html and "&" not in html and html.isprintable():
        # Plain text (most feed titles, many summaries): the parse below would give it back
        # whole as the one text of its wrapper, its spaces collapsed. `isprintable` leaves
        # out what the parser might rewrite (control characters, line breaks, no-break and
        # other non-ASCII spaces): ~0.2 ms a title saved, the same string (tests/test_clean.py).
        return " ".join(html.split())
    return _markup_to_text(html)


def _markup_to_text(html: str) -> str:
    """`html_to_text` by parsing: one line per block of the markup."""
    html = bound_html(html)  # libxml2 drops text deeper than ~255 levels
    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        try:
            root = lxml_html.fragment_fromstring(
                html.encode("utf-8", "replace"), create_parent="div"
            )
        except (etree.ParserError, ValueError):
            return ""
    out: list[str] = []
    skip = pre = 0

    def add(text: str | None) -> None:
        if text:  # source line breaks are spaces, except inside <pre>
            out.append(text if pre else _ANY_SPACE.sub(" ", text))

    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _SKIP_TEXT:
                skip += 1
            elif not skip:
                pre += tag == "pre"
                if tag in _BLOCK_TAGS:
                    out.append("\n")
                elif tag in _CELL_TAGS:
                    out.append(" ")
                if tag:
                    add(el.text)
        else:
            if tag in _SKIP_TEXT:
                skip -= 1
            elif not skip:
                pre -= tag == "pre"
                if tag == "br" or tag in _BLOCK_TAGS:
                    out.append("\n")
            if not skip and el is not root:
                add(el.tail)
    text = _SPACES.sub(" ", "".join(out).replace("\xa0", " "))
    return _NEWLINES.sub("\n", text).strip()
