"""Story grouping measured on the pairs written for the project (tests/data/story_pairs/).

Runs the collector's own decision (`veille.collect.storypairs.grouped`: `StoryIndex.match`
on records built as the extraction workers build them) on every pair and prints the
precision and recall of « same story » and the pairs decided wrongly.

Without paths, the pairs the rules were tuned on (tests/data/story_pairs/*.jsonl) and the
held-out pairs written afterwards (tests/data/story_pairs/heldout/) are measured apart.

Run: python benchmarks/story_pairs.py                 # figures and errors
     python benchmarks/story_pairs.py --json          # machine-readable
     python benchmarks/story_pairs.py FILE.jsonl ...  # other pairs
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="JSONL files of pairs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = REPO / "tests" / "data" / "story_pairs"
    sets = (
        {"pairs": args.paths}
        if args.paths
        else {
            "tuned": sorted(data.glob("*.jsonl")),
            "heldout": sorted(data.glob("heldout/*.jsonl")),
            "press-tune": sorted(data.glob("press/tune/*.jsonl")),
            "press-heldout": sorted(data.glob("press/heldout/*.jsonl")),
        }
    )
    results = {name: _report(name, paths, args.json) for name, paths in sets.items()}
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
