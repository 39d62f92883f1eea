"""Sources without a feed: article links of a listing page, recent URLs of a sitemap, and
feed discovery for `veille sources add URL`.

Like the feed parser, this knows bytes and nothing of the network. HTML is parsed by lxml
(no network, no entities); sitemaps are XML parsed with entity resolution off.
"""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from veille.collect.types import ParsedEntry, ParsedFeed
from veille.errors import ParseError
from veille.sources import validate_selector

MAX_SITEMAP_BYTES = 50 * 2**20  # the sitemap protocol's own limit, uncompressed

_BOILERPLATE_TAGS = {"nav", "header", "footer", "aside", "menu", "form"}
_BOILERPLATE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "menu", "menubar"}
_BOILERPLATE_RE = re.compile(
    r"(^|[\s_-])(nav|navbar|navigation|menu|footer|header|sidebar|breadcrumbs?|pagination|"
    r"pager|share|sharing|social|cookies?|skip-link)($|[\s_-])",
    re.I,
)
# Path segments that name a list, an account or a tool, never one article.
_NON_ARTICLE_SEGMENTS = {
    "tag",
    "tags",
    "category",
    "categories",
    "categorie",
    "rubrique",
    "rubriques",
    "theme",
    "author",
    "auteur",
    "auteurs",
    "page",
    "login",
    "logout",
    "connexion",
    "signin",
    "signup",
    "register",
    "inscription",
    "search",
    "recherche",
    "feed",
    "feeds",
    "rss",
    "atom",
    "share",
    "partage",
    "partager",
    "account",
    "compte",
    "cart",
    "panier",
    "wp-login.php",
    "wp-admin",
    "print",
    "imprimer",
    "amp",
}
_NON_ARTICLE_LAST = {
    "contact",
    "contacts",
    "about",
    "a-propos",
    "qui-sommes-nous",
    "mentions-legales",
    "politique-de-confidentialite",
    "donnees-personnelles",
    "cookies",
    "plan-du-site",
    "accessibilite",
    "privacy",
    "privacy-policy",
    "terms",
    "legal",
    "cgu",
    "newsletter",
    "abonnement",
    "subscribe",
    "sitemap",
    "agenda",
    "archives",
    "index.html",
    "index.php",
}
_NON_ARTICLE_QUERY = {"page", "paged", "s", "q", "search", "replytocom", "share", "action"}
_FILE_EXT_RE = re.compile(
    r"\.(pdf|jpe?g|png|gif|svg|webp|avif|ico|zip|gz|tgz|rar|7z|docx?|xlsx?|csv|odt|ods|odp|"
    r"pptx?|mp3|mp4|m4a|ogg|webm|avi|mov|xml|json|rss|atom|txt|ics|epub|exe|dmg)$",
    re.I,
)
_DATE_IN_PATH_RE = re.compile(r"/(19|20)\d{2}/(0?[1-9]|1[0-2])(/|$)|\b(19|20)\d{2}-\d{2}-\d{2}\b")
_LANG_SEGMENT_RE = re.compile(r"^[a-z]{2}(-[a-z]{2})?$", re.I)
_WS_RE = re.compile(r"\s+")
# Second-level labels under which registrations happen (a tiny slice of the Public Suffix List).
_SECOND_LEVEL = {
    "co.uk",
    "org.uk",
    "ac.uk",
    "gov.uk",
    "gouv.fr",
    "asso.fr",
    "com.fr",
    "nom.fr",
    "com.au",
    "co.jp",
    "com.br",
    "co.nz",
    "gv.at",
    "ac.be",
}

_FEED_TYPES = {
    "application/atom+xml": 0,
    "application/rss+xml": 0,
    "application/rdf+xml": 1,
    "application/feed+json": 2,
    "application/json": 3,
    "text/xml": 3,
    "application/xml": 3,
}
_COMMON_FEED_PATHS = (
    "feed",
    "rss.xml",
    "atom.xml",
    "index.xml",
    "feed.xml",
    "rss",
    "feed/",
    "feed.json",
    "index.rss",
    "atom",
    "?feed=rss2",
    "feeds/posts/default",
)


# --- listing pages ---------------------------------------------------------------------


def find_article_links(
    html: bytes, *, base_url: str, selector: str | None = None, limit: int = 100
) -> list[str]:
    """Absolute article URLs of a listing page, in page order, de-duplicated."""
    return [url for url, _ in _links(html, base_url, selector, limit)]


def listing_entries(html: bytes, base_url: str, selector: str | None = None) -> ParsedFeed:
    """A listing page as a feed: one entry per article link, its anchor text as title."""
    doc = _html(html)
    title = ""
    if doc is not None:
        title = _text(doc.findtext(".//title") or "")
    entries = tuple(
        ParsedEntry(link=url, title=text) for url, text in _links(html, base_url, selector, 100)
    )
    return ParsedFeed(entries=entries, title=title, link=base_url, format="html")


def _links(html: bytes, base_url: str, selector: str | None, limit: int) -> list[tuple[str, str]]:
    doc = _html(html)
    if doc is None:
        return []
    base = _document_base(doc, base_url)
    if selector:
        validate_selector(selector)
        anchors: list[lxml.html.HtmlElement] = []
        for element in doc.cssselect(selector):
            if element.tag == "a":
                anchors.append(element)
            else:
                anchors.extend(element.iter("a"))
    else:
        anchors = [a for a in doc.iter("a") if not _in_boilerplate(a)]
    page = _strip_fragment(base_url)
    found: dict[str, str] = {}
    for anchor in anchors:
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        url = _absolute(href, base)
        if url is None or url == page:
            continue
        if not selector and not (_same_site(url, base_url) and is_article_url(url)):
            continue
        text = _text(anchor.text_content()) or _text(anchor.get("title") or "")
        if url not in found:
            if len(found) >= limit:
                break
            found[url] = text
        elif not found[url]:
            found[url] = text  # an image link first, the titled link after
    return list(found.items())


def is_article_url(url: str) -> bool:
    """Whether a same-site URL looks like one article rather than a list, a tool or a file."""
    parts = urlsplit(url)
    path = parts.path
    segments = [s for s in path.split("/") if s]
    if segments and _LANG_SEGMENT_RE.match(segments[0]):
        segments = segments[1:]
    if not segments:
        return False
    lowered = [s.lower() for s in segments]
    if any(s in _NON_ARTICLE_SEGMENTS for s in lowered) or lowered[-1] in _NON_ARTICLE_LAST:
        return False
    if _FILE_EXT_RE.search(path):
        return False
    if any(key.lower() in _NON_ARTICLE_QUERY for key, _ in parse_qsl(parts.query)):
        return False
    last = lowered[-1]
    slug = last.count("-") >= 2 or any(c.isdigit() for c in last)
    return len(segments) >= 2 or slug or bool(_DATE_IN_PATH_RE.search(path))


def _in_boilerplate(element: lxml.html.HtmlElement) -> bool:
    for ancestor in element.iterancestors():
        if ancestor.tag in _BOILERPLATE_TAGS:
            return True
        if (ancestor.get("role") or "").lower() in _BOILERPLATE_ROLES:
            return True
        marks = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"
        if marks.strip() and _BOILERPLATE_RE.search(marks):
            return True
    return False


def _same_site(url: str, other: str) -> bool:
    return _registrable(urlsplit(url).hostname) == _registrable(urlsplit(other).hostname)


def _registrable(host: str | None) -> str:
    labels = (host or "").lower().rstrip(".").split(".")
    size = 3 if ".".join(labels[-2:]) in _SECOND_LEVEL else 2
    return ".".join(labels[-size:])


# --- feed discovery --------------------------------------------------------------------


def discover_feeds(html: bytes, *, base_url: str) -> list[str]:
    """Feed URLs a page announces with <link rel="alternate">, best first.

    RSS and Atom before RDF before JSON Feed, page order within a kind, comment feeds last.
    """
    doc = _html(html)
    if doc is None:
        return []
    base = _document_base(doc, base_url)
    ranked: list[tuple[int, int, str]] = []
    for index, link in enumerate(doc.iter("link")):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" not in rels or kind not in _FEED_TYPES:
            continue
        url = _absolute(link.get("href") or "", base)
        if url is None or url in (u for _, _, u in ranked):
            continue
        rank = _FEED_TYPES[kind]
        title = (link.get("title") or "").lower()
        if "comment" in title or "comment" in url.lower():
            rank += 10
        ranked.append((rank, index, url))
    return [url for _, _, url in sorted(ranked)]


def candidate_feed_paths(base_url: str) -> list[str]:
    """Usual feed locations to try when a page announces none, nearest to the page first."""
    parts = urlsplit(base_url)
    root = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
    bases = []
    if parts.path not in ("", "/"):
        bases.append(urljoin(base_url, parts.path.rstrip("/") + "/"))
    bases.append(root)
    out: list[str] = []
    for base in bases:
        for path in _COMMON_FEED_PATHS:
            url = urljoin(base, path)
            if url not in out:
                out.append(url)
    return out


# --- sitemaps --------------------------------------------------------------------------


def parse_sitemap(
    content: bytes,
    *,
    base_url: str,
    now: datetime,
    max_age_days: int = 7,
    limit: int = 200,
) -> ParsedFeed:
    """Recent URLs of a (news) sitemap, newest first; undated URLs kept, after dated ones.

    A sitemap index gives `format="sitemapindex"` and one entry per child sitemap (link,
    lastmod as `published_at`), newest first and not filtered by age: the caller fetches a
    few of them and parses each with this same function.
    """
    data = _gunzip(content) if content[:2] == b"\x1f\x8b" else content
    if not data.strip():
        raise ParseError("The sitemap is empty.")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.LxmlError as exc:
        raise ParseError("The sitemap is not readable XML.") from exc
    if root is None:
        raise ParseError("The sitemap is not readable XML.")
    kind = etree.QName(root).localname if isinstance(root.tag, str) else ""
    if kind not in ("urlset", "sitemapindex"):
        raise ParseError("The document is not a sitemap (no <urlset> or <sitemapindex>).")
    child = "url" if kind == "urlset" else "sitemap"
    namespace = etree.QName(root).namespace
    prefix = f"{{{namespace}}}" if namespace else ""
    cutoff = now - timedelta(days=max_age_days)
    dated: list[ParsedEntry] = []
    undated: list[ParsedEntry] = []
    for node in root:
        if not isinstance(node.tag, str) or etree.QName(node).localname != child:
            continue
        fields: dict[str, etree._Element] = {}
        for sub in node.iter():  # loc, lastmod, news:publication_date, news:title, ...
            if isinstance(sub.tag, str) and sub is not node:
                fields.setdefault(etree.QName(sub).localname, sub)
        url = _absolute(_text(_node_text(node.find(f"{prefix}loc"))), base_url)
        if url is None:
            continue
        date = _w3c_date(_node_text(fields.get("publication_date"))) or _w3c_date(
            _node_text(node.find(f"{prefix}lastmod"))
        )
        if date is not None and date > now + timedelta(days=2):
            date = None
        if kind == "urlset" and date is not None and date < cutoff:
            continue
        image = None
        image_node = node.find("{http://www.google.com/schemas/sitemap-image/1.1}image")
        if image_node is not None:
            image_loc = image_node.find("{http://www.google.com/schemas/sitemap-image/1.1}loc")
            image = _absolute(_text(_node_text(image_loc)), url)
        entry = ParsedEntry(
            link=url,
            title=_text(_node_text(fields.get("title"))),
            published_at=date,
            image=image,
            language=_text(_node_text(fields.get("language"))) or None,
        )
        (dated if date else undated).append(entry)
    dated.sort(key=lambda e: e.published_at or now, reverse=True)
    found = dated + undated
    if kind == "urlset":
        found = _without_sections(found)
    entries = tuple(found[:limit])
    return ParsedFeed(
        entries=entries,
        link=base_url,
        format="sitemap" if kind == "urlset" else "sitemapindex",
    )


def _without_sections(entries: list[ParsedEntry]) -> list[ParsedEntry]:
    """Drop the navigation pages sitemaps list beside articles: the site root, and any URL
    whose path is a prefix of other listed URLs (a section front page)."""
    paths = {urlsplit(e.link).path.rstrip("/") for e in entries if e.link}

    def is_section(link: str) -> bool:
        path = urlsplit(link).path.rstrip("/")
        return not path or any(p != path and p.startswith(path + "/") for p in paths)

    return [e for e in entries if e.link and not is_section(e.link)]


def _gunzip(content: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(content, MAX_SITEMAP_BYTES)
    except zlib.error as exc:
        raise ParseError("The compressed sitemap is corrupt.") from exc
    if inflater.unconsumed_tail:
        raise ParseError("The sitemap is larger than 50 MB once decompressed.")
    return data


def _w3c_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _node_text(node: etree._Element | None) -> str:
    return (node.text or "") if node is not None else ""


# --- shared ----------------------------------------------------------------------------


def _html(html: bytes) -> lxml.html.HtmlElement | None:
    if not html or not html.strip():
        return None
    parser = lxml.html.HTMLParser(no_network=True, huge_tree=False, remove_comments=True)
    try:
        return lxml.html.fromstring(html, parser=parser)
    except (etree.LxmlError, ValueError):
        return None


def _document_base(doc: lxml.html.HtmlElement, base_url: str) -> str:
    base = doc.find(".//base[@href]")
    if base is not None:
        resolved = _absolute(base.get("href") or "", base_url)
        if resolved:
            return resolved
    return base_url


def _absolute(href: str, base: str) -> str | None:
    if not href:
        return None
    try:
        url = urljoin(base, href.strip())
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _strip_fragment(url: str) -> str:
    return _absolute(url, url) or url


def _text(value: str) -> str:
    return _WS_RE.sub(" ", value).strip()
