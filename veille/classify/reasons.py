"""Why an article has a theme, in words a delegate or a member can read.

Three kinds of reason, as the decision was made: the model (quoted through the words of
the article that weighed most, `quotes`), a keyword of feeds.yaml (quoted as found in the
article), or the delegate's own choice. Certainty is said in words, by bands of the
calibrated probability relative to the theme's threshold (docs/themes.md, « Certainty »):
a percentage reads as more precise than a model is, and 55 % means « sure » for a theme
whose threshold is 0.30 but « to check » for one whose threshold is 0.52.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from veille.classify.certainty import (  # noqa: F401  (re-exported: the desk's band uses them)
    CHECK,
    EDITOR,
    LIKELY,
    LIKELY_MARGIN,
    OUT,
    SURE,
    SURE_MARGIN,
    certainty,
    margin,
)
from veille.classify.features import document, feature_names
from veille.classify.passages import excerpt, weighing
from veille.classify.quotes import keyword_quotes, quotes
from veille.classify.rules import all_hits
from veille.text.french import fold

if TYPE_CHECKING:
    from veille.classify.classifier import Classifier
    from veille.classify.model import ThemeModel

# How many of the model's strongest features are looked up in the text.
TOP_FEATURES = 40


def contributions(
    model: ThemeModel, title: str, text: str, top: int = TOP_FEATURES, *, doc: str | None = None
) -> dict[str, list[tuple[str, float]]]:
    """Each theme's features that pushed it up (tf-idf × weight > 0), strongest first,
    words and character n-grams alike; of the article, or of `doc` (a passage) if given."""
    x = model.vectorizer.transform([document(title, text) if doc is None else doc]).tocsr()
    names = feature_names(model.vectorizer, x.indices)  # the article's columns only
    out: dict[str, list[tuple[str, float]]] = {}
    for j, theme in enumerate(model.themes):
        values = x.data * model.weights[x.indices, j]
        ranked = sorted(
            ((name, float(v)) for name, v in zip(names, values, strict=True) if v > 0),
            key=lambda nv: -nv[1],
        )
        out[theme] = ranked[:top]
    return out


@dataclass(frozen=True)
class Reason:
    theme: str
    probability: float
    threshold: float
    origin: str  # model | rule | editor
    certainty: str
    quotes: tuple[str, ...]  # the article's words that weighed for the model
    keywords: tuple[str, ...]  # the feeds.yaml keywords, as the article writes them
    # The start of the passage the model's decision came from, when it came from a passage
    # further in the article rather than from its title and lead (`passages`).
    passage: str | None = None


def reasons(
    classifier: Classifier,
    title: str,
    text: str,
    themes: Mapping[str, tuple[float, str]],
) -> dict[str, Reason]:
    """A reason for each given theme ({theme: (probability, origin)}, as stored or just
    predicted)."""
    model = classifier.model
    weighted = contributions(model, title, text)
    hits = all_hits(classifier.keywords, title, text) if classifier.keywords else {}
    # Where a passage further in gave a theme its decision, that passage is quoted.
    further = weighing(model, title, text or "")
    out: dict[str, Reason] = {}
    for theme, (probability, origin) in themes.items():
        threshold = float(model.thresholds.get(theme, 0.5))
        found = hits.get(theme)
        passage = further.get(theme)
        if passage is None:
            quoted = quotes(title, text, weighted.get(theme, []))
        else:
            # The passage read as a lead, so that its words that weigh are named in the
            # features `quotes` looks up.
            of_passage = contributions(model, "", passage, doc=fold(passage))
            quoted = quotes("", passage, of_passage.get(theme, []))
        out[theme] = Reason(
            theme=theme,
            probability=probability,
            threshold=threshold,
            origin=origin,
            certainty=certainty(probability, threshold, origin),
            quotes=tuple(quoted),
            keywords=tuple(keyword_quotes(title, text, found.title + found.text)) if found else (),
            passage=excerpt(passage, quoted) if passage is not None else None,
        )
    return out


def _quoted(text: str) -> str:
    """French guillemets with no-break spaces inside, so that a line never starts with
    « » » or ends with « « » (seen in Chromium: a passage's closing mark wrapped alone)."""
    return f"« {text} »"


def _listed(items: Sequence[str]) -> str:
    return ", ".join(_quoted(item) for item in items)


def sentence(reason: Reason) -> str:
    """The reason as one French sentence (page and CLI)."""
    return describe(reason.origin, reason.quotes, reason.keywords, reason.passage)


def describe(
    origin: str, quoted: Sequence[str], keywords: Sequence[str], passage: str | None = None
) -> str:
    """« Le texte parle de « … », « … » ; mot-clé de la veille trouvé : « … ». », or, when
    the model's decision came from a passage further in, « Plus loin, le passage « … »
    parle de « … » … »."""
    parts = []
    if origin == "editor":
        parts.append(EDITOR)
    if passage:
        about = f" parle de {_listed(quoted)}" if quoted else ""
        parts.append(f"plus loin, le passage {_quoted(passage)}{about}")
    elif quoted:
        parts.append(f"le texte parle de {_listed(quoted)}")
    if keywords:
        many = len(keywords) > 1
        parts.append(
            f"{'mots-clés' if many else 'mot-clé'} de la veille trouvé{'s' if many else ''} : "
            f"{_listed(keywords)}"
        )
    if not parts:
        parts.append("aucun passage du texte ne se détache")
    text = " ; ".join(parts)
    return text[0].upper() + text[1:] + "."
