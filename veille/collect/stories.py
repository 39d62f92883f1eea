"""Near-duplicate detection: the same story syndicated or reworded across sources.

A 64-bit SimHash over word shingles of the folded text (`veille.text.fingerprint`); two
articles belong to the same story when their fingerprints differ by at most
`DEFAULT_THRESHOLD` bits. Method, shingle size and thresholds were chosen on the pairs in
tests/data/stories/ (see docs/dedup.md); this module owns those story rules.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from veille.text.fingerprint import hamming, simhash_of_counts, text_similarity, word_shingles
from veille.text.french import stem, story_fold, story_words

DEFAULT_THRESHOLD = 20
# Two-stage variant: a looser SimHash pre-filter, then the exact cosine of the texts.
CANDIDATE_THRESHOLD = 24
MIN_SIMILARITY = 0.5
# The story index's confirmation (`same_story`): cosine of title-and-text stemmed words.
STORY_SIMILARITY = 0.3
# The same when no name ties the two leads (one names a body or place the other mentions):
# words alone must then be as alike as whole articles of one story (`MIN_SIMILARITY`), or
# two texts on one topic (« les données ouvertes des lycées » / « du portail ») meet.
UNNAMED_SIMILARITY = 0.5
# Fewer words (title and text) than this and there is too little to compare: such
# articles never join a story. A feed's lead of one sentence and its title is enough: the
# decision is confirmed on the words, names and figures (`same_story`), not on the SimHash.
MIN_WORDS = 12


def fingerprint(title: str, text: str) -> tuple[int, Counter[str]] | None:
    """`simhash(f"{title}\n{text}")` and the story index's word vector (`story_vector`),
    from one pass over the words; None when `has_enough_text(f"{title}\n{text}")` is false.

    The extraction workers call it, so the main thread neither re-reads the words nor
    recomputes the vector of a new article.
    """
    words = story_words(title) + story_words(text)
    if len(words) < MIN_WORDS:
        return None
    return simhash_of_counts(word_shingles(words)), Counter(stem(w) for w in words)


def story_vector(title: str, text: str) -> Counter[str]:
    """The words the texts are compared on: title and text, stemmed, so that « publie » and
    « publiés », « ouvert » and « ouverte » meet (a feed's lead is too short to match on
    exact forms; measured in docs/dedup.md, « Measured on pairs »)."""
    return Counter(stem(w) for w in story_words(f"{title}\n{text}"))


# A text alone (no title) of fewer words is no proof that two items are one page: feeds
# repeat one generic description under many titles (`storyindex._same_page`).
COPY_MIN_WORDS = 20


def has_enough_text(text: str, min_words: int = MIN_WORDS) -> bool:
    """Short texts (a title alone, a teaser) give fingerprints too noisy to group stories.
    Callers pass the title and the text: a feed's lead of two sentences is enough."""
    return len(story_words(text)) >= min_words


def assign_story(
    fp: int, candidates: Sequence[tuple[int, int]], threshold: int = DEFAULT_THRESHOLD
) -> int | None:
    """Story id of the nearest candidate `(story_id, fingerprint)` within `threshold` bits.

    Ties go to the first candidate, so callers list the preferred (e.g. oldest) first.
    Fingerprints may be given signed or unsigned.
    """
    best: tuple[int, int] | None = None
    for story_id, other in candidates:
        distance = hamming(fp, other)
        if distance <= threshold and (best is None or distance < best[0]):
            best = (distance, story_id)
    return best[1] if best else None


def assign_story_confirmed(
    fp: int,
    text: str,
    candidates: Sequence[tuple[int, int, str]],
    threshold: int = CANDIDATE_THRESHOLD,
    min_similarity: float = MIN_SIMILARITY,
) -> int | None:
    """Like `assign_story`, but a SimHash match must be confirmed on the texts.

    A 64-bit SimHash of a few hundred words is noisy (±4 bits), so unrelated articles can
    land within `DEFAULT_THRESHOLD`; when the caller has the candidates' texts
    (`(story_id, fingerprint, text)`), this pre-filters loosely and confirms exactly.
    """
    near = sorted(
        ((hamming(fp, other), i) for i, (_, other, _) in enumerate(candidates)),
    )
    for distance, i in near:
        if distance > threshold:
            break
        story_id, _, other_text = candidates[i]
        if text_similarity(text, other_text) >= min_similarity:
            return story_id
    return None


# --------------------------------------------------------------------------- the decision

# Coverage of one event clusters within a day or two; the further apart two articles
# were published, the more alike they must be, from `STORY_SIMILARITY` within
# `SAME_DAY_HOURS` up to `COPY_SIMILARITY` (a near copy: a late syndication) at
# `COVERAGE_HOURS` and beyond. A follow-up days later (« le portail ouvert lundi compte
# déjà… ») is another story.
SAME_DAY_HOURS = 24
COVERAGE_HOURS = 120
COPY_SIMILARITY = 0.8
# Capitalised words that name a kind of body or a common thing, not one body: they neither
# tell two events apart nor tie them together.
_GENERIC_TEXT = """
ville villes commune communes metropole communaute agglomeration agglo region regions
departement departements conseil commission mairie prefecture prefectures ministere ministre
etat gouvernement republique france francais francaise europe europeen europeenne european
union agence ia ai api data open day licence ouverte
"""
GENERIC_NAMES = frozenset(_GENERIC_TEXT.split())
_SENTENCE_END = re.compile(r"(?<=[.!?»])\s+|\n+")
_TOKEN = re.compile(r"[^\W_][\w'’.-]*[^\W_]|[^\W_]")
_PIECE = re.compile(r"[-'’.]")
_ELIDED = re.compile(r"^(?:[ldjmnst]|qu|jusqu|lorsqu|puisqu)['’](?=\w)", re.IGNORECASE)
_HEADLINE_PLACE = re.compile(r"\s*[^\s:]+\s*:")
_NUMBER = re.compile(
    r"\d+(?:[  .]\d{3})*(?:,\d+)?(?!\s*(?:er\s+)?(?:janvier|fevrier|février|mars|avril|mai|juin"
    r"|juillet|aout|août|septembre|octobre|novembre|decembre|décembre)\b)(?!\d|,\d)"
)
_CAPITALISED = re.compile(r"(?<!\w)[A-ZÀ-ÖØ-ÞŒ]\w+")
_YEAR = re.compile(r"(?:19|20)\d\d")


@dataclass(frozen=True)
class StoryKeys:
    """What tells one event from another of the same topic, beyond shared words: the
    names of bodies and places (capitalised words) and the figures of the title and lead."""

    mentioned: frozenset[str]  # every capitalised word of the title and text
    lead_names: frozenset[str]  # of the title and first sentence
    lead_years: frozenset[str]
    lead_figures: frozenset[str]  # amounts and counts, not years nor days of a month


NO_KEYS = StoryKeys(frozenset(), frozenset(), frozenset(), frozenset())


def _pieces(sentence: str) -> list[tuple[int, bool, str]]:
    """(position in the sentence, elided, piece) of each word piece: « L'Île-de-France »
    gives « Île », « de », « France »."""
    out: list[tuple[int, bool, str]] = []
    for i, token in enumerate(_TOKEN.findall(sentence)):
        elided = _ELIDED.match(token)
        word = token[elided.end() :] if elided else token
        out.extend((i, elided is not None, piece) for piece in _PIECE.split(word) if piece)
    return out


def _names(sentences: list[str], text: str) -> set[str]:
    """Capitalised words, folded. A sentence's first word is capitalised anyway: it counts
    when it is elided (« L'Assemblée »), when it heads a « Lieu : … » headline and `text`
    never writes it in lower case (« Vidéoprotection : … » then « la vidéoprotection »
    is a common noun), or when the same word is capitalised elsewhere."""
    found: set[str] = set()
    initial: set[str] = set()
    for n, sentence in enumerate(sentences):
        headline = n == 0 and _HEADLINE_PLACE.match(sentence) is not None
        for i, elided, piece in _pieces(sentence):
            if len(piece) < 2 or not piece[0].isupper():
                continue
            folded = story_fold(piece)
            if folded in GENERIC_NAMES:
                continue
            if i > 0 or elided or (headline and piece.lower() not in text):
                found.add(folded)
            else:
                initial.add(folded)
    return found | (initial & found)


def story_keys(title: str, text: str) -> StoryKeys:
    """The keys of an article. Only the title and first sentence are parsed word by word;
    the rest of the text is searched once for capitalised words (`mentioned`), so that a
    long article costs about as much as its lead."""
    first = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    lead = [title, first]
    numbers = _NUMBER.findall(f"{title}\n{first}")
    years = {n for n in numbers if _YEAR.fullmatch(n)}
    figures = {re.sub(r"[  .]", "", n) for n in numbers if n not in years}
    mentioned = {story_fold(w) for w in _CAPITALISED.findall(f"{title}\n{text}")}
    return StoryKeys(
        mentioned=frozenset(mentioned - GENERIC_NAMES),
        lead_names=frozenset(_names(lead, text)),
        lead_years=frozenset(years),
        lead_figures=frozenset(figures),
    )


def title_words(lead: str) -> frozenset[str]:
    """The stemmed words of the title of "title\ntext…": candidates for the story index
    when the leads share no name (a city's own page rarely names the city)."""
    return frozenset(stem(w) for w in story_words(lead.partition("\n")[0]))


def lead_names(lead: str) -> frozenset[str]:
    """The names of a title and first sentence given as "title\ntext…" (the text may be
    cut): how the story index finds candidates whose words are too few for a SimHash to
    see (two feed leads of two sentences)."""
    title, _, text = lead.partition("\n")
    first = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    return frozenset(_names([title, first], text))


def required_similarity(hours_apart: float, named: bool = True) -> float:
    """The cosine two articles published `hours_apart` must reach to be one story; `named`:
    a name of one lead is mentioned by the other article."""
    floor = STORY_SIMILARITY if named else UNNAMED_SIMILARITY
    late = min(max(hours_apart - SAME_DAY_HOURS, 0.0) / (COVERAGE_HOURS - SAME_DAY_HOURS), 1.0)
    return floor + (COPY_SIMILARITY - floor) * late


def _disjoint(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a) and bool(b) and not a & b


def same_story(similarity: float, hours_apart: float, a: StoryKeys, b: StoryKeys) -> bool:
    """Are two articles one event's coverage? The decision the story index takes on each
    candidate: `similarity` is the cosine of their `story_vector`s.

    - The cosine must reach `required_similarity`: higher when no name ties the leads, and
      the more so the further apart they were published (a follow-up days later is another
      story, unless it is a near copy).
    - Each lead names a body or place the other article never names (Valmont / Brévannes,
      Assemblée / Sénat): two events.
    - Both leads give years and share none (rapport 2025 / 2026), or figures and share
      none (20 000 / 50 000 euros, 312 / 221 voix): two events. Days of a month (« 30
      juin ») are no figures, and years and figures are compared apart (« 14 lignes »
      beside « depuis 2023 » is no disagreement).
    """
    named = bool(a.lead_names & b.mentioned or b.lead_names & a.mentioned)
    if similarity < required_similarity(hours_apart, named):
        return False
    if a.lead_names - b.mentioned and b.lead_names - a.mentioned:
        return False
    return not (_disjoint(a.lead_years, b.lead_years) or _disjoint(a.lead_figures, b.lead_figures))
