"""URL canonicalisation and site comparison.

The same article reaches us through several feeds, with tracking parameters, http or https,
with or without `www.`: `canonical_url` gives the URL we store and show, `url_key` the looser
key that decides "same page" (stored as `articles.url_key`, so its rules must not drift),
`same_site` whether two URLs belong to one site, `web_names` the sites a text names (story
keys: « data.gouv.fr »). Pure and cheap: it runs on every entry.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from urllib.parse import unquote_plus, urlsplit, urlunsplit

# Exact names (compared lower-case) of parameters that only track the click.
# fmt: off
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "mc_cid", "mc_eid", "xtor", "xts", "xtref", "_hsenc", "_hsmi", "hsctatracking",
        "igshid", "igsh", "ref_src", "ref_url", "wt_mc", "wt.mc_id", "wt.mc_ev", "spm",
        "scm", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "_ga", "_gl",
        "s_cid", "cmpid", "ocid", "rb_clickid", "fb_action_ids", "fb_action_types",
        "fb_source", "fb_ref", "__twitter_impression", "_openstat", "sr_share", "ns_mchannel",
        "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "trk", "trkcampaign", "ito",
    }
)
# fmt: on
# Prefixes of tracking families: Google/Matomo/Piwik/AT Internet/HubSpot ads.
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "piwik_", "at_", "hsa_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_MULTI_SLASH = re.compile(r"/{2,}")


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def _normalise_pct(part: str, safe: str) -> str:
    """Uppercase escapes, decode escaped unreserved characters, escape raw unsafe bytes.

    Two spellings of the same path (`%7e` / `~`, `é` / `%C3%A9`) must give one key.
    """

    def fix(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    part = _PCT.sub(fix, part)
    out = []
    for ch in part:
        if ch in _UNRESERVED or ch in safe or ch == "%":
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, so `/a/./b/../c` and `/a/c` are one page."""
    out: list[str] = []
    for seg in path.split("/")[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    if path.endswith(("/.", "/..")):
        out.append("")
    return "/" + "/".join(out)


def _idna_host(host: str) -> str:
    host = host.strip(".").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


@functools.lru_cache(maxsize=65536)
def canonical_url(url: str) -> str:
    """The URL we store: same page, one spelling; non-HTTP URLs come back stripped only."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = _idna_host(parts.hostname)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{host}:{port}"
    if parts.username:
        userinfo = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{userinfo}@{netloc}"

    path = _normalise_pct(parts.path or "/", safe="/:@!$&'()*+,;=")
    path = _remove_dot_segments(_MULTI_SLASH.sub("/", path))
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"

    params = []
    for pair in parts.query.split("&"):
        if not pair:
            continue
        name = unquote_plus(pair.split("=", 1)[0])
        if _is_tracking(name):
            continue
        params.append(_normalise_pct(pair, safe="=:@!$'()*+,;/?"))
    query = "&".join(sorted(params))
    return urlunsplit((scheme, netloc, path, query, ""))


@functools.lru_cache(maxsize=65536)  # feeds relist each other: one link, many lookups
def url_key(url: str) -> str:
    """De-duplication key: the canonical URL without scheme and without a leading `www.`."""
    canon = canonical_url(url)
    try:
        parts = urlsplit(canon)
    except ValueError:
        return canon
    if parts.scheme not in _DEFAULT_PORTS:
        return canon
    netloc = parts.netloc
    if netloc.startswith("www."):
        netloc = netloc[4:]
    key = netloc + parts.path
    return f"{key}?{parts.query}" if parts.query else key


def key_host(key: str) -> str:
    """The host a URL key (`url_key`) starts with: what tells one site's pages from
    another's for copies, story keys and own pages."""
    return key.split("/", 1)[0]


# Public suffixes with two labels that matter for the sources we follow (fallback when no
# public-suffix list is installed).
# fmt: off
_TWO_LEVEL_SUFFIXES = frozenset(
    {
        "gouv.fr", "asso.fr", "com.fr", "nom.fr", "presse.fr", "tm.fr", "cci.fr", "greta.fr",
        "co.uk", "org.uk", "gov.uk", "ac.uk", "ltd.uk", "plc.uk", "me.uk", "nhs.uk",
        "police.uk", "net.uk", "sch.uk",
        "com.au", "net.au", "org.au", "gov.au", "edu.au",
        "co.nz", "org.nz", "govt.nz", "co.jp", "ne.jp", "or.jp", "go.jp", "ac.jp",
        "co.za", "gov.za", "com.br", "gov.br", "org.br", "com.mx", "gob.mx",
        "gob.es", "org.es", "com.es", "nom.es", "edu.es", "gv.at", "co.at", "or.at", "ac.at",
        "gc.ca", "qc.ca", "gouv.qc.ca", "com.pl", "gov.pl", "org.pl", "gov.it", "edu.it",
        "co.in", "gov.in", "com.cn", "gov.cn", "com.tw", "co.kr", "go.kr", "com.sg", "gov.sg",
        "gouv.ci", "gouv.sn", "gouv.bj", "gouv.ml", "gouv.ht", "gov.ie", "belgium.be",
        "public.lu", "admin.ch", "github.io", "gitlab.io", "blogspot.com", "wordpress.com",
        "substack.com", "medium.com",
    }
)
# fmt: on
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def _fallback_registrable(host: str) -> str:
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    for n in (3, 2):  # longest known suffix first (gouv.qc.ca)
        if len(labels) > n and ".".join(labels[-n:]) in _TWO_LEVEL_SUFFIXES:
            return ".".join(labels[-n - 1 :])
    return ".".join(labels[-2:])


def _make_registrable() -> Callable[[str], str]:
    try:
        from tld import get_fld  # a public-suffix list, installed with trafilatura (courlan)
    except ImportError:  # pragma: no cover - depends on the environment
        return _fallback_registrable

    def registrable(host: str) -> str:
        try:
            fld = get_fld(host, fix_protocol=True, fail_silently=True)
        except Exception:
            fld = None
        return str(fld) if fld else _fallback_registrable(host)

    return registrable


_registrable = _make_registrable()


def registrable_domain(url_or_host: str) -> str:
    """The site a URL belongs to (`data.gouv.fr` for `www.data.gouv.fr/x`); IPs as they are."""
    host = url_or_host
    if "/" in url_or_host or ":" in url_or_host:
        try:
            spec = url_or_host if "//" in url_or_host else "//" + url_or_host
            host = urlsplit(spec).hostname or ""
        except ValueError:
            return ""
    host = _idna_host(host)
    if not host or _IPV4.match(host) or ":" in host or "." not in host:
        return host
    return _registrable(host)


def same_site(a: str, b: str) -> bool:
    """True when two URLs share a registrable domain (`www.x.fr` and `blog.x.fr` do)."""
    da, db = registrable_domain(a), registrable_domain(b)
    return bool(da) and da == db


# A site named in the text (« data.gouv.fr », « transport.data.gouv.fr »): a platform's name,
# written in lower case. It ties two articles, like a person, but tells no events apart
# (a platform hosts many bodies' data): never a subject. Not an e-mail's domain.
_WEB_NAME = re.compile(
    r"(?<![@\w.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:fr|eu|org|com|net|io)\b",
    re.IGNORECASE,
)
_TOP_LEVEL = re.compile(r"\.(?:fr|eu|org|com|net|io)\b", re.IGNORECASE)


def web_names(text: str) -> set[str]:
    """The sites named in `text` (`_WEB_NAME`), read back from each top-level domain: a
    search of the whole text from every letter would cost more than all the other keys."""
    out = set()
    for end in _TOP_LEVEL.finditer(text):
        start = max(0, end.start() - 80)
        for name in _WEB_NAME.findall(text, start, end.end()):
            out.add(name.lower())
    return out
