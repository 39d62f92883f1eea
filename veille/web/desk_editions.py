"""The edition composer on the desk: the list of editions, one edition's title, edito,
sections and items (edit, reorder, add, remove), its preview as a member would get it, a
test mail to oneself, approval, sending now or at a set time, and its log.

Every page needs a desk session (`DeskUserDep`), every form post the session's CSRF token
(`CsrfDeskUserDep`). Every form works without JavaScript (one small POST form per button,
then a redirect back to the composer); `static/composer.js` adds drag and drop on top.
The rules (what may change when, the log) live in `veille.newsletter.editions`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from veille.config import Settings
from veille.db import bounces as bounce_db
from veille.db import editions as edition_db
from veille.db import members as member_db
from veille.db.engine import transaction
from veille.db.tables import AuditRow, EditionItemRow, EditionRow
from veille.errors import MailError, MemberError, VeilleError
from veille.frenchformat import PARIS, date_time
from veille.mail.render import RenderedMail
from veille.mail.sender import make_sender
from veille.members.mails import MemberLinks, links_for
from veille.members.subscriptions import normalise_email, themes_of
from veille.newsletter import editions
from veille.newsletter.render import Renderer, edition_message, edition_view
from veille.newsletter.send import send_edition
from veille.sources import THEME_IDS
from veille.web.auth import NO_STORE, CsrfDeskUserDep, DeskUser, DeskUserDep
from veille.web.deps import Ctx, WebContext
from veille.web.desk_views import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

BASE = "/desk/editions"
KEPT_SHOWN = 50
FIELD_MAX = 25_000  # above the domain's limits: the domain says which field is too long
# The mail preview is untrusted HTML shown inside the desk: its own page, no script at all,
# framed only by the desk (and the iframe adds `sandbox`).
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)

STATUS_LABELS = {
    "draft": "brouillon",
    "approved": "approuvée",
    "sending": "envoi en cours",
    "sent": "envoyée",
    "paused": "envoi suspendu",
}
DELIVERY_LABELS = {
    "sent": "envoyés",
    "pending": "en attente",
    "sending": "en cours",
    "failed": "en échec",
    "skipped": "sans article pour eux",
}
RETURNED_LABELS = {  # what came back after the send (veille.members.bounces)
    "bounced": "adresses en échec",
    "soft_bounces": "refus temporaires",
    "complaints": "plaintes pour indésirable",
}
NOTES = {
    "cree": "Brouillon créé.",
    "enregistre": "Modifications enregistrées.",
    "inchange": "Aucune modification.",
    "deplace": "Ordre modifié.",
    "retire": "Article retiré de l’édition.",
    "ajoute": "Article ajouté.",
    "approuve": "Édition approuvée.",
    "programme": "Envoi programmé.",
    "deprogramme": "Programmation annulée.",
    "test": "Envoi de test parti : vérifiez votre boîte.",
    "envoi": "Envoi lancé : les compteurs ci-dessous avancent à chaque rechargement.",
}
UP_DOWN = {"monter": "up", "descendre": "down"}


# --- what the templates show -----------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    id: int
    article_id: int | None
    title: str
    url: str
    source_name: str
    summary: str
    comment: str
    published: str
    first: bool
    last: bool


@dataclass(frozen=True)
class SectionView:
    theme: str
    label: str
    items: list[ItemView]
    first: bool
    last: bool


@dataclass(frozen=True)
class LogLine:
    at: str
    who: str
    what: str


@dataclass(frozen=True)
class KeptView:
    article_id: int
    title: str
    source_name: str
    theme: str


def sections_of(
    edition: EditionRow, items: list[EditionItemRow], labels: Mapping[str, str]
) -> list[SectionView]:
    order = [t for t in edition.section_order if t in THEME_IDS]
    order += sorted({i.theme for i in items} - set(order))
    out = []
    for index, theme in enumerate(order):
        mine = sorted((i for i in items if i.theme == theme), key=lambda i: (i.position, i.id))
        views = [
            ItemView(
                id=i.id,
                article_id=i.article_id,
                title=i.title,
                url=i.url,
                source_name=i.source_name,
                summary=i.summary,
                comment=i.comment,
                published=date_time(i.published_at),
                first=n == 0,
                last=n == len(mine) - 1,
            )
            for n, i in enumerate(mine)
        ]
        out.append(
            SectionView(theme, labels.get(theme, theme), views, index == 0, index == len(order) - 1)
        )
    return out


ACTION_LABELS = {
    "edition.approved": "approuvée",
    "edition.sending": "envoi commencé",
    "edition.sent": "envoyée",
    "edition.paused": "envoi suspendu",
    "edition.edit": "titre ou édito modifié",
    "edition.item.move": "article déplacé",
    "edition.item.edit": "textes d’un article modifiés",
    "edition.item.remove": "article retiré",
    "edition.item.add": "article ajouté",
    "edition.section.move": "rubrique déplacée",
    "edition.unschedule": "programmation annulée",
}


def log_line(row: AuditRow, labels: Mapping[str, str]) -> LogLine:
    detail: Mapping[str, Any] = row.detail or {}
    if row.action == "edition.draft":
        what = (
            "repassée en brouillon (modifiée après approbation)"
            if "from" in detail
            else f"brouillon créé ({detail.get('items', 0)} articles)"
        )
    elif row.action == "edition.schedule":
        at = detail.get("at")
        what = "envoi programmé" + (
            f" pour le {date_time(datetime.fromisoformat(at))}" if isinstance(at, str) else ""
        )
    elif row.action == "edition.test":
        what = f"envoi de test à {detail.get('to', '?')}"
    else:
        what = ACTION_LABELS.get(row.action, row.action)
        title = detail.get("title")
        if isinstance(title, str) and title:
            what += f" : « {title} »"
    return LogLine(date_time(row.at), row.actor, what)


# What every page of the composer shows besides its own context.
PAGE: dict[str, Any] = {
    "base": BASE,
    "status_labels": STATUS_LABELS,
    "delivery_labels": DELIVERY_LABELS,
    "returned_labels": RETURNED_LABELS,
}


def back_to(number: int, note: str, anchor: str = "") -> RedirectResponse:
    target = f"{BASE}/{number}?{urlencode({'fait': note})}"
    return RedirectResponse(target + (f"#{anchor}" if anchor else ""), status_code=303)


def _edition_or_404(session: Session, number: int) -> EditionRow:
    edition = edition_db.by_number(session, number)
    if edition is None:
        raise HTTPException(404)
    return edition


# --- list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EditionLine:
    number: int
    title: str
    status: str
    status_label: str
    items: int
    created: str
    scheduled: str
    sent: str
    counts: dict[str, int] | None


@router.get(BASE)
def edition_list(request: Request, ctx: Ctx, user: DeskUserDep) -> Response:
    with ctx.sessions() as session:
        lines = []
        for edition in edition_db.list_editions(session):
            counts = (
                edition_db.delivery_counts(session, edition.id)
                if edition.status in ("sending", "sent", "paused")
                else None
            )
            lines.append(
                EditionLine(
                    number=edition.number,
                    title=edition.title,
                    status=edition.status,
                    status_label=STATUS_LABELS.get(edition.status, edition.status),
                    items=len(edition_db.items_of(session, edition.id)),
                    created=date_time(edition.created_at),
                    scheduled=date_time(edition.scheduled_at),
                    sent=date_time(edition.sent_at),
                    counts=counts,
                )
            )
    return render(
        request, ctx, user, "editions/list.html", **PAGE, title="Éditions", editions=lines
    )


@router.post(BASE)
def new_draft(ctx: Ctx, user: CsrfDeskUserDep) -> Response:
    with transaction(ctx.sessions) as session:
        edition = editions.create_draft(session, now=ctx.clock(), actor=user.email)
        number = edition.number
    return back_to(number, "cree")


# --- the composer ---------------------------------------------------------------------


def kept_to_add(session: Session, edition: EditionRow, present: set[int]) -> list[KeptView]:
    """The period's kept articles not in the edition yet, best first."""
    found = [
        c
        for c in edition_db.candidates(session, edition.period_start, edition.period_end)
        if c.kept and c.article_id not in present
    ]
    found.sort(key=lambda c: (-c.score, c.article_id))
    return [
        KeptView(c.article_id, c.title, c.source_name, next(iter(c.themes), ""))
        for c in found[:KEPT_SHOWN]
    ]


def composer_page(
    request: Request,
    ctx: WebContext,
    user: DeskUser,
    session: Session,
    edition: EditionRow,
    *,
    status: int = 200,
    error: str | None = None,
    note: str | None = None,
    unsaved: dict[str, str] | None = None,
) -> Response:
    items = edition_db.items_of(session, edition.id)
    counts = edition_db.delivery_counts(session, edition.id)
    returned = bounce_db.edition_counts(session, edition.id)
    log_lines = [
        log_line(r, ctx.theme_labels)
        for r in edition_db.audit_of(session, "edition", edition.number)
    ]
    return render(
        request,
        ctx,
        user,
        "editions/composer.html",
        status,
        **PAGE,
        title=f"Édition n° {edition.number}",
        edition=edition,
        editable=edition.status in editions.EDITABLE,
        status_label=STATUS_LABELS.get(edition.status, edition.status),
        sections=sections_of(edition, items, ctx.theme_labels),
        item_count=len(items),
        kept=kept_to_add(session, edition, {i.article_id for i in items if i.article_id}),
        counts=counts,
        returned=returned,
        has_deliveries=any(counts.values()),
        log=list(reversed(log_lines)),
        period=f"du {date_time(edition.period_start)} au {date_time(edition.period_end)}",
        scheduled=date_time(edition.scheduled_at),
        schedule_default=_local_input(ctx.clock()),
        error=error,
        note=note,
        unsaved=unsaved,
    )


def _local_input(now: datetime) -> str:
    return now.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


@router.get(BASE + "/{number:int}")
def composer(
    request: Request,
    ctx: Ctx,
    user: DeskUserDep,
    number: int,
    fait: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    with ctx.sessions() as session:
        edition = _edition_or_404(session, number)
        return composer_page(request, ctx, user, session, edition, note=NOTES.get(fait))


def _refused(
    request: Request,
    ctx: WebContext,
    user: DeskUser,
    number: int,
    exc: VeilleError,
    unsaved: dict[str, str] | None = None,
) -> Response:
    """The composer again, as stored now, with the reason the change was refused."""
    status = 409 if isinstance(exc, editions.ConflictError) else 400
    if _wants_json(request):
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=NO_STORE)
    with ctx.sessions() as session:
        edition = _edition_or_404(session, number)
        return composer_page(
            request, ctx, user, session, edition, status=status, error=str(exc), unsaved=unsaved
        )


def _change(
    request: Request,
    ctx: WebContext,
    user: DeskUser,
    number: int,
    change: Callable[[Session, EditionRow], object],
    note: str | Callable[[object], str],
    anchor: str = "",
    unsaved: dict[str, str] | None = None,
) -> Response:
    """One change to edition `number` in a transaction of its own, then back to the
    composer with `note` (or the note made from what `change` returned); or the composer
    again with the reason it was refused (and the texts it did not save)."""
    try:
        with transaction(ctx.sessions) as session:
            result = change(session, _edition_or_404(session, number))
    except editions.EditionError as exc:
        return _refused(request, ctx, user, number, exc, unsaved)
    return back_to(number, note if isinstance(note, str) else note(result), anchor)


def _saved(changed: object) -> str:
    return "enregistre" if changed else "inchange"


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.post(BASE + "/{number:int}")
def save_edition(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    number: int,
    title: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    edito: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    version: Annotated[int, Form()] = 0,
) -> Response:
    return _change(
        request,
        ctx,
        user,
        number,
        lambda s, e: editions.update_edition(
            s,
            e,
            title=title,
            edito=edito,
            expected_version=version,
            actor=user.email,
            now=ctx.clock(),
        ),
        _saved,
        unsaved={"title": title, "edito": edito},
    )


@router.post(BASE + "/{number:int}/articles/{item_id:int}")
def save_item(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    number: int,
    item_id: int,
    title: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    summary: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    comment: Annotated[str, Form(max_length=FIELD_MAX)] = "",
) -> Response:
    return _change(
        request,
        ctx,
        user,
        number,
        lambda s, e: editions.set_item_texts(
            s,
            e,
            item_id,
            title=title,
            summary=summary,
            comment=comment,
            actor=user.email,
            now=ctx.clock(),
        ),
        _saved,
        f"article-{item_id}",
    )


@router.post(BASE + "/{number:int}/articles/{item_id:int}/deplacer")
def move_item(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    number: int,
    item_id: int,
    sens: Annotated[str, Form(max_length=20)] = "",
    position: Annotated[int | None, Form(ge=0, le=10_000)] = None,
    theme: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """`sens` = monter / descendre (the buttons), or `position` and `theme` (drag and drop,
    which asks for JSON and gets the edition's new version)."""
    try:
        with transaction(ctx.sessions) as session:
            edition = _edition_or_404(session, number)
            editions.move_item(
                session,
                edition,
                item_id,
                direction=UP_DOWN.get(sens, sens) if sens else None,
                position=position,
                theme=theme or None,
                actor=user.email,
                now=ctx.clock(),
            )
            version = edition.version
    except editions.EditionError as exc:
        return _refused(request, ctx, user, number, exc)
    if _wants_json(request):
        return JSONResponse({"version": version}, headers=NO_STORE)
    return back_to(number, "deplace", f"article-{item_id}")


@router.post(BASE + "/{number:int}/articles/{item_id:int}/retirer")
def remove_item(
    request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int, item_id: int
) -> Response:
    return _change(
        request,
        ctx,
        user,
        number,
        lambda s, e: editions.remove_item(s, e, item_id, actor=user.email, now=ctx.clock()),
        "retire",
        "rubriques",
    )


@router.post(BASE + "/{number:int}/articles")
def add_item(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    number: int,
    article: Annotated[str, Form(max_length=20)] = "",
    theme: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        article_id = int(article.strip().lstrip("#"))
    except ValueError:
        return _refused(
            request,
            ctx,
            user,
            number,
            editions.EditionError("Indiquez le numéro de l’article à ajouter (un nombre)."),
        )
    try:
        with transaction(ctx.sessions) as session:
            edition = _edition_or_404(session, number)
            item = editions.add_item(
                session, edition, article_id, theme or None, actor=user.email, now=ctx.clock()
            )
            item_id = item.id
    except editions.EditionError as exc:
        return _refused(request, ctx, user, number, exc)
    return back_to(number, "ajoute", f"article-{item_id}")


@router.post(BASE + "/{number:int}/rubriques/{theme}/{sens}")
def move_section(
    request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int, theme: str, sens: str
) -> Response:
    if sens not in UP_DOWN:
        raise HTTPException(404)
    direction = UP_DOWN[sens]
    return _change(
        request,
        ctx,
        user,
        number,
        lambda s, e: editions.move_section(
            s, e, theme, direction, actor=user.email, now=ctx.clock()
        ),
        "deplace",
        f"rubrique-{theme}",
    )


# --- preview and test -----------------------------------------------------------------


def placeholder_links(settings: Settings) -> MemberLinks:
    """For previews and tests: where a member's own signed links would go."""
    base = settings.base_url.rstrip("/")
    return MemberLinks(
        confirm=f"{base}/abonnement",
        preferences=f"{base}/abonnement",
        unsubscribe=f"{base}/abonnement",
    )


@dataclass(frozen=True)
class Preview:
    rendered: RenderedMail | None
    themes: tuple[str, ...]
    who: str


def preview_of(ctx: WebContext, session: Session, edition: EditionRow, email: str) -> Preview:
    """The edition as the member with `email` would get it (all themes when empty)."""
    view = edition_view(session, edition, ctx.theme_labels)
    renderer = Renderer(view, ctx.settings)
    if not email:
        rendered = renderer.render(THEME_IDS, placeholder_links(ctx.settings), "")
        return Preview(rendered, THEME_IDS, "")
    try:
        address = normalise_email(email)
    except MemberError as exc:
        raise editions.EditionError(str(exc)) from exc
    member = member_db.by_email(session, address)
    if member is None:
        raise editions.EditionError(f"Aucun membre n’a l’adresse « {email} ».")
    themes = themes_of(member)
    rendered = renderer.render(themes, links_for(ctx.settings, member, ctx.clock), member.name)
    return Preview(rendered, themes, member.email)


@router.get(BASE + "/{number:int}/apercu")
def preview(
    request: Request,
    ctx: Ctx,
    user: DeskUserDep,
    number: int,
    format: Annotated[str, Query(max_length=10)] = "html",
    membre: Annotated[str, Query(max_length=320)] = "",
) -> Response:
    if format not in ("html", "text"):
        raise HTTPException(400, "Format d’aperçu inconnu : html ou text.")
    error = None
    with ctx.sessions() as session:
        edition = _edition_or_404(session, number)
        try:
            shown: Preview | None = preview_of(ctx, session, edition, membre)
        except editions.EditionError as exc:
            shown, error = None, str(exc)
        title = edition.title
    frame_src = f"{BASE}/{number}/apercu/courriel" + (
        f"?{urlencode({'membre': membre})}" if membre else ""
    )
    return render(
        request,
        ctx,
        user,
        "editions/preview.html",
        404 if error else 200,
        **PAGE,
        title=f"Aperçu de l’édition n° {number}",
        number=number,
        edition_title=title,
        format=format,
        membre=membre,
        preview=shown,
        error=error,
        frame_src=frame_src,
        html_href=f"{BASE}/{number}/apercu?{urlencode({'format': 'html', 'membre': membre})}",
        text_href=f"{BASE}/{number}/apercu?{urlencode({'format': 'text', 'membre': membre})}",
    )


@router.get(BASE + "/{number:int}/apercu/courriel")
def preview_mail(
    ctx: Ctx,
    user: DeskUserDep,
    number: int,
    membre: Annotated[str, Query(max_length=320)] = "",
) -> Response:
    """The mail's HTML alone, for the preview's sandboxed iframe."""
    with ctx.sessions() as session:
        edition = _edition_or_404(session, number)
        try:
            shown = preview_of(ctx, session, edition, membre)
        except editions.EditionError as exc:
            raise HTTPException(404, str(exc)) from exc
    body = (
        shown.rendered.html
        if shown.rendered is not None
        else "<!doctype html><html lang='fr'><meta charset='utf-8'>"
        "<p>Aucun article dans les thèmes de ce membre : il ne recevrait pas cette édition.</p>"
    )
    return HTMLResponse(
        body,
        headers={
            **NO_STORE,
            "Content-Security-Policy": PREVIEW_CSP,
            "X-Frame-Options": "SAMEORIGIN",
        },
    )


def test_message_for(
    ctx: WebContext, session: Session, edition: EditionRow, email: str
) -> EmailMessage:
    """The edition with every theme, to `email`, subject marked « [TEST] »; no delivery
    row is written (a test is not a send), and a fresh Message-ID each time (the real
    ones are deterministic per member, and mail systems drop a Message-ID seen before)."""
    view = edition_view(session, edition, ctx.theme_labels)
    links = placeholder_links(ctx.settings)
    rendered = Renderer(view, ctx.settings).render(THEME_IDS, links, "")
    if rendered is None:
        raise editions.EditionError(
            f"L’édition n° {edition.number} n’a aucun article : rien à envoyer en test."
        )
    message = edition_message(
        ctx.settings,
        rendered,
        email,
        "",
        edition.number,
        0,
        links,
        subject=f"[TEST] {rendered.subject}",
    )
    del message["Message-ID"]
    message["Message-ID"] = make_msgid(
        domain=ctx.settings.mail_from.rpartition("@")[2].strip("> ") or None
    )
    return message


@router.post(BASE + "/{number:int}/test")
def send_test(request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int) -> Response:
    now = ctx.clock()
    try:
        with transaction(ctx.sessions) as session:
            edition = _edition_or_404(session, number)
            message = test_message_for(ctx, session, edition, user.email)
            with make_sender(ctx.settings) as sender:
                sender.send(message)
            edition_db.audit(
                session,
                actor=user.email,
                action="edition.test",
                object_type="edition",
                object_id=number,
                at=now,
                detail={"to": user.email},
            )
    except MailError as exc:
        log.warning("test mail of edition %d not sent: %s", number, exc)
        return _refused(
            request,
            ctx,
            user,
            number,
            editions.EditionError(f"L’envoi de test a échoué : {exc}"),
        )
    except editions.EditionError as exc:
        return _refused(request, ctx, user, number, exc)
    return back_to(number, "test")


# --- approval, scheduling, sending ------------------------------------------------------


@router.post(BASE + "/{number:int}/approuver")
def approve(request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int) -> Response:
    return _change(
        request,
        ctx,
        user,
        number,
        lambda s, e: editions.approve(s, e, actor=user.email, now=ctx.clock()),
        "approuve",
    )


def parse_local(value: str) -> datetime:
    """A `datetime-local` field (Paris time) → an aware datetime."""
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise editions.EditionError(
            "Date d’envoi illisible : choisissez un jour et une heure."
        ) from exc
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=PARIS)


@router.post(BASE + "/{number:int}/programmer")
def schedule(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    number: int,
    quand: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    # A date it cannot read is refused inside the transaction: nothing was written yet.
    return _change(
        request,
        ctx,
        user,
        number,
        lambda s, e: editions.schedule(s, e, parse_local(quand), actor=user.email, now=ctx.clock()),
        "programme",
    )


@router.post(BASE + "/{number:int}/deprogrammer")
def unschedule(request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int) -> Response:
    return _change(
        request,
        ctx,
        user,
        number,
        lambda s, e: editions.unschedule(s, e, actor=user.email, now=ctx.clock()),
        "deprogramme",
    )


@router.get(BASE + "/{number:int}/envoyer")
def confirm_send(request: Request, ctx: Ctx, user: DeskUserDep, number: int) -> Response:
    """Sending cannot be undone: a page that asks first, with the audience's size."""
    with ctx.sessions() as session:
        edition = _edition_or_404(session, number)
        members = member_db.counts_by_status(session).get("active", 0)
        items = len(edition_db.items_of(session, edition.id))
        return render(
            request,
            ctx,
            user,
            "editions/send.html",
            **PAGE,
            title=f"Envoyer l’édition n° {number}",
            edition=edition,
            status_label=STATUS_LABELS.get(edition.status, edition.status),
            members=members,
            items=items,
            sendable=edition.status in ("draft", "approved", "paused", "sending") and items > 0,
        )


def run_send(ctx: WebContext, number: int, actor: str) -> None:
    """After the response: the whole send. Its progress is in the deliveries table, which
    the composer shows; a crash here is resumed by the scheduler."""
    try:
        report = send_edition(ctx.sessions, ctx.settings, number, actor=actor, clock=ctx.clock)
        log.info("edition %d sent from the desk by %s: %s", number, actor, report)
    except Exception:
        log.exception("sending edition %d from the desk failed", number)


@router.post(BASE + "/{number:int}/envoyer")
def send_now(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    number: int,
    background: BackgroundTasks,
) -> Response:
    with ctx.sessions() as session:
        edition = _edition_or_404(session, number)
        status = edition.status
        has_items = bool(edition_db.items_of(session, edition.id))
    if status == "sent":
        return _refused(
            request, ctx, user, number, editions.EditionError("Cette édition est déjà envoyée.")
        )
    if not has_items:
        return _refused(
            request,
            ctx,
            user,
            number,
            editions.EditionError(f"L’édition n° {number} n’a aucun article : rien à envoyer."),
        )
    background.add_task(run_send, ctx, number, user.email)
    return back_to(number, "envoi", "suivi")
