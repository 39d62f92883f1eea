"""The JSON API for programs: the archive's search, with the same filters as the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from veille.archive.export import records_for_hits
from veille.archive.query import MAX_PAGE
from veille.archive.search import search
from veille.web.deps import DB, Filters, archive_access

router = APIRouter(prefix="/api", dependencies=[Depends(archive_access)], tags=["articles"])


class OtherArticle(BaseModel):
    id: int
    source: str = Field(description="Clé de la source.")
    url: str
    title: str


class ArticleItem(BaseModel):
    id: int
    url: str
    title: str
    source: str = Field(description="Clé de la source (feeds.yaml).")
    published_at: str = Field(description="ISO 8601 ; date de collecte si inconnue.")
    fetched_at: str
    themes: list[str]
    score: float | None = Field(description="Valeur de 0 à 100.")
    summary: str
    text: str
    author: str | None
    language: str | None
    story_id: int | None
    partial: bool
    coverage: int = Field(description="Nombre de sources couvrant le même sujet.")
    also: list[OtherArticle] = Field(
        description="Les autres articles du même sujet (« aussi couvert par »)."
    )


class ArticlePage(BaseModel):
    items: list[ArticleItem]
    total: int = Field(
        description="Nombre d'articles trouvés, ou un minimum quand total_exact est faux."
    )
    total_exact: bool = Field(
        description="Faux pour une recherche large : le décompte s'arrête aux 10 000 "
        "premiers articles trouvés (1 000 pour une recherche de texte sur PostgreSQL). Il y "
        "a alors au moins `total` articles, `pages` est un minimum, et la page suivante "
        "existe tant que `items` est plein."
    )
    page: int
    pages: int
    per_page: int


@router.get("/articles", response_model=ArticlePage, summary="Rechercher dans l'archive")
def articles(
    query: Filters,
    session: DB,
    theme: Annotated[
        list[str] | None,
        Query(
            description="Thèmes (plusieurs, OU) ; « none » : hors thèmes. Défaut : "
            "les articles d'au moins un thème."
        ),
    ] = None,
    source: Annotated[list[str] | None, Query(description="Clés de sources (plusieurs).")] = None,
    q: Annotated[str, Query(description="Texte recherché (« phrase », -exclusion).")] = "",
    period: Annotated[str | None, Query(description="semaine | mois | annee")] = None,
    date_from: Annotated[str | None, Query(alias="from", description="AAAA-MM-JJ")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="AAAA-MM-JJ")] = None,
    sort: Annotated[
        str | None,
        Query(description="pertinence (défaut d'une recherche q) | date (défaut) | score"),
    ] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    group: Annotated[
        str,
        Query(description="story (défaut) : un article par sujet ; none : tous les articles."),
    ] = "story",
) -> ArticlePage:
    """The documented parameters are read by `archive_query` (shared with the pages); they
    are declared here too so the OpenAPI schema lists them."""
    result = search(session, query, with_facets=False)  # the API shows no facets
    return ArticlePage(
        items=[ArticleItem(**r) for r in records_for_hits(session, result.items)],
        total=result.total,
        total_exact=result.total_exact,
        page=result.page,
        pages=result.pages,
        per_page=result.per_page,
    )
