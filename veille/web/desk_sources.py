"""The desk's side of paused sources: the « Reprendre » button of the home page's banner
(`desk/_paused_sources.html`). Parsing the request and redirecting only; the query lives in
`db.source_pause`."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse, Response

from veille.db.engine import transaction
from veille.db.source_pause import resume
from veille.web.auth import CsrfDeskUserDep
from veille.web.deps import Ctx

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@router.post("/desk/sources/{key}/reprendre")
def resume_source(ctx: Ctx, user: CsrfDeskUserDep, key: str) -> Response:
    """One click: the paused source is due at once with a clean failure count."""
    with transaction(ctx.sessions) as session:
        outcome = resume(session, key, ctx.clock())
    if outcome is None:
        raise HTTPException(404)
    log.info("source %s resumed from the desk by user #%s", key, user.id)
    return RedirectResponse(f"/desk?reprise={quote(key)}", status_code=303)
