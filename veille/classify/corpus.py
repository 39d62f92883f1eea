"""Labelled items: the packaged seed corpus and user files for `veille classify eval`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from veille.classify.model import LabelledItem
from veille.errors import ConfigError
from veille.sources import THEME_IDS


def parse_jsonl(lines: Iterable[str], *, name: str) -> list[LabelledItem]:
    """One object per line: title, text, labels (theme ids); extra keys are ignored.

    A bad line is reported with its number; unknown theme ids are an error, because a typo
    would silently turn a positive example into a negative one.
    """
    items: list[LabelledItem] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{name} line {number}: invalid JSON ({exc.msg}).") from None
        if not isinstance(obj, dict):
            raise ConfigError(f"{name} line {number}: expected a JSON object.")
        labels = obj.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise ConfigError(f"{name} line {number}: 'labels' must be a list of theme ids.")
        unknown = sorted(set(labels) - set(THEME_IDS))
        if unknown:
            raise ConfigError(
                f"{name} line {number}: unknown theme id(s) {', '.join(unknown)} "
                f"(known: {', '.join(THEME_IDS)})."
            )
        title, text = obj.get("title") or "", obj.get("text") or ""
        if not isinstance(title, str) or not isinstance(text, str):
            raise ConfigError(f"{name} line {number}: 'title' and 'text' must be strings.")
        if not title.strip() and not text.strip():
            raise ConfigError(f"{name} line {number}: both 'title' and 'text' are empty.")
        lang = obj.get("lang")
        items.append(
            LabelledItem(title, text, frozenset(labels), lang if isinstance(lang, str) else None)
        )
    return items


def read_jsonl(path: Path) -> list[LabelledItem]:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            return parse_jsonl(handle, name=str(path))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text.") from None


# The packaged corpus, by part. Training is the short seed items (`seed/*.jsonl`) plus the
# long-form articles (`seed/long/`): real pages are 150–600 words that mix subjects, the
# short items teach the vocabulary. The two held-out parts, written by other hands, are
# for measuring only: nothing is trained or chosen on them.
TRAIN_FOLDERS = ("", "long")
HELDOUT_FOLDERS = {
    "short": "heldout",
    "long": "heldout_long",
    "press": "heldout_press",
    "news": "heldout_news",
}
# Label pools: real-news-like articles that play the delegate's labels in learning curves
# and in choosing how much they weigh (benchmarks/learning_curve.py). Neither trained on by
# default nor measured on: a pool is what a delegate would label.
POOL_FOLDERS = {"press": "pool_press"}


def _seed_files(folder: str) -> list[tuple[str, str]]:
    root = resources.files("veille.classify") / "seed"
    if folder:
        root = root / folder
    if not root.is_dir():
        return []
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in root.iterdir()
        if entry.name.endswith(".jsonl")
    )


def _load(folder: str, without: Sequence[str] = ()) -> list[LabelledItem]:
    prefix = f"seed/{folder}/" if folder else "seed/"
    items: list[LabelledItem] = []
    for name, text in _seed_files(folder):
        if any(name.startswith(f"{kind}_") for kind in without):
            continue
        items.extend(parse_jsonl(text.splitlines(), name=f"{prefix}{name}"))
    return items


def load_seed(
    *, heldout: bool = False, long: bool = True, without: Sequence[str] = ()
) -> list[LabelledItem]:
    """The packaged training corpus (short items and, unless `long` is false, long-form
    articles), or with `heldout` the short held-out part kept for tests. `without` leaves
    out the training files of those kinds (`"press"`: `seed/long/press_*.jsonl`), for
    measuring a model that never saw that kind of article (benchmarks/learning_curve.py)."""
    if heldout:
        return _load(HELDOUT_FOLDERS["short"])
    return [
        item
        for folder in TRAIN_FOLDERS
        if long or folder != "long"
        for item in _load(folder, without)
    ]


def load_heldout(kind: str) -> list[LabelledItem]:
    """A held-out part: "short" (`seed/heldout/`), "long" (`seed/heldout_long/`) or
    "press" (`seed/heldout_press/`: articles written like real news, keyword-sparse, with
    the theme often past the lead) or "news" (`seed/heldout_news/`: a new hand's articles
    in real news' register, sealed: measured, never used to choose).

    An item whose title is also a training item's is left out: written by different hands,
    the parts can meet on a generic title, and the title weighs most in what the model
    reads, so such an item would not measure generalisation."""
    return _unseen(_load(HELDOUT_FOLDERS[kind]))


def load_pool(kind: str = "press") -> list[LabelledItem]:
    """A label pool: "press" (`seed/pool_press/`), real-news-like articles by another hand
    than the press held-out set, for playing the delegate's labels; less any item whose
    title a training item or a held-out item also has (a label must not be a copy of what
    is measured)."""
    measured = {
        i.title.casefold() for kind_ in HELDOUT_FOLDERS for i in _load(HELDOUT_FOLDERS[kind_])
    }
    return [i for i in _unseen(_load(POOL_FOLDERS[kind])) if i.title.casefold() not in measured]


def _unseen(items: list[LabelledItem]) -> list[LabelledItem]:
    trained = {item.title.casefold() for item in load_seed()}
    return [i for i in items if i.title.casefold() not in trained]


def in_label_pool(item: LabelledItem) -> bool:
    """The fixed random split of a held-out set for learning curves: an item is a
    « delegate label » when the first byte of the SHA-256 of its title is even, else it is
    evaluated on. By title, so the split does not move when items are added."""
    return hashlib.sha256(item.title.encode()).digest()[0] % 2 == 0


def label_split(items: Sequence[LabelledItem]) -> tuple[list[LabelledItem], list[LabelledItem]]:
    """(label pool, evaluation part) of `items` (`in_label_pool`)."""
    return [i for i in items if in_label_pool(i)], [i for i in items if not in_label_pool(i)]
