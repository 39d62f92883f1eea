"""`/r/<token>`: the letters' article links (`veille.newsletter.clicks`). Counts one click
for (edition, item) and answers 302 to the article's stored URL; any token that is not
ours is a 404 — never a redirect to where the token says. No login (members click from
their mail), no cookie, nothing about the reader stored or logged."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse, Response

from veille.db import clicks as click_db
from veille.db.engine import transaction
from veille.desk.curation import refresh_editor_scores
from veille.newsletter.clicks import parse_token
from veille.newsletter.render import web_url
from veille.web.deps import Ctx

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/r/{token}")
def follow(ctx: Ctx, token: str) -> Response:
    pair = parse_token(ctx.settings.secret_key, token)
    if pair is None:
        raise HTTPException(404)
    number, item_id = pair
    with transaction(ctx.sessions) as session:
        target = click_db.target(session, number, item_id)
        url = web_url(target.url) if target else ""
        if target is None or not url:
            raise HTTPException(404)
        first = False
        if ctx.settings.click_counts:
            first = click_db.count_click(session, target.edition_id, item_id) == 1
    if first:
        # The item is read for the first time: its source's `editor` score part moves
        # (bounded: `classify.score.READ_CAP`). Later clicks change nothing there.
        try:
            with transaction(ctx.sessions) as session:
                source_id = click_db.source_of_item(session, item_id)
                if source_id is not None:
                    refresh_editor_scores(session, [source_id], ctx.clock())
        except Exception:  # the reader gets the article whatever happens to a score
            log.exception("editor scores not refreshed after a first click")
    return RedirectResponse(url, status_code=302, headers=NO_STORE)
