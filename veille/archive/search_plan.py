"""How an archive search becomes SQL: the filters as clauses on `SEARCH`, and the access
path a page query takes (`driver_for`, `access`, `sqlite_walk`, keyset batches), per
backend; the counts that choose it are `veille.archive.search_counts`.

Kept apart from `veille.archive.search` (which turns these into pages, facets and
streams) because this is where the measured planner workarounds live: each is explained
where it is made, with the figures that justified it (benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    type_coerce,
)
from sqlalchemy.orm import Session

from veille.archive import bm25, fulltext_query, source_table
from veille.archive.query import ArchiveQuery
from veille.db import fulltext
from veille.db.fulltext import SEARCH
from veille.db.reads import read
from veille.frenchformat import day_start

# PostgreSQL goes through GIN for the page when it estimates fewer than PG_SCAN_ROWS
# matches (see `driver_for`).
PG_SCAN_ROWS = 20_000
# SQLite, a search within a period: FTS5 is held to the period's id range when the period
# holds at most this many rows (`period_ids`); a wider one gains little and costs its scan.
PERIOD_RANGE_ROWS = 200_000


@dataclass(frozen=True)
class Plan:
    """A query turned into SQL pieces: the period and text shared by the counts, the
    theme and source filters added for the listed page."""

    period: tuple[ColumnElement[bool], ...]
    text: fulltext_query.TextQuery
    dialect: str
    theme_bits: int  # 0: no theme filter
    source_ids: frozenset[int] | None  # None: no source filter
    impossible: bool  # nothing can match (unknown sources, only stop words)
    # `theme=none` was asked (off-topic rows match too); with no theme at all, only
    # on-topic rows match (`theme_condition`, summed in SQL by `counts`).
    off_topic: bool = False
    # One row per story: the representatives (`fulltext.DUPLICATE_BIT` clear). Like the
    # theme filter, applied to the counting sample in `counts`' sums, so
    # the sample reads as many rows as without grouping; facets count stories too.
    grouped: bool = False
    # SQLite: the ids of the period's rows lie in [low, high] (`period_ids`), a bound FTS5
    # applies while it walks its doclists.
    id_range: tuple[int, int] | None = None
    # The period's bounds as `period` compares them (None: open), for statements built
    # once with bound parameters (`search_counts.counts_statement`).
    start: datetime | None = None
    end: datetime | None = None

    def fts5_match(self) -> ColumnElement[bool] | None:
        """`fulltext_query.fts5_match`, held to the period's id range when known (named
        parameters, like the period's: see `period_conditions`)."""
        match = fulltext_query.fts5_match(self.text)
        return None if match is None else self.within_ids(match)

    def within_ids(self, match: ColumnElement[bool]) -> ColumnElement[bool]:
        """An FTS5 `match` held to the period's id range, when known."""
        if self.id_range is None:
            return match
        low, high = self.id_range
        return and_(
            match,
            fulltext.FTS.c.rowid.between(bindparam("id_low", low), bindparam("id_high", high)),
        )

    def theme_condition(
        self, mask: ColumnElement[Any] = SEARCH.c.theme_mask
    ) -> ColumnElement[bool]:
        """The theme filter on `mask` (a `theme_mask` column: the table's, or the
        counting sample's in `counts`)."""
        if not self.theme_bits and not self.off_topic:
            return mask.op("&")(fulltext.ALL_THEMES) != 0
        conds = []
        if self.theme_bits:
            conds.append(mask.op("&")(self.theme_bits) != 0)
        if self.off_topic:
            conds.append(mask.op("&")(fulltext.ALL_THEMES) == 0)
        return or_(*conds)

    @property
    def has_text(self) -> bool:
        return not self.text.empty

    @property
    def filtered(self) -> bool:
        """Whether theme or source filters narrow the base (period + text)."""
        return True  # the theme filter always narrows: on-topic by default

    def filters(self, *, narrow: bool) -> list[ColumnElement[bool]]:
        conds = list(self.period)
        if narrow:
            conds.append(self.theme_condition())
            if self.grouped:
                conds.append(SEARCH.c.theme_mask.op("&")(fulltext.DUPLICATE_BIT) == 0)
        if narrow and self.source_ids is not None:
            # A named parameter, like the period's: a statement built once takes a plan's
            # own ids by this name (`page_statement`).
            ids: Any = bindparam("source_ids", sorted(self.source_ids), expanding=True)
            conds.append(SEARCH.c.source_id.in_(ids))
        return conds

    def where(self, *, narrow: bool, driver: str = fulltext_query.BY_INDEX) -> ColumnElement[bool]:
        conds = self.filters(narrow=narrow)
        if self.has_text:
            conds.append(fulltext_query.text_condition(self.dialect, self.text, driver=driver))
        return and_(true(), *conds)


def plan_of(session: Session, query: ArchiveQuery) -> Plan:
    dialect = session.get_bind().dialect.name
    start = day_start(query.date_from) if query.date_from else None
    end = day_start(query.date_to + timedelta(days=1)) if query.date_to else None
    period = period_conditions(start, end)
    tq = fulltext_query.parse_text(query.q)
    impossible = bool(query.q.strip()) and tq.empty  # only stop words or punctuation
    source_ids: frozenset[int] | None = None
    if query.sources:
        source_ids = source_table.ids_of(session, query.sources)
        impossible = impossible or not source_ids
    theme_bits = fulltext.theme_mask(query.themes)
    if query.themes and not theme_bits and not query.off_topic:
        impossible = True
    id_range = None
    if dialect == "sqlite" and period and not tq.empty and not impossible:
        id_range = period_ids(session, start, end)
    return Plan(
        tuple(period),
        tq,
        dialect,
        theme_bits,
        source_ids,
        impossible,
        off_topic=query.off_topic,
        grouped=query.group,
        id_range=id_range,
        start=start,
        end=end,
    )


def period_conditions(start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    """The period filter on `SEARCH` (None: open on that side), its bounds as named
    parameters (`period_start`, `period_end`): a statement built once from a plan of
    placeholder values (`search_counts.counts_statement`) takes a plan's own values by
    these names, so the SQL is built in one place whether its values are bound at once or
    at each call. The same names as `Plan.fts5_match`'s `id_low` and `id_high`."""
    when = SEARCH.c.published_or_fetched
    period: list[ColumnElement[bool]] = []
    if start is not None:
        period.append(when >= bindparam("period_start", start))
    if end is not None:
        period.append(when < bindparam("period_end", end))
    return period


# Values a statement built once per shape holds until a plan's own replace them.
PLACEHOLDER_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def shape_plan(
    *,
    start: bool,
    end: bool,
    text: bool,
    theme_bits: int,
    sources: bool,
    off_topic: bool,
    grouped: bool,
    id_range: bool = False,
) -> Plan:
    """A SQLite plan of that shape with placeholder values, for the statements built once
    per shape and then bound to each plan's values (`search_counts.counts_statement`,
    `page_query.page_statement`)."""
    return Plan(
        tuple(
            period_conditions(
                PLACEHOLDER_TIME if start else None, PLACEHOLDER_TIME if end else None
            )
        ),
        fulltext_query.parse_text("placeholder" if text else ""),
        "sqlite",
        theme_bits,
        frozenset({0}) if sources else None,
        False,
        off_topic=off_topic,
        grouped=grouped,
        id_range=(0, 0) if id_range else None,
    )


def period_values(plan: Plan) -> dict[str, Any]:
    """The values `period_conditions`' parameters take for `plan`'s bounds, bound at each
    call of a statement built once (`shape_plan`)."""
    values: dict[str, Any] = {}
    if plan.start is not None:
        values["period_start"] = plan.start
    if plan.end is not None:
        values["period_end"] = plan.end
    return values


def period_ids(
    session: Session, start: datetime | None, end: datetime | None
) -> tuple[int, int] | None:
    """SQLite: a range of ids holding every id of the rows published (or fetched) in
    [start, end), when the period's days hold at most PERIOD_RANGE_ROWS rows (else None: no
    bound), read from `article_days` (one row per UTC day, kept by triggers: migration
    0014ds).

    FTS5 otherwise walks every match of a word before the period filter sees it: a common
    word (« données », in half the archive) searched within a month or a year read all its
    matches for the counts and scored all of them for relevance — 0.3–1 s at 100,000
    articles on the shared machine, ten times that at 1M. Ids follow collection order, so
    a period's rows span a narrow id range, and FTS5 seeks into its doclists within
    `rowid BETWEEN`. The range only has to contain the period's ids (the period filter
    still applies): whole UTC days around the period's Paris days, bounds that only widen
    when an article is deleted or moved. Read from the date index instead (every row of
    the period: up to 200,000) it cost 25–30 ms of CPU a search at 1M articles. No day:
    (1, 0), nothing."""
    first = start.astimezone(UTC).date().isoformat() if start else "0000-00-00"
    last = end.astimezone(UTC).date().isoformat() if end else "9999-12-31"
    low, high, count = read(
        session,
        text(
            "SELECT min(low_id), max(high_id), sum(rows) FROM article_days "
            "WHERE day BETWEEN :first AND :last"
        ),
        {"first": first, "last": last},
    ).one()
    if (count or 0) > PERIOD_RANGE_ROWS:
        return None
    return (1, 0) if low is None else (int(low), int(high))


def matching(plan: Plan, columns: Sequence[ColumnElement[Any]], *, narrow: bool) -> Select[Any]:
    """`columns` of the rows matching the plan, in whatever order is cheapest to produce,
    for counts with a LIMIT: on SQLite, FTS5 drives a join (its matches stream out, each
    looked up in the id-led covering index); elsewhere, the database's own choice."""
    match = plan.fts5_match() if plan.dialect == "sqlite" else None
    if match is None:
        return (
            select(*columns)
            .select_from(SEARCH)
            .where(plan.where(narrow=narrow, driver=fulltext_query.BY_PLANNER))
        )
    return (
        select(*columns)
        .select_from(fulltext.FTS.join(SEARCH, SEARCH.c.id == fulltext.FTS.c.rowid))
        .where(match, *plan.filters(narrow=narrow))
    )


@contextmanager
def planner_settings(session: Session, settings: Sequence[str]) -> Iterator[None]:
    """Turn planner options off for the statements run inside (`SET LOCAL`, then `RESET`)."""
    session.execute(text("; ".join(f"SET LOCAL {name} = 0" for name in settings)))
    try:
        yield
    finally:
        session.execute(text("; ".join(f"RESET {name}" for name in settings)))


@contextmanager
def access(session: Session, plan: Plan, driver: str) -> Iterator[None]:
    """PostgreSQL: hold the planner to the access path `driver` chose for a page query.

    Its estimates are right but its costs are not: it does not price reading and
    decompressing each row's TOASTed tsvector. Left alone it sorted a parallel sequential
    scan of the whole table for a place name found 1,154 times (2.5 s at 1M articles,
    63 ms through GIN) and for a phrase found in 17 % of the articles (3.3 s; a plain walk
    of the date index: 56 ms, a parallel walk reads 40 times more rows). BY_INDEX: GIN
    bitmap only. BY_SCAN: no bitmap (so no GIN) and no parallel workers, leaving the walk
    of the date or score index. `SET LOCAL` for the statement, then `RESET`."""
    settings: tuple[str, ...] = ()
    if plan.dialect == "postgresql" and plan.has_text:
        if driver == fulltext_query.BY_SCAN:
            settings = ("enable_seqscan", "enable_bitmapscan", "max_parallel_workers_per_gather")
        elif driver == fulltext_query.BY_INDEX and plan.text.include:
            settings = ("enable_seqscan", "enable_indexscan")
    if not settings:
        yield
        return
    with planner_settings(session, settings):
        yield


def driver_for(session: Session, plan: Plan, *, base_capped: bool) -> str:
    """How the page query meets the full-text condition, from what the counts found.

    Few text matches (period included): from the full-text index, then sorted. More than
    the cap: dense enough that walking the date (or score) index and testing each row
    fills a page after a few dozen rows, since a theme keeps at least a sixth of them. A
    source filter may keep far fewer: the database's planner weighs its index then.
    PostgreSQL counts only PG_TEXT_CAP matches, so between that and a dense word its own
    estimate (a planning, no execution) decides."""
    if not base_capped:
        return fulltext_query.BY_INDEX
    if plan.source_ids is not None:
        return fulltext_query.BY_PLANNER
    dense = (
        plan.dialect != "postgresql"
        or not plan.text.include
        or pg_estimate(session, plan) >= PG_SCAN_ROWS
    )
    return fulltext_query.BY_SCAN if dense else fulltext_query.BY_INDEX


def pg_estimate(session: Session, plan: Plan) -> float:
    """PostgreSQL's estimate of the rows matching period + the least frequent required word
    (its tsvector statistics know the frequent words, the ones that matter here)."""
    estimates = []
    for word in fulltext_query.pg_word_conditions(plan.text):
        where = and_(true(), *plan.filters(narrow=False), word)
        stmt: Select[Any] = select(literal_column("1")).select_from(SEARCH).where(where)
        compiled = stmt.compile(bind=session.get_bind())
        found = (
            session.connection()
            .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
            .scalar_one()
        )
        estimates.append(float(found[0]["Plan"]["Plan Rows"]))
    return min(estimates, default=0.0)


def order(plan: Plan, sort: str, driver: str) -> list[Any]:
    when: ColumnElement[Any] = SEARCH.c.published_or_fetched
    score: ColumnElement[Any] = SEARCH.c.score
    ident = SEARCH.c.id
    postgres = plan.dialect == "postgresql"
    if postgres and plan.has_text and driver == fulltext_query.BY_INDEX:
        # Few matches, but PostgreSQL may underestimate them and walk the date index testing
        # every row's tsvector (280 ms for a 256-match word at 1M articles). Ordering on an
        # expression sends it through the GIN index, then a top-N sort of the matches.
        when = when + literal_column("interval '0 s'")
        score = score + 0
    if sort == "score":
        # SQLite: DESC already puts NULL last; PostgreSQL needs it said.
        by_score = score.desc().nulls_last() if postgres else score.desc()
        return [by_score, when.desc(), ident.desc()]
    return [when.desc(), ident.desc()]


def ranks(plan: Plan) -> bool:
    """Whether `sort=pertinence` can rank this search: it needs words to match."""
    return bool(plan.text.include)


def relevance_ids(
    session: Session, plan: Plan, offset: int, limit: int, matches: int | None = None
) -> list[int]:
    """A page of matches, best first: FTS5's bm25 on SQLite, `ts_rank` on PostgreSQL, then
    newest first among equals.

    Ranking scores every match before the first row comes out, so the caller ranks only
    searches whose matches it counted under the cap (`search`); the 550,000 matches of a
    word in half of a 1M-article archive would all be scored. Beyond, the page is newest
    first and says so. Measured on SQLite at 100,000 articles (benchmarks/archive.py's
    text searches, 150 of them, 2 shared cores): 54 ranked, p50 43 ms and p95 128 ms,
    against 70 ms and 154 ms for the same searches newest first (run first, colder).

    SQLite, `matches` (the rows the page ranks, counted) given: the ranking is computed
    in Python (`veille.archive.bm25`, the same scores and order) when FTS5's count of each
    phrase's documents would cost more than reading the matches."""
    when, ident = SEARCH.c.published_or_fetched, SEARCH.c.id
    if plan.dialect == "sqlite":
        conditions = [ranked_match(plan), *plan.filters(narrow=True)]
        if matches is not None:
            own = bm25.ranked_ids(session, plan, conditions, (offset, limit), matches)
            if own is not None:
                return own
        stmt = (
            select(ident)
            .select_from(fulltext.FTS.join(SEARCH, SEARCH.c.id == fulltext.FTS.c.rowid))
            .where(*conditions)
            .order_by(func.bm25(literal_column(fulltext.FTS_TABLE)), when.desc(), ident.desc())
        )
    else:
        rank = func.ts_rank(
            literal_column("articles.search_vector"), fulltext_query.pg_rank_query(plan.text)
        )
        stmt = (
            select(ident)
            .where(plan.where(narrow=True, driver=fulltext_query.BY_INDEX))
            .order_by(rank.desc(), when.desc(), ident.desc())
        )
    with access(session, plan, fulltext_query.BY_INDEX):
        return list(read(session, stmt.offset(offset).limit(limit)).scalars())


def ranked_match(plan: Plan) -> ColumnElement[bool]:
    """SQLite: the FTS5 condition a ranked page runs, bm25 over the required phrases only.

    bm25 first counts, for each phrase of the MATCH expression, the documents holding it
    (its IDF): a walk of the phrase's whole doclist, once per statement, whatever the
    matches — 20–30 ms for an excluded word found in half of a 1M-article archive
    (« "Belbellac" -données »: 414 matches, 43 ms ranked, 12 ms this way). An excluded
    phrase has no instance in a matching row, so its term of the sum is exactly 0.0 and
    every score is the same to the bit without it: the required phrases are matched for
    the rank, and the whole expression (exclusions included) gives the rows, as a list
    built once (`+ 0`: not a rowid constraint FTS5 would look up row by row)."""
    match = plan.fts5_match()
    assert match is not None  # ranks(plan): there are words to match
    must, must_not = fulltext_query.fts5_expressions(plan.text)
    if must_not is None:
        return match
    rows = select(fulltext.FTS.c.rowid).where(match).correlate(None).scalar_subquery()
    required = literal_column(fulltext.FTS_TABLE).op("MATCH")(bindparam("fts_rank", must))
    return and_(plan.within_ids(required), (fulltext.FTS.c.rowid + 0).in_(rows))


def sqlite_walk(session: Session, plan: Plan, batch: int) -> Iterator[int]:
    """SQLite, BY_SCAN, newest first: matching ids, from the date index in batches, each
    batch checked against FTS5 over its id range only.

    The alternatives cost more for a word in half the archive: `IN (list)` builds the
    whole match list first (250-300 ms at 1M articles), a correlated FTS5 probe per row
    costs 20-700 µs (0.6 s and 3 s for page 20). Ids follow collection order, so a batch
    of recent rows spans a narrow id range; were they scattered, each batch would read
    the doclists whole, no worse than `IN`."""
    # The date as SQLite stores it (text, ordered like the dates): only the batch's last
    # one is needed, as the next batch's key; converting 500 a batch to datetimes and back
    # was a tenth of a search's CPU.
    when, ident = type_coerce(SEARCH.c.published_or_fetched, String), SEARCH.c.id
    stmt = (
        select(ident, when, ident)  # id, then the keyset keys
        .where(and_(true(), *plan.filters(narrow=True)))
        .order_by(when.desc(), ident.desc())
    )
    for rows in keyset_batches(session, stmt, [when, ident], batch):
        ids = [int(r[0]) for r in rows]
        found, keep = fulltext_query.fts5_rowids_between(session, plan.text, min(ids), max(ids))
        yield from (i for i in ids if (i in found) == keep)


def walks_fts5(plan: Plan, sort: str, driver: str) -> bool:
    return (
        plan.dialect == "sqlite"
        and plan.has_text
        and driver == fulltext_query.BY_SCAN
        and sort == "date"
    )


def keyset_batches(
    session: Session,
    stmt: Select[Any],
    keys: Sequence[Any],
    batch: int,
    settings: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> Iterator[Sequence[Any]]:
    """Rows of `stmt` (which selects id + `keys`, ordered by `keys` descending) in batches,
    each starting strictly after the previous one's last key: constant cost per batch."""
    last: tuple[Any, ...] | None = None
    while True:
        page = stmt
        if last is not None:
            page = page.where(tuple_(*keys) < tuple_(*last))
        with settings():
            rows = read(session, page.limit(batch)).all()
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = tuple(rows[-1][1:])
