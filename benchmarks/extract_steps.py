"""The extraction worker's job per page, step by step, by process CPU: what trafilatura costs
and what we add around it (benchmarks/README.md, « The extraction job, step by step »).

    python benchmarks/extract_steps.py --pages 200 --rounds 3 --repo /tmp/before --repo .

Each round runs, in a fresh interpreter of each checkout (rounds alternate the checkouts),
`worker.extract_with_facts` on the first `--pages` article pages of the collection
benchmark's web (`_site.render`, the bytes the server sends) with the arguments a first
cycle gives it (the feed entry's title and summary as the feed parser gives them; the feed
has the date and the author, so the page's are not searched; the lead the story index
keeps), then pickles each result as the pool sends it back. Printed: milliseconds of
process CPU per page (`time.process_time`, no profiler), in all and per step. A step's
time is its own (self): a step called inside another is subtracted from the outer one;
« rest » is what no named step covers (the worker's glue, the `Extracted` and facts objects,
freeing the page's tree). The steps are found by name in each checkout; a name a checkout
lacks is left out of its row.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import json, pickle, sys, time
sys.path.insert(0, sys.argv[2])
import _site
from veille.collect import worker
from veille.db.articles import LEAD_CHARS

totals = {}
stack = []  # [name, start, children's time]

def timed(name, fn):
    def wrapper(*args, **kwargs):
        frame = [name, time.process_time(), 0.0]
        stack.append(frame)
        try:
            return fn(*args, **kwargs)
        finally:
            spent = time.process_time() - frame[1]
            stack.pop()
            totals[name] = totals.get(name, 0.0) + spent - frame[2]
            if stack:
                stack[-1][2] += spent
    return wrapper

STEPS = [  # (module, attribute, step)
    ("veille.collect.extract", "decode_html", "decode bytes"),
    ("veille.collect.extract", "bound_html", "bound_html (page)"),
    ("trafilatura.utils", "load_html", "load_html (parse)"),
    ("veille.collect.extract", "load_html", "load_html (parse)"),
    ("veille.collect.extract", "_DEEPER_THAN_BOUND", "depth of the parsed tree"),
    ("veille.collect.extract", "_canonical", "rel=canonical"),
    ("veille.collect.extract", "_metadata", "metadata (title, date, sitename…)"),
    ("trafilatura", "bare_extraction", "trafilatura bare_extraction"),
    ("trafilatura.xml", "xmltotxt", "text (xmltotxt)"),
    ("trafilatura.htmlprocessing", "convert_to_html", "HTML (convert_to_html)"),
    ("veille.collect.extract", "tostring", "HTML (tostring)"),
    ("veille.collect.extract", "sanitize_html", "sanitize_html (nh3)"),
    ("veille.collect.extract", "detect_language", "language"),
    ("veille.collect.worker", "record_title", "record title"),
    ("veille.collect.worker", "record_summary", "record summary"),
    ("veille.collect.worker", "article_url", "article URL and key"),
    ("veille.collect.stories", "fingerprint", "fingerprint (SimHash)"),
    ("veille.text.fingerprint", "hashed_counts", "word vector"),
    ("veille.text.fingerprint", "content_fingerprint", "content hash"),
    ("veille.text.french", "index_words", "full-text words"),
    ("veille.collect.storykeys", "story_keys", "story keys"),
    ("veille.collect.storykeys", "lead_names", "lead names"),
    ("veille.collect.storykeys", "site_names", "lead names"),
    ("veille.collect.storykeys", "title_words", "title words"),
]
import importlib
for module, attr, step in STEPS:
    mod = importlib.import_module(module)
    if hasattr(mod, attr):
        setattr(mod, attr, timed(step, getattr(mod, attr)))

from datetime import UTC, datetime
from veille.collect.feeds import parse_feed

plan = _site.plan()
bodies = _site.render(plan)
pages = [(a, bodies[(a.host, a.path)].body) for a in plan.articles[: int(sys.argv[1])]]
# Each page's feed entry (title and summary as the feed parser gives them), from the feeds
# that list these articles.
wanted = {plan.article_url(a.index): a.index for a, _ in pages}
entries = {}
for feed in plan.feeds:
    if all(i in entries for i in wanted.values()):
        break
    if not any(i in wanted.values() and i not in entries for i, _ in feed.entries):
        continue
    res = bodies[(feed.host, feed.path)]
    parsed = parse_feed(res.body, url=plan.feed_url(feed), content_type=res.content_type,
                        now=datetime.now(UTC))
    for e in parsed.entries:
        i = wanted.get((e.link or "").split("?")[0])
        if i is not None:
            entries.setdefault(i, e)

def job(a, body):
    url = plan.article_url(a.index)
    e = entries[a.index]
    return worker.extract_with_facts(
        body, url=url, encoding="utf-8", extensive_date=False, need_author=False,
        title=e.title, link=url, lead_chars=LEAD_CHARS, summary_html=e.summary_html,
    )

for a, body in pages[:20]:  # imports, caches
    job(a, body)
totals.clear()
pickled = 0.0
start = time.process_time()
for a, body in pages:
    result = job(a, body)
    t = time.process_time()
    pickle.dumps(result)
    pickled += time.process_time() - t
total = time.process_time() - start
totals["pickling the result"] = pickled
totals["rest"] = total - sum(totals.values())
steps = {k: v / len(pages) for k, v in totals.items()}
print(json.dumps({"total": total / len(pages), "steps": steps}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repo", action="append", help="a checkout (default: this one)")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent
    repos = [Path(r).resolve() for r in (args.repo or [here.parent])]
    runs: dict[Path, list[dict]] = {r: [] for r in repos}
    for n in range(args.rounds):
        for repo in repos if n % 2 == 0 else repos[::-1]:
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, str(args.pages), str(here)],
                cwd=repo,
                env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"},
                check=True,
                capture_output=True,
                text=True,
            )
            runs[repo].append(json.loads(out.stdout.splitlines()[-1]))
            print(f"round {n + 1}, {repo}: {runs[repo][-1]['total'] * 1000:.2f} ms per page")
    for repo, results in runs.items():
        print(f"\n{repo} (ms of process CPU per page; rounds: min–max)")
        steps = sorted(results[0]["steps"], key=lambda s: -results[0]["steps"][s])
        for step in steps:
            values = [r["steps"].get(step, 0.0) * 1000 for r in results]
            print(f"  {step:38} {min(values):6.2f} – {max(values):6.2f}")
        totals = [r["total"] * 1000 for r in results]
        print(f"  {'total':38} {min(totals):6.2f} – {max(totals):6.2f}")


if __name__ == "__main__":
    main()
