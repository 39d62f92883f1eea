"""The composer's edit actions: the edition's title and edito, its greeting, an item's
texts, moving an item (buttons, or drag and drop), removing and adding items, moving a
section. Each is one POST with the session's CSRF token, then a redirect back to the
composer (`desk_editions`); the rules are `veille.newsletter.edits`.

The same routes answer JSON when asked (`Accept: application/json`, the composer's script):
the autosave of the edito and of every item's texts, and moves and removals without a
reload, go through them, so the forms without JavaScript and the script share one rule.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from veille.db.engine import transaction
from veille.errors import ConflictError
from veille.newsletter import editions, edits, greeting
from veille.newsletter.render import edito_html
from veille.web.auth import CsrfDeskUserDep
from veille.web.deps import Ctx
from veille.web.desk_editions import (
    BASE,
    back_to,
    change,
    edition_or_404,
    refused,
    saved,
    wants_json,
)

router = APIRouter(include_in_schema=False)

FIELD_MAX = 25_000  # above the domain's limits: the domain says which field is too long
UP_DOWN = {"monter": "up", "descendre": "down"}


def _saved(changed: object) -> str:
    return "enregistre" if changed else "inchange"


@router.post(BASE + "/{number:int}")
def save_edition(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    number: int,
    title: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    edito: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    version: Annotated[int, Form()] = 0,
    base: Annotated[str, Form(max_length=1)] = "",
    base_title: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    base_edito: Annotated[str, Form(max_length=FIELD_MAX)] = "",
) -> Response:
    """`base` = 1: `base_title` and `base_edito` are the texts the script's last save
    stored (see `edits.update_edition`); the form without JavaScript has only the version."""
    return change(
        request,
        ctx,
        user,
        number,
        lambda s, e: edits.update_edition(
            s,
            e,
            title=title,
            edito=edito,
            expected_version=version,
            actor=user.email,
            now=ctx.clock(),
            base=(base_title, base_edito) if base else None,
        ),
        _saved,
        unsaved={"title": title, "edito": edito},
        answer=lambda s, e: {"edito_html": edito_html(e.edito), "title": e.title, "edito": e.edito},
    )


@router.post(BASE + "/{number:int}/salutation")
def save_greeting(
    request: Request,
    ctx: Ctx,
    user: CsrfDeskUserDep,
    number: int,
    greeting_on: Annotated[str, Form(max_length=10)] = "",
    wording: Annotated[str, Form(max_length=FIELD_MAX)] = "",
) -> Response:
    """The letter's greeting: the checkbox (sent only when ticked) and the wording."""
    return change(
        request,
        ctx,
        user,
        number,
        lambda s, e: edits.update_greeting(
            s, e, enabled=bool(greeting_on), wording=wording, actor=user.email, now=ctx.clock()
        ),
        _saved,
        "salutation",
        answer=lambda s, e: {"greeting": greeting.shown(e.greeting_on, e.greeting)},
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
    return change(
        request,
        ctx,
        user,
        number,
        lambda s, e: edits.set_item_texts(
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
            edition = edition_or_404(session, number)
            edits.move_item(
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
    except (editions.EditionError, ConflictError) as exc:
        return refused(request, ctx, user, number, exc)
    if wants_json(request):
        return saved(version, "deplace")
    return back_to(number, "deplace", f"article-{item_id}")


@router.post(BASE + "/{number:int}/articles/{item_id:int}/retirer")
def remove_item(
    request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int, item_id: int
) -> Response:
    return change(
        request,
        ctx,
        user,
        number,
        lambda s, e: edits.remove_item(s, e, item_id, actor=user.email, now=ctx.clock()),
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
    chercher: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """An article by id: from the search results (`chercher`, the search to come back to)
    or the period's kept articles."""
    try:
        article_id = int(article.strip().lstrip("#"))
    except ValueError:
        return refused(
            request,
            ctx,
            user,
            number,
            editions.EditionError("Indiquez le numéro de l’article à ajouter (un nombre)."),
        )
    try:
        with transaction(ctx.sessions) as session:
            edition = edition_or_404(session, number)
            item = edits.add_item(
                session, edition, article_id, theme or None, actor=user.email, now=ctx.clock()
            )
            item_id = item.id
    except (editions.EditionError, ConflictError) as exc:
        return refused(request, ctx, user, number, exc)
    if chercher.strip():
        return back_to(number, "ajoute", "ajouter", chercher=chercher)
    return back_to(number, "ajoute", f"article-{item_id}")


@router.post(BASE + "/{number:int}/rubriques/{theme}/{sens}")
def move_section(
    request: Request, ctx: Ctx, user: CsrfDeskUserDep, number: int, theme: str, sens: str
) -> Response:
    if sens not in UP_DOWN:
        raise HTTPException(404)
    direction = UP_DOWN[sens]
    return change(
        request,
        ctx,
        user,
        number,
        lambda s, e: edits.move_section(s, e, theme, direction, actor=user.email, now=ctx.clock()),
        "deplace",
        f"rubrique-{theme}",
    )
