"""Open-data exports of any archive filter, streamed: the response starts at once and
memory stays flat whatever the number of rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from veille.archive import export
from veille.archive.query import ArchiveQuery
from veille.web.deps import Ctx, Filters, WebContext, archive_access

router = APIRouter(dependencies=[Depends(archive_access)], tags=["export"])

Writer = Callable[[Iterable[dict[str, Any]]], Iterator[str]]


def stream(ctx: WebContext, query: ArchiveQuery, writer: Writer) -> Iterator[bytes]:
    """The session lives as long as the body is being sent, not as long as the route."""
    with ctx.sessions() as session:
        for chunk in writer(export.iter_records(session, query)):
            yield chunk.encode("utf-8")


def attachment(ctx: WebContext, extension: str, *, suffix: str = "") -> dict[str, str]:
    name = f"veille-articles-{ctx.today().isoformat()}{suffix}.{extension}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


EXPORT_DOC = (
    "Tous les articles correspondant aux filtres (mêmes paramètres que l'archive), en flux. "
    "Colonnes : " + ", ".join(export.EXPORT_FIELDS) + "."
)


@router.get(
    "/export.csv",
    summary="Export CSV",
    description=EXPORT_DOC,
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, en-tête en 1re ligne"}},
)
def export_csv(
    query: Filters,
    ctx: Ctx,
    tableur: Annotated[
        str | None,
        Query(
            description="1 : pour un tableur en français (Excel, LibreOffice) : séparateur "
            "« ; », UTF-8 avec BOM, virgule décimale, dates JJ/MM/AAAA, colonnes en français."
        ),
    ] = None,
) -> StreamingResponse:
    if tableur:
        return StreamingResponse(
            stream(ctx, query, partial(export.spreadsheet_chunks, theme_labels=ctx.theme_labels)),
            media_type="text/csv; charset=utf-8",
            headers=attachment(ctx, "csv", suffix="-tableur"),
        )
    return StreamingResponse(
        stream(ctx, query, export.csv_chunks),
        media_type="text/csv; charset=utf-8",
        headers=attachment(ctx, "csv"),
    )


@router.get(
    "/export.jsonl",
    summary="Export JSON Lines",
    description=EXPORT_DOC,
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "Un objet par ligne"}},
)
def export_jsonl(query: Filters, ctx: Ctx) -> StreamingResponse:
    return StreamingResponse(
        stream(ctx, query, export.jsonl_chunks),
        media_type="application/x-ndjson; charset=utf-8",
        headers=attachment(ctx, "jsonl"),
    )
