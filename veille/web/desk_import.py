"""CSV import from the desk: the browser uploads the file (spooled to disk by Starlette
past 1 MB), the same streaming reader and batched importer as `veille members import` read
it, and the page reports the counts and the invalid lines by number. A dry run rolls the
transaction back; confirmation mails leave after the response."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import Response

from veille.errors import ImportFileError
from veille.members import mails
from veille.members.csvfile import read_members_csv
from veille.members.importer import import_lines
from veille.web.auth import CsrfDeskUserDep, DeskUser, DeskUserDep
from veille.web.deps import Ctx, WebContext
from veille.web.desk_views import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

SHOWN_ERRORS = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # a 100,000-member file is a few megabytes


def send_confirmations(ctx: WebContext, member_ids: list[int]) -> None:
    """The import's double opt-in mails, after the response; failures go to the log (and
    each member's trail)."""
    try:
        run = mails.send_confirmations(
            ctx.settings, ctx.sessions, member_ids, ctx.theme_labels, ctx.clock
        )
    except Exception:  # no connection at all: nothing to show anyone, say it in the log
        log.exception("import confirmation mails stopped")
        return
    for address, error in run.failures:
        log.warning("confirmation mail to %s not sent: %s", address, error)


def _import_page(
    request: Request,
    ctx: WebContext,
    user: DeskUser,
    status: int = 200,
    **context: Any,
) -> Response:
    return render(
        request, ctx, user, "members/import.html", status, title="Importer des membres", **context
    )


@router.get("/desk/membres/import")
def import_form(request: Request, ctx: Ctx, user: DeskUserDep) -> Response:
    return _import_page(request, ctx, user)


@router.post("/desk/membres/import")
def import_members(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    background: BackgroundTasks,
    fichier: Annotated[UploadFile | None, File()] = None,
    verifier: Annotated[str, Form(max_length=5)] = "",
    confirmation: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    dry_run, ask = bool(verifier), bool(confirmation)
    options = {"dry_run": dry_run, "ask": ask}
    if fichier is None or not fichier.filename:
        return _import_page(
            request, ctx, user, 400, error="Choisissez un fichier CSV à importer.", **options
        )
    if fichier.size is not None and fichier.size > MAX_UPLOAD_BYTES:
        return _import_page(
            request,
            ctx,
            user,
            400,
            error=f"Fichier trop gros : {MAX_UPLOAD_BYTES // (1024 * 1024)} Mo au plus.",
            **options,
        )
    fichier.file.seek(0)
    try:
        # The spooled upload is read line by line: memory stays flat whatever its size.
        lines = read_members_csv(fichier.file)
        with ctx.sessions() as session:
            session.begin()
            report = import_lines(session, lines, now=ctx.clock(), require_confirmation=ask)
            if dry_run:
                session.rollback()
            else:
                session.commit()
    except ImportFileError as exc:
        return _import_page(request, ctx, user, 400, error=f"{fichier.filename} : {exc}", **options)
    mailed = 0
    if ask and not dry_run and report.to_confirm:
        mailed = len(report.to_confirm)
        background.add_task(send_confirmations, ctx, list(report.to_confirm))
    return _import_page(
        request,
        ctx,
        user,
        filename=fichier.filename,
        report=report,
        errors=report.errors[:SHOWN_ERRORS],
        more_errors=max(0, len(report.errors) - SHOWN_ERRORS),
        mailed=mailed,
        **options,
    )
