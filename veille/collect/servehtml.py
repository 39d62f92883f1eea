"""Stored article HTML → what pages and feeds serve, without parsing it again.

Why: stored HTML was sanitised once, at collection (`clean.sanitize_html`), and re-parsing
it on every view cost as much as collecting it (53 s for an item nested 100,000 deep). A
view now only checks, in one linear regex pass, that the markup is what the sanitiser
emits — allow-listed tags, allow-listed attributes, double-quoted values, http(s)/mailto
links, no comment — and rewrites images (`images.replace_images`, for rows stored before
images became links). Anything else (a row written by a bug or by hand) is sanitised again
(bounded, so linear too): defence in depth at the price of a scan.
"""

from __future__ import annotations

import re

from veille.collect.clean import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, sanitize_html
from veille.collect.images import replace_images

_TAG = re.compile(r"<(/?)([a-z0-9]+)((?:\s+[a-z-]+=\"[^\"<>]*\")*)\s*(/?)>|<|>")
_ATTR = re.compile(r'([a-z-]+)="([^"]*)"')
_SAFE_URL = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
_EXTRA = {"a": {"rel"}, "img": {"width", "height", "style"}}


def looks_sanitised(html: str) -> bool:
    """True when every tag and attribute of `html` is one the sanitiser lets through."""
    for m in _TAG.finditer(html):
        name = m.group(2)
        if name is None:  # a bare < or > outside a well-formed tag
            return False
        if name not in ALLOWED_TAGS:
            return False
        allowed = ALLOWED_ATTRIBUTES.get(name, set()) | _EXTRA.get(name, set())
        for attr, value in _ATTR.findall(m.group(3)):
            if attr not in allowed:
                return False
            if attr in ("href", "src") and not _SAFE_URL.match(value):
                return False
    return True


def served_html(stored: str, *, base_url: str) -> str:
    """The stored extract as served: checked, images as links; re-sanitised if it fails."""
    if not stored:
        return ""
    if looks_sanitised(stored):
        return replace_images(stored)
    return sanitize_html(stored, base_url=base_url)
