"""The store step's classification and rescoring alone, on a database a first cycle stored
(`benchmarks/collect.py --keep DIR`), for checkouts side by side: the writer's share of a
cycle measured without the network, the extraction processes or the story index.

    python benchmarks/store_step.py /tmp/dbs/0-main-0.25-0.db --repo /tmp/before --repo .

Each round copies the database once per checkout and runs, in a fresh interpreter of that
checkout, (1) `classify_articles` over every article in batches of 128 (what a cycle's page
transactions do: read, predict, score, write themes and scores, refresh the stories'
entries) and (2) `rescore_coverage` over every story after the stored coverage of each
article was made stale (what the sources' transactions do when relistings widen a story:
every article rewritten) and (3) the sources' transactions of a first cycle replayed
(`widen`: each article's later links inserted back in order, ten transactions, each
widening its stories; then, where the checkout has one, the cycle's end rescoring what they
marked). The recent fingerprints novelty is measured against are read
once, untimed, as the cycle's story index holds them. Printed: each step's process CPU
seconds (`time.process_time`, so the load of a shared machine weighs less than on wall
time), rounds alternated.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BATCH = 128

_CHILD = r"""
import json, sys, time
from sqlalchemy import select, update, bindparam
from veille.db.engine import make_engine, session_factory, transaction
from veille.db.tables import ArticleRow
from veille.classify import service
from veille.classify.service import classify_articles, load_classifier, rescore_coverage
from veille.db.articles import recent_fingerprints

from veille.db.engine import upgrade
engine = make_engine("sqlite:///" + sys.argv[1])
upgrade(engine)  # each checkout's schema (this branch: its marks table)
sessions = session_factory(engine)
with transaction(sessions) as session:
    classifier = load_classifier(session, None)
    ids = sorted(session.scalars(select(ArticleRow.id)))
    stories = sorted({s for s in session.scalars(select(ArticleRow.story_id)) if s is not None})
    # What the cycle's story index holds (the pipeline passes it): read once, not timed.
    oldest = min(session.scalars(select(ArticleRow.fetched_at)))
    recent = recent_fingerprints(session, oldest - service.NOVELTY_WINDOW)
    classify_articles(session, classifier, ids[:BATCH], recent=recent)  # imports, caches
start = time.process_time()
for n in range(0, len(ids), BATCH):
    with transaction(sessions) as session:
        classify_articles(session, classifier, ids[n : n + BATCH], recent=recent)
classified = time.process_time() - start
with transaction(sessions) as session:  # every stored coverage made stale
    a = ArticleRow.core().c
    rows = session.execute(select(a.id, a.score_components)).all()
    stale = [{"b_id": i, "b_c": {**c, "coverage": {**c["coverage"], "why": "?"}}} for i, c in rows]
    session.execute(
        update(ArticleRow.core()).where(a.id == bindparam("b_id"))
        .values(score_components=bindparam("b_c")), stale,
    )
start = time.process_time()
for n in range(0, len(stories), BATCH * 4):
    with transaction(sessions) as session:
        rescore_coverage(session, stories[n : n + BATCH * 4])
rescored = time.process_time() - start
# (3) The sources' transactions replayed: every link but each article's first (its
# owner's, stored with the page) taken out and the articles' coverage set back to one
# source, as the page transactions leave them; then the links put back in their order, in
# SOURCES_PER transactions of LINKS links, each widening its articles' stories as
# `store_listings` does (`PendingClassification.apply` without a classifier), and the
# cycle's end when the checkout has one (`widened.rescore_widened`).
from veille.collect import store
from veille.classify import score as scoring
from veille.db.tables import ArticleLinkRow
with transaction(sessions) as session:
    l = ArticleLinkRow.core().c
    links = [dict(r._mapping) for r in session.execute(select(l).order_by(l.id))]
    owners = {}
    for r in links:
        owners.setdefault(r["article_id"], r["id"])
    later = [r for r in links if owners[r["article_id"]] != r["id"]]
    session.execute(ArticleLinkRow.core().delete().where(l.id.in_([r["id"] for r in later])))
    one, why = scoring.coverage_component(1)
    cov = {"value": one, "points": round(one * scoring.WEIGHTS["coverage"], 1),
           "max": scoring.WEIGHTS["coverage"], "why": why}
    back = []
    for i, c in session.execute(select(a.id, a.score_components)).all():
        c = {**c, "coverage": cov}
        back.append({"b_id": i, "b_c": c, "b_s": round(sum(x["points"] for x in c.values()), 1)})
    session.execute(
        update(ArticleRow.core()).where(a.id == bindparam("b_id"))
        .values(score_components=bindparam("b_c"), score=bindparam("b_s")), back,
    )
per = max(1, len(later) // 10)  # a first cycle's ~10 sources' transactions
from sqlalchemy import event
written = [0]  # article rows whose score an UPDATE wrote, during the replay


@event.listens_for(engine, "before_cursor_execute")
def _count(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().upper().startswith("UPDATE ARTICLES SET SCORE"):
        written[0] += len(parameters) if executemany else 1


start = time.process_time()
for n in range(0, len(later), per):
    chunk = later[n : n + per]
    with transaction(sessions) as session:
        session.execute(ArticleLinkRow.core().insert(), chunk)
        pending = store.PendingClassification()
        pending.widened.update(r["article_id"] for r in chunk)
        pending.apply(session, None, None)
try:  # the cycle's end, where the checkout has one
    from veille.collect.widened import rescore_widened
except ImportError:
    pass
else:
    rescore_widened(sessions, "store_step")
widened = time.process_time() - start
event.remove(engine, "before_cursor_execute", _count)
with transaction(sessions) as session:
    final = dict(session.execute(select(a.id, a.score)).all())
    rows = session.execute(select(a.id, a.score_components))
    stale = sum(1 for _, c in rows if c["coverage"] == cov)
print(json.dumps({"articles": len(ids), "classify": classified, "rescore": rescored,
                  "widen": widened, "links": len(later), "one_source": stale,
                  "written": written[0],
                  "scores": sum(final.values())}))
""".replace("BATCH", str(BATCH))


def run(repo: Path, db: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "veille.db"
        shutil.copyfile(db, copy)
        env = {**os.environ, "PYTHONPATH": str(repo.resolve()), "XDG_CACHE_HOME": tmp}
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(copy)],
            env=env,
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        )
        result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="a database kept by benchmarks/collect.py --keep")
    parser.add_argument("--repo", type=Path, action="append", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures: dict[Path, list[dict[str, float]]] = {repo: [] for repo in args.repo}
    for n in range(args.rounds):
        order = args.repo if n % 2 == 0 else list(reversed(args.repo))
        for repo in order:
            result = run(repo, args.db)
            figures[repo].append(result)
            print(
                f"round {n + 1} {repo}: classify {result['classify']:.2f} s, "
                f"rescore {result['rescore']:.2f} s, widen {result.get('widen', 0):.2f} s of "
                f"CPU ({int(result['articles'])} articles, {int(result.get('links', 0))} "
                f"links replayed, {int(result.get('written', 0))} score rows written; then "
                f"{int(result.get('one_source', 0))} at one source, "
                f"score sum {result.get('scores', 0):.1f})",
                flush=True,
            )
    for repo, runs in figures.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("classify", "rescore", "widen")}
        spread = {k: (min(r[k] for r in runs), max(r[k] for r in runs)) for k in med}
        print(
            f"{repo}: classify {med['classify']:.2f} s ({spread['classify'][0]:.2f}–"
            f"{spread['classify'][1]:.2f}), rescore {med['rescore']:.2f} s "
            f"({spread['rescore'][0]:.2f}–{spread['rescore'][1]:.2f}), widen {med['widen']:.2f} s "
            f"({spread['widen'][0]:.2f}–{spread['widen'][1]:.2f}), median of {len(runs)}"
        )


if __name__ == "__main__":
    main()
