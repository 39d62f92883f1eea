"""Would pruning a page's chrome before trafilatura keep the same results, and what would it
save? (benchmarks/README.md, « The extraction job: the page's chrome pruned before
trafilatura, checked and rejected »).

    python benchmarks/extract_prune.py --pages 300 --corpus ../shared/corpora/trafilatura

trafilatura's own cleaning (`tree_cleaning`, `MANUALLY_CLEANED`) deletes every `nav`, `aside`
and `footer` from the tree its main extractor reads, keeping their tails; but its fallbacks —
readability on the raw tree, the baseline, the recall escalation — read the raw tree, chrome
included. This script deletes those elements the same way (`trafilatura.xml.delete_element`)
from the tree `extract.extract_article` hands to `bare_extraction` (after our metadata and
`rel=canonical` have read it), page by page alternating with the unpruned call in the same
process, and prints the process CPU of `extract_article` per page each way and every page
whose `Extracted` differs in any field. Nothing of the project is changed: the experiment
wraps trafilatura's `bare_extraction` as `extract._extract` imports it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.xml import delete_element

from veille.collect.extract import extract_article

HERE = Path(__file__).resolve().parent
CHROME = ("nav", "aside", "footer")
_UPSTREAM = trafilatura.bare_extraction
_prune = [False]


def _bare_extraction(tree: Any, **kwargs: Any) -> Any:
    if _prune[0]:
        for elem in list(tree.iter(*CHROME)):
            delete_element(elem)  # the tail kept, as trafilatura's own cleaning does
    return _UPSTREAM(tree, **kwargs)


def _pages(count: int, corpus: Path | None) -> list[tuple[str, bytes, str]]:
    sys.path.insert(0, str(HERE))
    import _site

    plan = _site.plan()
    bodies = _site.render(plan)
    pages = [
        ("benchmark", bodies[(a.host, a.path)].body, plan.article_url(a.index))
        for a in plan.articles[:count]
    ]
    expected = corpus / "expected.json" if corpus else None
    if expected is not None and expected.is_file():
        for entry in json.loads(expected.read_text(encoding="utf-8"))["entries"]:
            pages.append(("corpus", (corpus / entry["file"]).read_bytes(), entry["url"]))
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300, help="benchmark article pages")
    parser.add_argument("--corpus", type=Path, help="trafilatura's corpus (expected.json)")
    args = parser.parse_args()
    trafilatura.bare_extraction = _bare_extraction
    pages = _pages(args.pages, args.corpus)
    for _, data, url in pages[:20]:  # imports, caches
        extract_article(data, url=url)
    spent: dict[tuple[str, bool], float] = {}
    counted: dict[str, int] = {}
    differing = []
    for name, data, url in pages:
        results = {}
        for prune in (False, True):
            _prune[0] = prune
            start = time.process_time()
            # The first cycle's arguments: the feed gave the date and the author.
            results[prune] = extract_article(data, url=url, extensive_date=False, need_author=False)
            spent[name, prune] = spent.get((name, prune), 0.0) + time.process_time() - start
        counted[name] = counted.get(name, 0) + 1
        if results[False] != results[True]:
            differing.append((name, url))
    for name, count in counted.items():
        before, after = spent[name, False] / count * 1000, spent[name, True] / count * 1000
        print(f"{name}: {count} pages, extract_article {before:.2f} → {after:.2f} ms of CPU a page")
    print(f"{len(differing)} pages extracted differently:")
    for name, url in differing:
        print(f"  {name} {url}")


if __name__ == "__main__":
    main()
