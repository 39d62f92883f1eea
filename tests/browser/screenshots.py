"""Screenshots for docs/desk.md, made by the browser tests that walk the pages: with
`VEILLE_DOC_SCREENSHOTS=1` they are written to docs/images/desk/ (commit them); otherwise
nothing is written, so an ordinary run leaves the tree clean."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images" / "desk"


def doc_screenshot(page: Any, name: str) -> Path | None:
    """The visible 1280 × 900 window (not the full page: a few tens of KB, enough to show
    where things are), only when the page is 1280 px wide."""
    if not os.environ.get("VEILLE_DOC_SCREENSHOTS") or page.viewport_size["width"] != 1280:
        return None
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    path = DOC_IMAGES / f"{name}.png"
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    return path
