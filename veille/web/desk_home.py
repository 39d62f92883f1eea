"""The desk's home page (`/desk`): the week's work, each line linking to where it is done
(`veille.desk.week` gathers it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from veille.db import members as member_db
from veille.db import source_pause
from veille.desk.week import week
from veille.web.auth import DeskUserDep
from veille.web.deps import Ctx
from veille.web.desk_views import STATUS_GROUPS, render

router = APIRouter(include_in_schema=False)


@router.get("/desk")
def desk_home(request: Request, ctx: Ctx, user: DeskUserDep) -> Response:
    settings = ctx.settings
    with ctx.sessions() as session:
        counts = member_db.counts_by_status(session)
        paused_sources = source_pause.paused(session)
        this_week = week(
            session, ctx.clock(), ctx.theme_labels, settings.edition_day, settings.edition_time
        )
    return render(
        request,
        ctx,
        user,
        "home.html",
        title="Bureau de la veille",
        counts=counts,
        paused_sources=paused_sources,
        groups=STATUS_GROUPS,
        week=this_week,
    )
