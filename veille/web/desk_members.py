"""The delegate's members desk: list, search, edit, pause, resume, unsubscribe, delete, add
by hand (the CSV import lives in `desk_import`, whose routes this router carries, so the
app includes one router for the whole members desk).

Every page needs a desk session (`DeskUserDep`) and every form post the session's CSRF
token (`CsrfDeskUserDep`). Every change goes through `veille.members.subscriptions`, which
leaves an event naming the desk user, so a member's trail says who did what. Pages carry
`Cache-Control: no-store`: they show personal data.
"""

from __future__ import annotations

import logging
import math
from email.message import EmailMessage
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Form,
    HTTPException,
    Query,
    Request,
)
from fastapi.responses import Response
from sqlalchemy.orm import Session

from veille.db import members as member_db
from veille.db.engine import transaction
from veille.db.scrub import checkpoint_sessions
from veille.db.tables import MemberRow
from veille.errors import MemberError
from veille.frenchformat import date_time
from veille.members import bounces, mails, subscriptions
from veille.web import desk_import
from veille.web.auth import CsrfDeskUserDep, DeskUser, DeskUserDep
from veille.web.deps import Ctx, WebContext
from veille.web.desk_views import (
    CONSENT_METHODS,
    FIELD_MAX,
    NOTES,
    STATUS_GROUPS,
    STATUS_LABELS,
    EventView,
    back_to,
    event_view,
    member_view,
    render,
)
from veille.web.members import deliver

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
router.include_router(desk_import.router)

PAGE_SIZE = 50


# --- landing and list -----------------------------------------------------------------


def list_href(q: str, statut: str, relance: bool, page: int = 1) -> str:
    params: dict[str, str] = {}
    if q:
        params["q"] = q
    if statut:
        params["statut"] = statut
    if relance:
        params["relance"] = "1"
    if page > 1:
        params["page"] = str(page)
    return "/desk/membres" + (f"?{urlencode(params)}" if params else "")


@router.get("/desk/membres")
def member_list(
    request: Request,
    ctx: Ctx,
    user: DeskUserDep,
    q: Annotated[str, Query(max_length=200)] = "",
    statut: Annotated[str, Query(max_length=20)] = "",
    relance: Annotated[str, Query(max_length=5)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    fait: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    q = q.strip()
    if statut and statut not in STATUS_LABELS:
        raise HTTPException(400, f"Statut inconnu : choisir parmi {', '.join(STATUS_LABELS)}.")
    reconsent_only = relance == "1"
    now = ctx.clock()
    cutoff = now - subscriptions.RECONSENT_AFTER
    with ctx.sessions() as session:
        counts = member_db.counts_by_status(session)
        to_remind = member_db.search(session, inactive_before=cutoff, limit=0).total
        found = member_db.search(
            session,
            text=q,
            status=statut or None,
            inactive_before=cutoff if reconsent_only else None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        reasons = bounces.reasons(session, found.items)
        rows = [member_view(m, ctx.theme_labels, now, reasons.get(m.id)) for m in found.items]
    pages = max(1, math.ceil(found.total / PAGE_SIZE))
    return render(
        request,
        ctx,
        user,
        "members/list.html",
        title="Membres",
        rows=rows,
        total=found.total,
        counts=counts,
        groups=STATUS_GROUPS,
        to_remind=to_remind,
        q=q,
        statut=statut,
        relance=reconsent_only,
        page=page,
        pages=pages,
        prev_href=list_href(q, statut, reconsent_only, page - 1) if page > 1 else None,
        next_href=list_href(q, statut, reconsent_only, page + 1) if page < pages else None,
        status_href={s: list_href("", s, False) for s in STATUS_GROUPS},
        remind_href=list_href("", "", True),
        note=NOTES.get(fait),
    )


# --- one member -----------------------------------------------------------------------


def _member_or_404(session: Session, member_id: int) -> MemberRow:
    member = member_db.by_id(session, member_id)
    if member is None:
        raise HTTPException(404)
    return member


def _edit_page(
    request: Request,
    ctx: WebContext,
    user: DeskUser,
    member: MemberRow,
    events: list[EventView],
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    note: str | None = None,
) -> Response:
    now = ctx.clock()
    values = form or {
        "name": member.name,
        "organisation": member.organisation,
        "themes": member.themes or [],
    }
    return render(
        request,
        ctx,
        user,
        "members/edit.html",
        status,
        title=f"Membre {member.email}",
        member=member_view(member, ctx.theme_labels, now),
        consent_method=CONSENT_METHODS.get(member.consent_method or "", ""),
        consent_at=date_time(member.consent_at),
        consent_wording=member.consent_wording or "",
        created_at=date_time(member.created_at),
        form=values,
        events=events,
        error=error,
        note=note,
    )


def _events(session: Session, member_id: int) -> list[EventView]:
    return [
        event_view(e.kind, e.at, e.detail or {})
        for e in reversed(member_db.events_of(session, member_id))
    ]


@router.get("/desk/membres/{member_id:int}")
def member_page(
    request: Request,
    ctx: Ctx,
    user: DeskUserDep,
    member_id: int,
    fait: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    with ctx.sessions() as session:
        member = _member_or_404(session, member_id)
        return _edit_page(
            request, ctx, user, member, _events(session, member_id), note=NOTES.get(fait)
        )


@router.post("/desk/membres/{member_id:int}")
def edit_member(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    member_id: int,
    name: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    organisation: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    themes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    path = f"/desk/membres/{member_id}"
    with transaction(ctx.sessions) as session:
        member = _member_or_404(session, member_id)
        try:
            changed = subscriptions.update_identity(
                session,
                member,
                name=name,
                organisation=organisation,
                themes=themes,
                now=ctx.clock(),
                by=user.email,
            )
        except MemberError as exc:
            form = {"name": name, "organisation": organisation, "themes": themes or []}
            return _edit_page(
                request,
                ctx,
                user,
                member,
                _events(session, member_id),
                status=400,
                error=str(exc),
                form=form,
            )
    return back_to(path, "enregistre" if changed else "inchange")


@router.post("/desk/membres/{member_id:int}/{action}")
def change_status(ctx: Ctx, user: CsrfDeskUserDep, member_id: int, action: str) -> Response:
    """Pause, resume, unsubscribe (the paths name the buttons, in French)."""
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        member = _member_or_404(session, member_id)
        if action == "suspendre":
            subscriptions.pause(session, member, now, by=user.email)
            note = "suspendu"
        elif action == "reprendre":
            subscriptions.resume(session, member, now, by=user.email)
            note = "repris"
        elif action == "desabonner":
            subscriptions.unsubscribe(session, member, now, "desk", by=user.email)
            note = "desabonne"
        elif action == "supprimer":
            subscriptions.erase(session, member)
            log.info("member #%s erased from the desk by user #%s", member_id, user.id)
            note = "supprime"
        else:
            raise HTTPException(404)
    if note == "supprime":
        checkpoint_sessions(ctx.sessions)  # no copy left in the WAL file
        return back_to("/desk/membres", note)
    return back_to(f"/desk/membres/{member_id}", note)


@router.get("/desk/membres/{member_id:int}/supprimer")
def confirm_delete(request: Request, ctx: Ctx, user: DeskUserDep, member_id: int) -> Response:
    """Deleting cannot be undone: a page that asks first (no script needed)."""
    with ctx.sessions() as session:
        member = _member_or_404(session, member_id)
        view = member_view(member, ctx.theme_labels, ctx.clock())
    return render(
        request, ctx, user, "members/delete.html", title="Supprimer un membre", member=view
    )


# --- adding by hand -------------------------------------------------------------------


@router.get("/desk/membres/ajouter")
def add_form(request: Request, ctx: Ctx, user: DeskUserDep) -> Response:
    return render(
        request, ctx, user, "members/add.html", title="Ajouter un membre", form={"themes": []}
    )


@router.post("/desk/membres/ajouter")
def add_member(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    name: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    organisation: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    themes: Annotated[list[str] | None, Form()] = None,
    confirmation: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    ask = bool(confirmation)
    try:
        with transaction(ctx.sessions) as session:
            outcome = subscriptions.add_by_hand(
                session,
                email=email,
                name=name,
                organisation=organisation,
                themes=themes,
                now=ctx.clock(),
                by=user.email,
                require_confirmation=ask,
            )
            member_id = outcome.member.id
    except MemberError as exc:
        existing: int | None = None
        with ctx.sessions() as session:
            try:
                found = member_db.by_email(session, subscriptions.normalise_email(email))
                existing = found.id if found is not None else None
            except MemberError:
                pass
        form = {
            "email": email,
            "name": name,
            "organisation": organisation,
            "themes": themes or [],
            "confirmation": ask,
        }
        return render(
            request,
            ctx,
            user,
            "members/add.html",
            400,
            title="Ajouter un membre",
            form=form,
            error=str(exc),
            existing=existing,
        )
    if outcome.mail == "confirm":
        settings, labels, clock = ctx.settings, ctx.theme_labels, ctx.clock

        def build() -> EmailMessage:
            with ctx.sessions() as session:
                member = member_db.by_id(session, member_id)
                if member is None:
                    raise MemberError("member vanished before its mail")
                return mails.confirmation_message(settings, member, labels, clock)

        background.add_task(deliver, ctx, build, member_id)
        return back_to(f"/desk/membres/{member_id}", "confirmation")
    return back_to(f"/desk/membres/{member_id}", "ajoute")
