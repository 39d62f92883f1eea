"""`curation.decision_counts` per call, with and without its index, on archives of growing
size: the score's editor part, read once per transaction of a collection cycle.

    python benchmarks/decision_counts.py --articles 2000 --articles 100000
    python benchmarks/decision_counts.py --articles 100000 --backend postgresql \
        --postgres-url postgresql://postgres@127.0.0.1:55432/postgres

Each archive is loaded as `benchmarks/archive.py` loads it (300 sources of very different
volumes, synthetic French articles), then `--decided` of its articles are marked kept or
discarded. A call counts the decisions of one batch of `--batch` sources drawn at random,
as a cycle's transaction does. Rounds alternate the index dropped ("before": the plan of
`main`, which walks every article of the sources) and present ("after"); printed: the
query plan of each, and the process CPU per call (`time.process_time`, median and
quartiles), so a shared machine's load weighs less than on wall time.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import archive
from _machine import cpu_check
from archive import prepare_database

from veille.db import curation
from veille.db.bulk import BulkArticle, bulk_insert_articles
from veille.db.engine import make_engine, session_factory, upgrade
from veille.db.tables import ArticleRow, SourceRow

INDEX = "ix_articles_source_curation"
# What a first cycle of `benchmarks/collect.py` stores: 5.7 KB of text and 5.8 KB of HTML an
# article on average, so a row spans several SQLite pages (`curation`, its last column, is
# read past them when the row is read).
TEXT_CHARS = 5700


def real_sized(rows: Iterator[BulkArticle]) -> Iterator[BulkArticle]:
    """`archive.articles` with the text and HTML of a page a collection stores."""
    for row in rows:
        body = (row.text + " ") * (TEXT_CHARS // max(len(row.text), 1) + 1)
        body = body[:TEXT_CHARS]
        yield dataclasses.replace(row, text=body, html=f"<p>{body}</p>")


def load(url: str, n: int) -> None:
    """`archive.load`'s sources and articles, with rows of a real page's size."""
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        rows = [
            SourceRow(key=f"source-{i:03d}", name=f"Source n°{i}", url=f"https://s{i}.example/")
            for i in range(archive.SOURCES)
        ]
        session.add_all(rows)
        session.flush()
        source_ids = [r.id for r in rows]
    assert bulk_insert_articles(engine, real_sized(archive.articles(n, source_ids))) == n
    engine.dispose()


def decide(url: str, share: float) -> None:
    """Mark `share` of the articles kept or discarded (two in three kept), spread evenly."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE articles SET curation = CASE WHEN id % 3 = 0 THEN 'discarded' "
                "ELSE 'kept' END WHERE (id * 7919) % 1000 < :cut"
            ),
            {"cut": int(share * 1000)},
        )
    engine.dispose()


def plan(session: object, source_ids: list[int]) -> str:
    """The database's plan for the query `decision_counts` sends."""
    from sqlalchemy import func
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    query = (
        select(ArticleRow.source_id, ArticleRow.curation, func.count())
        .where(ArticleRow.source_id.in_(source_ids))
        .where(ArticleRow.curation.in_(("kept", "discarded")))
        .group_by(ArticleRow.source_id, ArticleRow.curation)
    )
    bind = session.get_bind()
    compiled = query.compile(bind, compile_kwargs={"literal_binds": True})
    # PostgreSQL: with the server's own execution time (the client's CPU is not its cost).
    prefix = "EXPLAIN QUERY PLAN " if bind.dialect.name == "sqlite" else "EXPLAIN (ANALYZE) "
    rows = session.execute(text(prefix + str(compiled))).all()
    return "\n".join(f"    {row[-1]}" for row in rows)


def time_calls(url: str, batches: list[list[int]]) -> tuple[list[float], list[float]]:
    """Process CPU and wall milliseconds of each call, one short transaction per call (on
    PostgreSQL the query runs in the server: the process CPU is only the client's share)."""
    engine = make_engine(url)
    factory = session_factory(engine)
    cpu: list[float] = []
    wall: list[float] = []
    for ids in batches:
        with factory() as session:
            started, clock = time.process_time(), time.perf_counter()
            curation.decision_counts(session, ids)
            cpu.append((time.process_time() - started) * 1000)
            wall.append((time.perf_counter() - clock) * 1000)
    engine.dispose()
    return cpu, wall


def set_index(url: str, present: bool) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP INDEX IF EXISTS {INDEX}"))
        if present:
            conn.execute(text(f"CREATE INDEX {INDEX} ON articles (source_id, curation)"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE articles"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def summary(values: list[float]) -> str:
    q = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.3f} ms ({q[0]:.3f}–{q[2]:.3f})"


def page_batches(url: str) -> list[list[int]]:
    """The sources of each 128 articles in id order: what `classify_articles` asks for in
    a cycle's page transactions (a first cycle stores its pages in that order)."""
    engine = make_engine(url)
    with session_factory(engine)() as session:
        ids = list(session.scalars(select(ArticleRow.source_id).order_by(ArticleRow.id)))
    engine.dispose()
    return [sorted(set(ids[i : i + 128])) for i in range(0, len(ids), 128)]


def measure(url: str, n: int | None, args: argparse.Namespace) -> None:
    print(f"== {n or args.store} ({url.split(':', 1)[0]})", flush=True)
    if n is None:  # a kept store: its own pages' batches
        decide(url, args.decided)
        batches = page_batches(url)
    else:
        started = time.perf_counter()
        load(url, n)
        decide(url, args.decided)
        print(f"  loaded in {time.perf_counter() - started:.1f} s", flush=True)
        engine = make_engine(url)
        with session_factory(engine)() as session:
            source_ids = list(session.scalars(select(SourceRow.id)))
        engine.dispose()
        rng = random.Random(5)
        batches = [rng.sample(source_ids, args.batch) for _ in range(args.calls)]
    print(f"  {len(batches)} calls of {statistics.mean(map(len, batches)):.0f} sources")
    results: dict[bool, list[float]] = {False: [], True: []}
    walls: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for present in (False, True):
            set_index(url, present)
            cpu, wall = time_calls(url, batches)
            results[present] += cpu
            walls[present] += wall
    for present in (False, True):
        set_index(url, present)
        # A fresh connection: EXPLAIN QUERY PLAN, outside a transaction, plans against the
        # schema a pooled SQLite connection cached, the dropped index included.
        engine = make_engine(url)
        with session_factory(engine)() as session:
            label = "after (index)" if present else "before (no index)"
            print(f"  plan, {label}:\n{plan(session, batches[0])}")
            counts = curation.decision_counts(session, batches[0])
            print(f"  one call returns {sum(k + d for k, d in counts.values())} decisions")
        engine.dispose()
    for present in (False, True):
        label = "after (index)    " if present else "before (no index)"
        print(
            f"  {label}: CPU {summary(results[present])}, wall {summary(walls[present])} "
            f"per call, {len(results[present])} calls"
        )


def insert_price(workdir: Path, n: int, rounds: int) -> None:
    """Process CPU of loading `n` real-sized articles into an empty SQLite store, without
    and with the index (rounds alternated): what the index costs the writer."""
    print(f"== inserting {n} articles (sqlite), without / with the index", flush=True)
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for present in (False, True):
            url = prepare_database("sqlite", workdir, None)
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            set_index(url, present)
            started = time.process_time()
            load(url, n)
            times[present].append(time.process_time() - started)
    for present in (False, True):
        label = "with the index   " if present else "without the index"
        print(f"  {label}: " + ", ".join(f"{t:.2f} s" for t in times[present]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, action="append")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("VEILLE_TEST_POSTGRES_URL"))
    parser.add_argument("--decided", type=float, default=0.05, help="share kept or discarded")
    parser.add_argument("--batch", type=int, default=25, help="sources per call")
    parser.add_argument("--calls", type=int, default=40, help="calls per round and variant")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--store", type=Path, help="a kept SQLite store (copied) instead of synthetic ones"
    )
    parser.add_argument("--insert", type=int, help="time loading N articles, ± the index")
    args = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.1f}, CPU check {cpu_check():.2f} s", flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        if args.insert:
            insert_price(Path(workdir), args.insert, args.rounds)
            return
        if args.store:
            copy = Path(workdir) / "store.db"
            for suffix in ("", "-wal"):
                if Path(f"{args.store}{suffix}").exists():
                    shutil.copyfile(f"{args.store}{suffix}", f"{copy}{suffix}")
            measure(f"sqlite:///{copy}", None, args)
        for n in args.articles or ([] if args.store else [2000, 100_000]):
            url = prepare_database(args.backend, Path(workdir), args.postgres_url)
            measure(url, n, args)
    print(f"load {os.getloadavg()[0]:.1f}, CPU check {cpu_check():.2f} s")


if __name__ == "__main__":
    main()
