"""Compare what two collection runs stored (`benchmarks/collect.py --keep DIR`): article by
article, matched by URL key, the fields a change of the store step must not move.

    python benchmarks/compare_stores.py A.db B.db

Reports the articles only one side has, then for the common ones: what extraction made of
the page (`CONTENT`: URL, title, summary, text, HTML, author, image, dates, content hash,
fingerprint, and the full-text document), themes (theme, probability, origin), stories
(the groups of URL keys that share one), links (source, key), the one-entry-per-story bit,
the theme bits (`theme_mask`, what the archive's theme filters read), language, and the
score components. Which source's entry fetched a page first (its owner: `source_id`,
`original_url`) follows the order pages arrive in, and is not compared.
The sources' rows too (health, validators, schedule, leases): every column but the
cycle's clock, whose columns are compared as which are set, which equal the fetch time,
and how far after it the next fetch is (two runs of one code differ only there).
Novelty and freshness follow the order in which pages arrive and the cycle's clock (two
runs of the same code differ there: benchmarks/README.md), so scores are compared with and
without them. Exit status 1 when anything but novelty and freshness differs.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

DUPLICATE_BIT = 256  # veille.db.fulltext.DUPLICATE_BIT (no import: a copy of any checkout)
CONTENT = (
    "url",
    "title",
    "summary",
    "text",
    "html",
    "author",
    "image",
    "published_at",
    "partial",
    "extract_note",
    "content_hash",
    "fingerprint",
)
ORDER_DEPENDENT = ("novelty", "freshness")
# The sources' columns set from the cycle's clock: compared relative to `last_fetched_at`.
SOURCE_TIMES = (
    "last_fetched_at",
    "last_success_at",
    "last_new_article_at",
    "next_fetch_at",
    "paused_at",
    "lease_until",
)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class _Time:
    """A clock column: equal to another when it holds the same instant (a column the
    cycle did not set) or the same offset from its row's fetch time (one it set)."""

    at: str | None
    offset: float | None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Time) and (
            self.at == other.at or (self.offset is not None and self.offset == other.offset)
        )

    def __hash__(self) -> int:
        return hash(self.at is None)


def _sources(db: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Each source's row by key, its clock columns as `_Time`s."""
    cursor = db.execute("SELECT * FROM sources")
    names = [d[0] for d in cursor.description]
    rows: dict[str, dict[str, Any]] = {}
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        fetched = _when(row["last_fetched_at"])
        for name in SOURCE_TIMES:
            at = row[name]
            when = _when(at)
            offset = None if when is None or fetched is None else (when - fetched).total_seconds()
            row[name] = _Time(at, offset)
        rows[row.pop("key")] = row
    return rows


def _load(path: Path) -> dict[str, Any]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    articles = {
        key: {
            "id": ident,
            "story": story,
            "score": score,
            "components": json.loads(components) if components else {},
            "duplicate": bool((mask or 0) & DUPLICATE_BIT),
            "theme bits": (mask or 0) & ~DUPLICATE_BIT,
            "language": language,
        }
        for ident, key, story, score, components, mask, language in db.execute(
            "SELECT id, url_key, story_id, score, score_components, theme_mask, language"
            " FROM articles"
        )
    }
    key_of = {a["id"]: k for k, a in articles.items()}
    for row in db.execute(f"SELECT url_key, {', '.join(CONTENT)} FROM articles"):
        articles[row[0]]["content"] = dict(zip(CONTENT, row[1:], strict=True))
    for ident, doc in db.execute("SELECT rowid, doc FROM articles_fts"):
        if ident in key_of:
            articles[key_of[ident]]["content"]["full-text document"] = doc
    themes: dict[str, set[tuple[str, float, str]]] = {k: set() for k in articles}
    for ident, theme, probability, origin in db.execute(
        "SELECT article_id, theme, probability, origin FROM article_themes"
    ):
        themes[key_of[ident]].add((theme, round(probability, 12), origin))
    sources = dict(db.execute("SELECT id, key FROM sources"))
    links = {
        (sources[s], key, key_of[a])
        for a, s, key in db.execute("SELECT article_id, source_id, url_key FROM article_links")
    }
    groups: dict[int, set[str]] = {}
    for key, a in articles.items():
        if a["story"] is not None:
            groups.setdefault(a["story"], set()).add(key)
    stories = {frozenset(g) for g in groups.values()}
    source_rows = _sources(db)
    db.close()
    return {
        "articles": articles,
        "themes": themes,
        "links": links,
        "stories": stories,
        "sources": source_rows,
    }


def _without(components: dict[str, Any]) -> tuple[dict[str, Any], float]:
    kept = {k: v for k, v in components.items() if k not in ORDER_DEPENDENT}
    return kept, round(sum(v["points"] for v in kept.values()), 1)


def compare(a_path: Path, b_path: Path) -> int:
    a, b = _load(a_path), _load(b_path)
    only_a = a["articles"].keys() - b["articles"].keys()
    only_b = b["articles"].keys() - a["articles"].keys()
    common = sorted(a["articles"].keys() & b["articles"].keys())
    diff: Counter[str] = Counter()
    for key in common:
        x, y = a["articles"][key], b["articles"][key]
        for name, value in x["content"].items():
            diff[name] += value != y["content"].get(name)
        diff["themes"] += a["themes"][key] != b["themes"][key]
        diff["language"] += x["language"] != y["language"]
        diff["duplicate bit"] += x["duplicate"] != y["duplicate"]
        diff["theme bits"] += x["theme bits"] != y["theme bits"]
        diff["score (all components)"] += x["score"] != y["score"]
        for name in ORDER_DEPENDENT:
            diff[f"· {name}"] += x["components"].get(name) != y["components"].get(name)
        kept_x, points_x = _without(x["components"])
        kept_y, points_y = _without(y["components"])
        diff["components but novelty, freshness"] += kept_x != kept_y
        diff["points but novelty, freshness"] += points_x != points_y
    print(f"articles: {len(a['articles'])} / {len(b['articles'])}, common {len(common)}")
    print(f"only in A: {len(only_a)}, only in B: {len(only_b)}")
    print(
        f"on a theme: {sum(bool(t) for t in a['themes'].values())}"
        f" / {sum(bool(t) for t in b['themes'].values())}"
    )
    print(f"links: {len(a['links'])} / {len(b['links'])}, differing {len(a['links'] ^ b['links'])}")
    multi = (sum(len(s) > 1 for s in a["stories"]), sum(len(s) > 1 for s in b["stories"]))
    print(
        f"stories: {len(a['stories'])} / {len(b['stories'])} (with ≥ 2 articles: "
        f"{multi[0]} / {multi[1]}), differing {len(a['stories'] ^ b['stories'])}"
    )
    source_keys = sorted(a["sources"].keys() | b["sources"].keys())
    columns: Counter[str] = Counter()
    for key in source_keys:
        x, y = a["sources"].get(key, {}), b["sources"].get(key, {})
        for name in x.keys() | y.keys():
            columns[name] += x.get(name) != y.get(name)
    source_diff = sum(columns.values())
    print(
        f"sources: {len(a['sources'])} / {len(b['sources'])}, columns differing: "
        + (", ".join(f"{n} ({c})" for n, c in sorted(columns.items()) if c) or "none")
    )
    content = (*CONTENT, "full-text document")
    for name in (
        *content,
        "themes",
        "language",
        "duplicate bit",
        "theme bits",
        "components but novelty, freshness",
        "points but novelty, freshness",
        "score (all components)",
        "· novelty",
        "· freshness",
    ):
        print(f"articles differing by {name}: {diff[name]}")
    strict = (
        len(only_a)
        + len(only_b)
        + len(a["links"] ^ b["links"])
        + len(a["stories"] ^ b["stories"])
        + sum(diff[name] for name in content)
        + diff["themes"]
        + diff["language"]
        + diff["duplicate bit"]
        + diff["components but novelty, freshness"]
        + diff["points but novelty, freshness"]
        + source_diff
    )
    print("SAME (up to novelty and freshness)" if not strict else f"DIFFERENT: {strict}")
    return 0 if not strict else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args()
    sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
