"""Story grouping measured on the pairs written for the project (tests/data/story_pairs/).

Runs the collector's own decision (`veille.collect.storypairs.grouped`: `StoryIndex.match`
on records built as the extraction workers build them) on every pair and prints the
precision and recall of « same story » and the pairs decided wrongly.

Without paths, the pairs the rules were tuned on (tests/data/story_pairs/*.jsonl) and the
held-out pairs written afterwards (tests/data/story_pairs/heldout/) are measured apart.

With --cost, the decision's cost instead: an index of 8,000 recent articles (the pairs'
texts on 300 sites, their towns renamed among 400 invented ones, one minute apart), 500
new ones matched against it (milliseconds per match and candidates decided per match), and
`story_keys` on texts of 10 KB and 100 KB (it must stay linear in the text).

Run: python benchmarks/story_pairs.py                 # figures and errors
     python benchmarks/story_pairs.py --json          # machine-readable
     python benchmarks/story_pairs.py FILE.jsonl ...  # other pairs
     python benchmarks/story_pairs.py --cost          # time per match and per article
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from veille.collect import stories  # noqa: E402
from veille.collect.storyindex import StoryIndex  # noqa: E402
from veille.collect.storykeys import story_keys  # noqa: E402
from veille.collect.storypairs import (  # noqa: E402
    PairArticle,
    StoryPair,
    load_pairs,
    record_of,
    score,
)
from veille.text.fingerprint import hashed_counts  # noqa: E402

TOWNS = re.compile(
    r"\b(?:Valmont|Brévannes|Montbrial|Lorvac|Lorvaux|Vernasse|Lisandre|Queyrolles|Orlinac"
    r"|Saint-Amblard|Castelmoine|Castelroc|Pontverre|Hautbois|Pradelles-sur-Vionne)\b"
)


def _line(pair: StoryPair) -> str:
    return f"  {pair.id}  {pair.a.title[:50]!r} / {pair.b.title[:50]!r}\n      {pair.note}"


def _report(name: str, paths: list[Path], as_json: bool) -> dict[str, object] | None:
    scores = score(load_pairs(paths))
    if as_json:
        return {
            "pairs": scores.pairs,
            "same": scores.same,
            "precision": round(scores.precision, 4),
            "recall": round(scores.recall, 4),
            "false_positives": [p.id for p in scores.false_positives],
            "false_negatives": [p.id for p in scores.false_negatives],
        }
    print(
        f"{name}: {scores.pairs} pairs ({scores.same} same story, "
        f"{scores.pairs - scores.same} different): precision {scores.precision:.3f}, "
        f"recall {scores.recall:.3f}"
    )
    print(f"\nDistinct stories grouped ({len(scores.false_positives)}):")
    print("\n".join(_line(p) for p in scores.false_positives) or "  none")
    print(f"\nOne story left apart ({len(scores.false_negatives)}):")
    print("\n".join(_line(p) for p in scores.false_negatives) or "  none")
    print()
    return None


def _cost(data: Path) -> None:
    rng = random.Random(7)
    pairs = load_pairs(sorted(data.rglob("*.jsonl")))
    texts = sorted({(x.title, x.text): x for p in pairs for x in (p.a, p.b)}.values(), key=str)
    towns = [f"Ville{chr(65 + i % 26)}{chr(97 + i // 26 % 26)}ac" for i in range(400)]

    def variant(n: int) -> PairArticle:
        article, town = texts[rng.randrange(len(texts))], towns[rng.randrange(len(towns))]
        return PairArticle(
            TOWNS.sub(town, article.title),
            TOWNS.sub(town, article.text),
            f"site{n % 300}.fr",
            article.published + timedelta(minutes=n),
        )

    index = StoryIndex([])
    for n in range(8000):
        record, counts = record_of(n + 1, variant(n))
        index.add(n + 1, n + 1, record, hashed_counts(counts) if counts else None)
    new = [record_of(100_000 + n, variant(8000 + n)) for n in range(500)]
    decided = 0
    decide = stories.same_story

    def counted(*args: object, **kwargs: object) -> bool:
        nonlocal decided
        decided += 1
        return decide(*args, **kwargs)  # type: ignore[arg-type]

    stories.same_story = counted  # type: ignore[assignment]
    start = time.process_time()
    for record, counts in new:
        index.match(None, record, hashed_counts(counts) if counts else None)  # type: ignore[arg-type]
    spent = time.process_time() - start
    stories.same_story = decide
    print(
        f"match: {1000 * spent / len(new):.2f} ms CPU per new article against "
        f"{len(index.items)} recent, {decided / len(new):.0f} candidates decided per match"
    )
    long = " ".join(x.text for x in texts)
    for size in (10_000, 100_000):
        text = (long * (size // len(long) + 1))[:size]
        runs = 2_000_000 // size
        start = time.process_time()
        for _ in range(runs):
            story_keys("Un titre", text, "site.fr")
        print(
            f"story_keys, {size // 1000} KB: {1000 * (time.process_time() - start) / runs:.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="JSONL files of pairs")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cost", action="store_true", help="time the decision instead")
    args = parser.parse_args()
    data = REPO / "tests" / "data" / "story_pairs"
    if args.cost:
        _cost(data)
        return
    sets = (
        {"pairs": args.paths}
        if args.paths
        else {
            "tuned": sorted(data.glob("*.jsonl")),
            "heldout": sorted(data.glob("heldout/*.jsonl")),
            "press-tune": sorted(data.glob("press/tune/*.jsonl")),
            "press-heldout": sorted(data.glob("press/heldout/*.jsonl")),
            "press2-tune": sorted(data.glob("press2/tune/*.jsonl")),
            "press2-heldout": sorted(data.glob("press2/heldout/*.jsonl")),
            "press3-tune": sorted(data.glob("press3/tune/*.jsonl")),
            "press3-heldout": sorted(data.glob("press3/heldout/*.jsonl")),
            "press4": sorted(data.glob("press4/*.jsonl")),
            "press5": sorted(data.glob("press5/*.jsonl")),
            "press6": sorted(data.glob("press6/*.jsonl")),
            "press7": sorted(data.glob("press7/*.jsonl")),
            "press8": sorted(data.glob("press8/*.jsonl")),
            "press9": sorted(data.glob("press9/*.jsonl")),
            "press10": sorted(data.glob("press10/*.jsonl")),
            "press11": sorted(data.glob("press11/*.jsonl")),
            "press12": sorted(data.glob("press12/*.jsonl")),
            "press13": sorted(data.glob("press13/*.jsonl")),
            "press14": sorted(data.glob("press14/*.jsonl")),
        }
    )
    results = {name: _report(name, paths, args.json) for name, paths in sets.items()}
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
