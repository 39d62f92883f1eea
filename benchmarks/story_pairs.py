"""Story grouping measured on the pairs written for the project (tests/data/story_pairs/).

Runs the collector's own decision (`veille.collect.storypairs.grouped`: `StoryIndex.match`
on records built as the extraction workers build them) on every pair and prints the
precision and recall of « same story » and the pairs decided wrongly.

Run: python benchmarks/story_pairs.py            # figures and errors
     python benchmarks/story_pairs.py --json     # machine-readable
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from veille.collect.storypairs import StoryPair, load_pairs, score  # noqa: E402


def _line(pair: StoryPair) -> str:
    return f"  {pair.id}  {pair.a.title[:50]!r} / {pair.b.title[:50]!r}\n      {pair.note}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="JSONL files of pairs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    paths = args.paths or sorted((REPO / "tests" / "data" / "story_pairs").glob("*.jsonl"))
    scores = score(load_pairs(paths))
    if args.json:
        out = {
            "pairs": scores.pairs,
            "same": scores.same,
            "precision": round(scores.precision, 4),
            "recall": round(scores.recall, 4),
            "false_positives": [p.id for p in scores.false_positives],
            "false_negatives": [p.id for p in scores.false_negatives],
        }
        print(json.dumps(out, indent=2))
        return
    print(
        f"{scores.pairs} pairs ({scores.same} same story, {scores.pairs - scores.same} "
        f"different): precision {scores.precision:.3f}, recall {scores.recall:.3f}"
    )
    print(f"\nDistinct stories grouped ({len(scores.false_positives)}):")
    print("\n".join(_line(p) for p in scores.false_positives) or "  none")
    print(f"\nOne story left apart ({len(scores.false_negatives)}):")
    print("\n".join(_line(p) for p in scores.false_negatives) or "  none")


if __name__ == "__main__":
    main()
