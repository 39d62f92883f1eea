"""The desk's story corrections, as JSON actions beside the article actions of
`veille.web.desk` (same CSRF guard, same French errors): take an article out of its
story, join two stories, pick the article that represents a story. Parsing and answers
only; `veille.desk.stories` does the work."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from veille.db import themes as theme_db
from veille.db.engine import transaction
from veille.desk import curation
from veille.desk import inbox as inbox_model
from veille.desk import stories as desk_stories
from veille.web.auth import NO_STORE, CsrfDeskUserDep
from veille.web.deps import Ctx
from veille.web.desk import item_json

router = APIRouter(include_in_schema=False)

STORY_ACTIONS = ("take_out", "join", "lead")


class StoryBody(BaseModel):
    action: str = Field(max_length=20)
    # join: an article of the story that joins this article's story
    other: int | None = None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=NO_STORE)


@router.post("/desk/api/articles/{article_id}/story")
def story_action(ctx: Ctx, user: CsrfDeskUserDep, article_id: int, body: StoryBody) -> Response:
    if body.action not in STORY_ACTIONS:
        return _error(400, f"Action de sujet inconnue : {body.action[:20]}.")
    if body.action == "join" and body.other is None:
        return _error(400, "Indiquez l'article dont le sujet rejoint celui-ci (« other »).")
    try:
        with transaction(ctx.sessions) as session:
            if body.action == "take_out":
                change = desk_stories.take_out(session, article_id)
            elif body.action == "join":
                change = desk_stories.join(session, article_id, int(body.other or 0))
            else:
                change = desk_stories.lead(session, article_id)
    except curation.UnknownArticle as exc:
        return _error(404, str(exc))
    except curation.CurationError as exc:
        return _error(400, str(exc))
    ids = [article_id, *(i for i in change.moved if i != article_id)]
    with ctx.sessions() as session:
        thresholds = theme_db.active_thresholds(session)
        items: list[dict[str, Any]] = [
            item_json(i, ctx, thresholds) for i in inbox_model.items(session, ids)
        ]
    return JSONResponse(
        {"items": items, "stories": list(change.stories), "moved": list(change.moved)},
        headers=NO_STORE,
    )
