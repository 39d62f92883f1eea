"""Query translation for the full-text index (`veille.db.fulltext`): a French search →
FTS5 MATCH expressions (SQLite) or tsqueries (PostgreSQL).

SQLite matches our tokens against the normalised copy; PostgreSQL's queries go through the
same `veille_unaccent` as its stored column, then the French Snowball stemmer.

User syntax (both backends): words (all required), "quoted phrases", -exclusions. Every
token is reduced to [a-z0-9] before it reaches FTS5 and is then double-quoted; PostgreSQL
gets plain text through `phraseto_tsquery`, which has no operators. Whatever the user types
(FTS syntax, SQL, junk) becomes words or nothing, never a syntax error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    bindparam,
    false,
    func,
    literal_column,
    not_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from veille.db.fulltext import FTS_TABLE, SEARCH
from veille.db.reads import read
from veille.db.tables import ArticleRow
from veille.text.french import search_fold as fold
from veille.text.french import search_tokens as tokens

MAX_TERMS = 16  # more words than this adds nothing but cost

_TOKEN = re.compile(r"[a-z0-9]+")
_QUERY_PART = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class TextQuery:
    """A parsed search: phrases that must all appear, phrases that must not.

    Each phrase keeps the user's words (for PostgreSQL's own stemmer) and our tokens (for
    FTS5 and to know whether anything searchable is left)."""

    include: tuple[tuple[str, tuple[str, ...]], ...]
    exclude: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def empty(self) -> bool:
        return not self.include and not self.exclude


def parse_text(q: str) -> TextQuery:
    """Split `q` into required and excluded phrases; a bare word is a one-word phrase."""
    include: list[tuple[str, tuple[str, ...]]] = []
    exclude: list[tuple[str, tuple[str, ...]]] = []
    for match in _QUERY_PART.finditer(
        q.replace("“", '"').replace("”", '"').replace("«", '"').replace("»", '"')
    ):
        negative, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None:
            negative = "-" if word.startswith("-") else ""
            phrase = word.lstrip("-")
        toks = tuple(tokens(phrase or ""))[:MAX_TERMS]
        if not toks:
            continue
        plain = " ".join(_TOKEN.findall(fold(phrase or ""))) or " ".join(toks)
        (exclude if negative else include).append((plain, toks))
        if len(include) + len(exclude) >= MAX_TERMS:
            break
    return TextQuery(tuple(include), tuple(exclude))


def _fts5_phrase(toks: Sequence[str]) -> str:
    # Tokens are [a-z0-9]+ only: quoting makes each a literal FTS5 string, never syntax.
    return '"' + " ".join(toks) + '"'


def fts5_expressions(tq: TextQuery) -> tuple[str | None, str | None]:
    """(must-match, must-not-match) FTS5 expressions, each None when absent."""
    must = " AND ".join(_fts5_phrase(t) for _, t in tq.include) or None
    must_not = " OR ".join(_fts5_phrase(t) for _, t in tq.exclude) or None
    return must, must_not


def fts5_query(tq: TextQuery) -> str | None:
    """One FTS5 expression for the whole search, exclusions included (`(A AND B) NOT (C OR
    D)`), so FTS5 walks its doclists once and lazily; None when nothing is required (an
    exclusion alone cannot drive FTS5)."""
    must, must_not = fts5_expressions(tq)
    if must is None:
        return None
    return f"({must}) NOT ({must_not})" if must_not else must


def _fts5_ids(expression: str, name: str) -> Any:
    return (
        text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :{name}")
        .bindparams(**{name: expression})
        .columns(literal_column("rowid", Integer))
    )


def _pg_tsquery(plain: str) -> Any:
    return func.phraseto_tsquery(literal_column("'french'::regconfig"), func.veille_unaccent(plain))


# How a text condition reaches the rows (see `text_condition`).
BY_INDEX = "index"  # from the full-text index: cheap when the text matches few articles
BY_SCAN = "scan"  # tested on rows reached through another index (date, score, source)
BY_PLANNER = "planner"  # let the database choose


def text_condition(dialect: str, tq: TextQuery, *, driver: str = BY_INDEX) -> ColumnElement[bool]:
    """A WHERE clause on `articles` for a parsed search (TRUE when there is nothing to
    search, FALSE when only stop words were given).

    `driver` says which access path the clause leaves open. BY_INDEX: the full-text index
    produces the matches (SQLite looks each up in the id-led covering index); right for a
    few thousand matches, ruinous for 500,000 that must then be sorted. BY_SCAN: the
    database walks another index (the date order, a source) and tests each row, which stops
    after a page when matches are dense: SQLite builds the match list once and hides
    `id` from the planner (`id + 0`); PostgreSQL gets the same clause, and the caller
    switches bitmap scans off (`search_plan.access`) so GIN cannot serve it. BY_PLANNER:
    SQLite as BY_SCAN, PostgreSQL with the planner's own choice."""
    if tq.empty:
        return true()
    if dialect == "postgresql":
        vector: ColumnElement[Any] = literal_column("articles.search_vector")
        clauses: list[ColumnElement[bool]] = [
            vector.op("@@")(_pg_tsquery(plain)) for plain, _ in tq.include
        ]
        clauses += [not_(vector.op("@@")(_pg_tsquery(plain))) for plain, _ in tq.exclude]
        out = clauses[0]
        for clause in clauses[1:]:
            out = out & clause
        return out
    ident: ColumnElement[Any] = SEARCH.c.id if driver == BY_INDEX else SEARCH.c.id + 0
    query = fts5_query(tq)
    if query is not None:
        return ident.in_(_fts5_ids(query, "fts_query"))
    _, must_not = fts5_expressions(tq)
    assert must_not is not None
    return ident.not_in(_fts5_ids(must_not, "fts_not"))


def fts5_rowids_between(
    session: Session, tq: TextQuery, low: int, high: int
) -> tuple[set[int], bool]:
    """Rowids in [low, high] that FTS5 finds for `tq`: (matches, True), or for a search
    made of exclusions only (excluded rowids, False). A rowid range lets FTS5 seek into its
    doclists instead of reading them whole."""
    query = fts5_query(tq)
    keep = query is not None
    if query is None:
        query = fts5_expressions(tq)[1]
    found = read(
        session,
        text(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q "
            "AND rowid BETWEEN :low AND :high"
        ),
        {"q": query, "low": low, "high": high},
    )
    return {int(r) for (r,) in found}, keep


def pg_rank_query(tq: TextQuery) -> ColumnElement[Any]:
    """PostgreSQL: the required phrases as one tsquery (`&&`), for `ts_rank`."""
    queries = [_pg_tsquery(plain) for plain, _ in tq.include]
    out = queries[0]
    for query in queries[1:]:
        out = out.op("&&")(query)
    return out


def pg_word_conditions(tq: TextQuery, limit: int = 4) -> list[ColumnElement[bool]]:
    """PostgreSQL: one condition per required word (at most `limit`), for the planner's
    estimates. A phrase or several words are priced as independent (« intérêt général »:
    13,600 rows estimated, 116,500 found); the least frequent word bounds them from above."""
    vector: ColumnElement[Any] = literal_column("articles.search_vector")
    # Stop words give PostgreSQL an empty query, estimated at one row: left out.
    words = [word for plain, _ in tq.include for word in plain.split() if tokens(word)]
    conditions: list[ColumnElement[bool]] = [
        vector.op("@@")(
            func.plainto_tsquery(literal_column("'french'::regconfig"), func.veille_unaccent(w))
        )
        for w in dict.fromkeys(words)
    ]
    return conditions[:limit]


def fts5_match(tq: TextQuery) -> ColumnElement[bool] | None:
    """`articles_fts MATCH …` for a query that joins `FTS` to `articles` on rowid = id, FTS5
    driving: rows come out as FTS5 finds them, so a LIMIT stops the walk early (an `IN`
    list is built whole first). None when the search has no required word."""
    query = fts5_query(tq)
    if query is None:
        return None
    match: ColumnElement[bool] = literal_column(FTS_TABLE).op("MATCH")(
        bindparam("fts_match", query)
    )
    return match


def article_filter(session: Session, q: str) -> ColumnElement[bool]:
    """The archive's full-text semantics as a condition on the ORM's `articles.id`, for
    queries that do not go through `SEARCH` (the desk's inbox)."""
    tq = parse_text(q)
    if tq.empty:
        return false() if q.strip() else true()
    dialect = session.get_bind().dialect.name
    matching = select(SEARCH.c.id).where(text_condition(dialect, tq))
    return ArticleRow.id.in_(matching)
