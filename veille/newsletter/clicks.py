"""What members read, without tracking anyone: the item links of a letter go through
`/r/<token>`, which counts one click for (edition, item) and redirects to the article.

- The token is `<edition number>-<item id>-<signature>`: an HMAC-SHA256 of the pair with
  the instance's secret key (`VEILLE_SECRET_KEY`), 128 bits kept. It names no member: the
  same link is in every member's letter, so a click cannot be tied to a person (no
  personal data, no consent to ask — CNIL). Nothing about the request (IP, user agent) is
  stored.
- The target is **looked up** (the item's stored URL), never read from the token: a
  forged or altered token finds nothing (404), so `/r/` can never redirect anywhere the
  letter did not link to.
- `VEILLE_CLICK_COUNTS=false` sends letters with the articles' own links; tokens in
  letters already sent still redirect (nobody gets a dead link), without counting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from veille.config import Settings
from veille.db import clicks as click_db
from veille.newsletter.render import EditionView

PREFIX = "/r/"
_TOKEN = re.compile(r"^([1-9][0-9]{0,9})-([1-9][0-9]{0,12})-([A-Za-z0-9_-]{22})$")


def _signature(secret: str, number: int, item_id: int) -> str:
    mac = hmac.new(secret.encode(), f"click:{number}:{item_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


def token_for(secret: str, number: int, item_id: int) -> str:
    return f"{number}-{item_id}-{_signature(secret, number, item_id)}"


def parse_token(secret: str, token: str) -> tuple[int, int] | None:
    """(edition number, item id) of a genuine token, else None (compared in constant
    time)."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    number, item_id = int(match.group(1)), int(match.group(2))
    if not hmac.compare_digest(match.group(3), _signature(secret, number, item_id)):
        return None
    return number, item_id


def tracked_view(view: EditionView, settings: Settings) -> EditionView:
    """The view with each item's link through `/r/` (items without a web link, or not
    stored as edition items, keep theirs). Unchanged when click counts are off."""
    if not settings.click_counts:
        return view
    base = settings.base_url.rstrip("/")
    sections = tuple(
        replace(
            section,
            items=tuple(
                replace(
                    item,
                    url=base + PREFIX + token_for(settings.secret_key, view.number, item.item_id),
                )
                if item.url and item.item_id
                else item
                for item in section.items
            ),
        )
        for section in view.sections
    )
    return replace(view, sections=sections)


def clicks_summary(session: Session, edition_id: int) -> dict[str, Any]:
    """`{"total": n, "items": {item id: n}}` — `veille edition status --json` and the
    composer's « Suivi » (item ids as strings there: JSON keys)."""
    per_item = click_db.clicks_of(session, edition_id)
    return {"total": sum(per_item.values()), "items": per_item}


@dataclass(frozen=True)
class ItemClicks:
    title: str
    source: str
    clicks: int


def read_items(session: Session, edition_id: int, items: Sequence[Any]) -> list[ItemClicks]:
    """The edition's items by clicks, most read first (items never followed included:
    what members skipped says something too)."""
    per_item = click_db.clicks_of(session, edition_id)
    rows = [ItemClicks(i.title, i.source_name, per_item.get(i.id, 0)) for i in items]
    return sorted(rows, key=lambda r: -r.clicks)
