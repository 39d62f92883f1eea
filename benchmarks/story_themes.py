"""Does a story's combined evidence help? A brief classified alone or with its story.

A story often has one source whose feed gives a title and a line (the article's text is its
summary) and another that gives the full article. `Classifier.predict(items, stories)`
judges the story on its members' strongest decision score per theme. Measured on labelled
long-form articles never trained on (`seed/heldout_long/`) and the demo articles:

* **brief**: the title and the first sentence of the article (an RSS summary);
* **full**: the title and the whole text;
* each classified alone, then as the two members of one story.

Run: python benchmarks/story_themes.py [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from learning_curve import demo_items  # noqa: E402

from veille.classify.classifier import Classifier, ClassItem, default_model  # noqa: E402
from veille.classify.corpus import load_heldout  # noqa: E402
from veille.classify.evaluate import metrics  # noqa: E402
from veille.classify.model import LabelledItem  # noqa: E402

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def brief(item: LabelledItem) -> ClassItem:
    first = _SENTENCE.split(item.text.strip(), maxsplit=1)[0]
    return ClassItem(item.title, first[:300], item.lang)


def measure(classifier: Classifier, items: Sequence[LabelledItem]) -> dict[str, Any]:
    briefs = [brief(i) for i in items]
    fulls = [ClassItem(i.title, i.text, i.lang) for i in items]
    truth = [i.labels for i in items]
    alone = classifier.predict(briefs + fulls)
    together = classifier.predict(briefs + fulls, stories=list(range(len(items))) * 2)
    n = len(items)

    def f(predictions: Sequence[Any]) -> dict[str, float]:
        m = metrics(truth, [frozenset(p.themes) for p in predictions])
        return {"macro_f1": m["macro_f1"], "precision": m["relevance"]["precision"]}

    return {
        "items": n,
        "brief_alone": f(alone[:n]),
        "brief_in_story": f(together[:n]),
        "full_alone": f(alone[n:]),
        "full_in_story": f(together[n:]),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    classifier = Classifier(default_model())
    table = {
        "heldout_long": measure(classifier, load_heldout("long")),
        "demo": measure(classifier, demo_items()),
    }
    if args.json:
        print(json.dumps(table))
        return 0
    print(f"{'set':<14}{'items':>6}  macro-F1 / on-topic precision")
    print(f"{'':<20}{'brief alone':>14}{'brief+story':>14}{'full alone':>14}{'full+story':>14}")
    for name, row in table.items():
        cells = "".join(
            f"{row[k]['macro_f1']:.3f}/{row[k]['precision']:.2f}".rjust(14)
            for k in ("brief_alone", "brief_in_story", "full_alone", "full_in_story")
        )
        print(f"{name:<14}{row['items']:>6}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
