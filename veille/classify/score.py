"""The value score (0–100) of an article, as a sum of visible components.

Pure: inputs in, score and its explanation out. Each component is a value in [0, 1] times
its weight; the explanation (in French, shown on the desk as « pourquoi ce score ») says
what each one measured. See docs/scoring.md for the reasoning behind each weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from veille.frenchformat import number

WEIGHTS: dict[str, float] = {
    "confidence": 30.0,  # how surely the article is on one of the themes
    "source": 15.0,  # the source's weight in feeds.yaml
    "freshness": 15.0,  # published recently, relative to when we found it
    "coverage": 15.0,  # several sources carry the story
    "novelty": 10.0,  # not a rehash of what we stored lately
    "substance": 10.0,  # a real article, not a three-line brief
    "editor": 5.0,  # the delegate's past keep/discard decisions on this source, and what
    # members read of it in the letters
}
# Letter items of a source that members followed count as that many « kept », up to this
# many: what members read moves a source, a viral week cannot carry it (docs/scoring.md).
READ_CAP = 10
FRESHNESS_HALF_LIFE_HOURS = 72.0
SUBSTANCE_FULL_CHARS = 2500
SUBSTANCE_MIN_CHARS = 300
MAX_SOURCE_WEIGHT = 2.0  # weights above this earn the full component


@dataclass(frozen=True)
class ScoreInputs:
    confidence: float  # 0..1, 0 when off-topic
    source_weight: float  # feeds.yaml weight, default 1.0
    published_at: datetime | None
    fetched_at: datetime
    coverage: int  # distinct sources covering the story (≥ 1)
    novelty: float  # 0..1
    text_chars: int
    kept: int = 0  # delegate decisions on this source's articles
    discarded: int = 0
    read: int = 0  # letter items of this source members followed (`db.clicks`)
    # The most probable theme's certainty in words (`classify.certainty.strongest`).
    certainty: str | None = None


def _freshness(published: datetime | None, fetched: datetime) -> tuple[float, str]:
    if published is None:
        return 0.5, "date de publication inconnue"
    hours = max(0.0, (fetched - published).total_seconds() / 3600)
    value = math.pow(0.5, hours / FRESHNESS_HALF_LIFE_HOURS)
    if hours < 48:
        return value, f"publié {int(hours)} h avant sa collecte"
    return value, f"publié {int(hours // 24)} jours avant sa collecte"


def _substance(chars: int) -> tuple[float, str]:
    if chars <= SUBSTANCE_MIN_CHARS:
        return 0.1, f"texte très court ({number(chars)} caractères)"
    value = min(
        1.0,
        0.1 + 0.9 * (chars - SUBSTANCE_MIN_CHARS) / (SUBSTANCE_FULL_CHARS - SUBSTANCE_MIN_CHARS),
    )
    return value, f"texte de {number(chars)} caractères"


def coverage_component(n: int) -> tuple[float, str]:
    value = {1: 0.0, 2: 0.5, 3: 0.75}.get(n, 1.0 if n > 3 else 0.0)
    return value, ("une seule source" if n <= 1 else f"couvert par {n} sources")


def _editor(kept: int, discarded: int, read: int = 0) -> tuple[float, str]:
    # Laplace prior: a source without decisions sits in the middle. An item members read
    # counts as one more « kept », at most READ_CAP of them.
    counted = max(0, min(read, READ_CAP))
    value = (kept + counted + 1) / (kept + discarded + counted + 2)
    read_why = f" ; {read} article(s) lu(s) par les membres dans les lettres" if read else ""
    if kept + discarded == 0:
        return value, "pas encore de décision du délégué sur cette source" + read_why
    return value, f"{kept} retenu(s), {discarded} écarté(s) sur cette source" + read_why


def editor_component(kept: int, discarded: int, read: int = 0) -> tuple[float, str]:
    """The `editor` component alone: the desk refreshes it when the delegate decides, and
    the `/r/` redirect when an item is read for the first time."""
    return _editor(kept, discarded, read)


def confidence_component(confidence: float, certainty: str | None = None) -> tuple[float, str]:
    """The `confidence` component alone: the desk refreshes it when the delegate re-themes.
    Said in words (« thème sûr », « thème à vérifier »…), never as a percentage."""
    word = f"thème {certainty}" if certainty else "thème retenu"
    return max(0.0, min(1.0, confidence)), "hors thème" if confidence <= 0 else word


def with_component(
    components: dict[str, Any], name: str, value: float, why: str
) -> tuple[float, dict[str, Any]]:
    """`components` with one component replaced, and the new total: a partial rescore when
    one input changed, without recomputing the others (which need the whole archive)."""
    out = dict(components)
    out[name] = {
        "value": round(value, 3),
        "points": round(value * WEIGHTS[name], 1),
        "max": WEIGHTS[name],
        "why": why,
    }
    total = round(sum(float(c["points"]) for c in out.values() if isinstance(c, dict)), 1)
    return total, out


def compute(inputs: ScoreInputs) -> tuple[float, dict[str, dict[str, Any]]]:
    """Return the score (0–100, one decimal) and its components."""
    parts: dict[str, tuple[float, str]] = {
        "confidence": confidence_component(inputs.confidence, inputs.certainty),
        "source": (
            max(0.0, min(1.0, inputs.source_weight / MAX_SOURCE_WEIGHT)),
            f"poids de la source : {number(inputs.source_weight, 2)}",
        ),
        "freshness": _freshness(inputs.published_at, inputs.fetched_at),
        "coverage": coverage_component(inputs.coverage),
        "novelty": (
            max(0.0, min(1.0, inputs.novelty)),
            "sujet nouveau" if inputs.novelty >= 0.8 else "proche d'articles récents",
        ),
        "substance": _substance(inputs.text_chars),
        "editor": _editor(inputs.kept, inputs.discarded, inputs.read),
    }
    components: dict[str, dict[str, Any]] = {
        name: {
            "value": round(value, 3),
            "points": round(value * WEIGHTS[name], 1),
            "max": WEIGHTS[name],
            "why": why,
        }
        for name, (value, why) in parts.items()
    }
    total = round(sum(float(c["points"]) for c in components.values()), 1)
    return total, components
