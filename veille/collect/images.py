"""Images in stored article HTML: trackers removed, remote images turned into links.

Why: an `<img>` pointing to another site makes every reader's browser contact that site,
which learns the reader's address, browser and the time of reading; tracking pixels exist
for exactly that. So that a member's browser contacts no third party, stored HTML carries
no remote image at all: a tracker (a known pixel host or path, a feedburner `~r/` image, an
image declared 2×2 pixels or smaller) is removed; any other image becomes a link
« Image : <alt or file name> » to its URL, which the reader may follow on purpose. Nothing
is fetched. The archive's Content-Security-Policy then allows no remote image (`img-src
'self' data:`), which also blocks images left in rows stored before this rule.

This runs on nh3's output (`clean.sanitize_html`), whose serialisation is regular: attribute
values double-quoted and escaped, so a regular expression reads them reliably.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote, urlsplit

# Hosts (or their subdomains) that serve tracking pixels, and paths that name one.
TRACKER_HOSTS = (
    "feeds.feedburner.com",
    "feedproxy.google.com",
    "feeds.feedblitz.com",
    "pixel.wp.com",
    "stats.wordpress.com",
    "doubleclick.net",
    "google-analytics.com",
    "googletagmanager.com",
    "pixel.quantserve.com",
    "sb.scorecardresearch.com",
    "pixel.facebook.com",
    "www.facebook.com/tr",
    "ad.doubleclick.net",
    "analytics.twitter.com",
    "t.co/i/adsct",
    "bat.bing.com",
    "px.ads.linkedin.com",
    "mailchi.mp",
    "list-manage.com/track",
)
_TRACKER_PATH = re.compile(
    r"(?:^|/)(?:~r|~ff|~a)/"  # feedburner's item and flare images
    r"|/(?:pixel|beacon|tracking)(?:[./]|$)"
    r"|/(?:open|hit|impression|track)(?:\.gif|\.png|\.php)?$"
    r"|/track/open|/wf/open|/e/o/|/__utm\.gif|/b\.gif$|/g\.gif$"
    r"|(?:^|/)(?:mf|open|pixel|spacer|blank|transparent|1x1|clear|trans)\.(?:gif|png)$",
    re.IGNORECASE,
)
TINY_PIXELS = 2  # an image declared this small (either side) is invisible: a pixel
_ATTR = re.compile(r'([a-zA-Z-]+)="([^"]*)"')
_TOKENS = re.compile(r"<img\b[^>]*>|<a\b[^>]*>|</a>")
_STYLE_SIZE = re.compile(r"(?:^|;)\s*(?:max-)?(width|height)\s*:\s*([0-9.]+)\s*(px)?", re.I)


def is_tracker(src: str) -> bool:
    """A URL of a known tracking pixel: host in `TRACKER_HOSTS` or a pixel-like path."""
    try:
        parts = urlsplit(src)
    except ValueError:
        return True  # unreadable: not worth a link either
    host = (parts.hostname or "").lower()
    target = f"{host}{parts.path}".lower()
    for pattern in TRACKER_HOSTS:
        if "/" in pattern:
            if target.startswith(pattern) or f".{pattern}" in target:
                return True
        elif host == pattern or host.endswith("." + pattern):
            return True
    return bool(_TRACKER_PATH.search(parts.path))


def is_tiny(attrs: dict[str, str]) -> bool:
    """Declared 2×2 pixels or smaller in either direction, by attribute or inline style."""
    sizes = [attrs.get("width", ""), attrs.get("height", "")]
    for match in _STYLE_SIZE.finditer(attrs.get("style", "")):
        sizes.append(match.group(2) if match.group(3) or match.group(2) == "0" else "")
    for value in sizes:
        digits = value.strip().removesuffix("px").strip()
        try:
            if digits and float(digits) <= TINY_PIXELS:
                return True
        except ValueError:
            continue
    return False


def image_label(src: str, alt: str) -> str:
    """What the link says: the alt text, else the file name, else « image »."""
    if alt.strip():
        return " ".join(alt.split())
    name = unquote(urlsplit(src).path.rstrip("/").rsplit("/", 1)[-1])
    return name or "image"


def replace_images(cleaned: str) -> str:
    """Sanitised HTML → the same with trackers removed and other images as links.

    Inside a link an image becomes plain text (a link cannot hold another link).
    """
    if "<img" not in cleaned:
        return cleaned
    out: list[str] = []
    pos = 0
    in_link = 0
    for match in _TOKENS.finditer(cleaned):
        token = match.group(0)
        if not token.startswith("<img"):
            in_link = max(0, in_link + (1 if token.startswith("<a") else -1))
            continue
        out.append(cleaned[pos : match.start()])
        pos = match.end()
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(token)}
        src = attrs.get("src", "")
        if not src or is_tracker(src) or is_tiny(attrs):
            continue
        label = html.escape(f"Image : {image_label(src, attrs.get('alt', ''))}", quote=False)
        if in_link:
            out.append(f"[{label}]")
        else:
            href = html.escape(src, quote=True)
            out.append(f'<a href="{href}" rel="noopener noreferrer nofollow">{label}</a>')
    out.append(cleaned[pos:])
    return "".join(out)
