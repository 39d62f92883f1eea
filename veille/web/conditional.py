"""Validators for the public archive: an ETag and a Last-Modified derived from the data
version (`veille.db.data_version`), and the answer to conditional requests.

An anonymous answer of the public archive is a function of the request (method, path,
normalised query, the class of its Accept header), the data version and the day in Paris (the
« cette semaine » filters and the /sources charts move at midnight). The ETag is a digest
of exactly that, so any worker can answer `304 Not Modified` without rendering, and a
collection, a desk decision or a sent edition changes every ETag at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode

from veille.db.data_version import DataVersion
from veille.frenchformat import PARIS


def wants_html(accept: str) -> bool:
    """A browser navigating (its Accept names an HTML type first), as opposed to a feed
    reader or a script; the one content negotiation the public archive does."""
    return accept.startswith(("text/html", "application/xhtml"))


def wants_json(accept: str) -> bool:
    """A script asking for JSON (the composer's, the API's clients)."""
    return "application/json" in accept


def accept_variant(accept: str) -> str:
    """The class of an Accept header that an answer can depend on. Keying on the raw header
    split the cache by browser (Chromium, Firefox and Safari send different strings for the
    same navigation) and by Accept-Encoding, which the app never acts on (it does not
    compress; a proxy in front does): a crowd arriving from a newsletter then rendered each
    page once per browser."""
    if wants_html(accept):
        return "html"
    return "json" if wants_json(accept) else ""


@dataclass(frozen=True)
class Validators:
    key: tuple[str, ...]
    etag: str
    last_modified: datetime

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"etag", self.etag.encode()),
            (b"last-modified", format_datetime(self.last_modified, usegmt=True).encode()),
        ]


def normalised_query(query_string: bytes) -> str:
    """The query with its pairs sorted, so `?a=1&b=2` and `?b=2&a=1` share an entry."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return urlencode(sorted(pairs))


def validators(
    method: str,
    path: str,
    query_string: bytes,
    headers: dict[bytes, bytes],
    version: DataVersion,
    today: date,
) -> Validators:
    key = (
        method,
        path,
        normalised_query(query_string),
        accept_variant(headers.get(b"accept", b"").decode("latin-1")),
        str(version.number),
        today.isoformat(),
    )
    digest = hashlib.blake2b("\x00".join(key).encode(), digest_size=12).hexdigest()
    midnight = datetime.combine(today, time(0), tzinfo=PARIS).astimezone(UTC)
    changed = version.changed_at.astimezone(UTC)
    last_modified = max(changed, midnight).replace(microsecond=0)
    return Validators(key, f'"{version.number}-{digest}"', last_modified)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def not_modified(v: Validators, headers: dict[bytes, bytes]) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only without it. `*` is not
    honoured: the answer is not rendered yet, so whether the URL names anything (or is a
    404) is unknown here; such a request is simply answered in full."""
    if_none_match = headers.get(b"if-none-match")
    if if_none_match is not None:
        return v.etag in _etags(if_none_match.decode("latin-1"))
    if_modified_since = headers.get(b"if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since.decode("latin-1"))
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC says
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return v.last_modified <= since
