"""Text → features, French-aware.

Accents are folded and words lightly stemmed (plural and feminine endings) so that
"données ouvertes", "donnée ouverte" and "donnees ouvertes" are one feature; character
n-grams add robustness to vocabulary the seed corpus never saw (compounds, misspellings,
English cognates). Everything here is a plain top-level function so fitted vectorisers
pickle cleanly.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata

from scipy.sparse import spmatrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

# Long texts add little beyond their first paragraphs and cost time: the lede carries the topic.
MAX_TEXT_CHARS = 2000
_TAG = re.compile(r"<[^>]{0,2000}>")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_ELISION = re.compile(r"\b(?:l|d|qu|n|s|c|j|m|t|jusqu|lorsqu|puisqu)'")

_STOP_TEXT = """
a au aux avec ce ces cet cette d dans de des du elle elles en est et eux il ils je la le les
leur leurs lui ma mais me meme mes moi mon ne nos notre nous on ont ou par pas plus pour qu
que qui sa se ses son sont sur ta te tes toi ton tu un une vos votre vous y ete etait sera
ainsi aussi entre apres avant depuis sans sous chez tout tous toute toutes fait faire peut
doit deux trois selon the of and to in is for on with by as at an be are was it this that
from or its which has have will
"""
STOPWORDS = frozenset(_STOP_TEXT.split())


def fold(text: str) -> str:
    """Lower-case, strip accents, unify apostrophes and dashes."""
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    """A light French stemmer: plural, then feminine endings (Savoy's idea, smaller)."""
    if len(word) > 4 and word[-1] in "sx":
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 5 and word.endswith(("eur", "ion")):
        return word
    return word


def words(text: str) -> list[str]:
    """Folded, elision-split, stop-word-free, stemmed words of an already folded text."""
    text = _ELISION.sub(" ", text)
    return [stem(w) for w in _WORD.findall(text) if w not in STOPWORDS and len(w) > 1]


def clean_text(text: str) -> str:
    """Drop HTML left in text, decode entities, collapse whitespace."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


def document(title: str, text: str) -> str:
    """The string a classifier sees: the title twice (it carries the topic) and the lede."""
    title = clean_text(title or "")
    body = clean_text(text or "")[:MAX_TEXT_CHARS]
    return fold(f"{title}. {title}. {body}")


def word_analyzer(doc: str) -> list[str]:
    tokens = words(doc)
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def build_vectorizer() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer=word_analyzer, min_df=1, sublinear_tf=True, max_features=60000
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    min_df=2,
                    sublinear_tf=True,
                    max_features=80000,
                ),
            ),
        ]
    )


def feature_names(vectorizer: FeatureUnion) -> list[str]:
    names: list[str] = []
    for name, vec in vectorizer.transformer_list:
        names.extend(f"{name}:{term}" for term in vec.get_feature_names_out())
    return names


def transform(vectorizer: FeatureUnion, docs: list[str]) -> spmatrix:
    return vectorizer.transform(docs)
