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


def has_enough_text(text: str) -> bool:
    """Short texts (a title alone, a teaser) give fingerprints too noisy to group stories.
    Callers pass the title and the text: a feed's lead of two sentences is enough."""
    return len(story_words(text)) >= MIN_WORDS


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

# Within this many hours two articles can be one event's coverage; later, an article on
# the same subject is a follow-up (« le portail ouvert lundi compte déjà… »), a different
# story, unless it is a near copy (a late syndication).
COVERAGE_HOURS = 72
COPY_SIMILARITY = 0.8
# Capitalised words that name a kind of body or a common thing, not one body: they neither
# tell two events apart nor tie them together.
GENERIC_NAMES = frozenset(
    [
        "ville",
        "villes",
        "commune",
        "communes",
        "metropole",
        "communaute",
        "agglomeration",
        "agglo",
        "region",
        "regions",
        "departement",
        "departements",
        "conseil",
        "mairie",
        "prefecture",
        "prefectures",
        "ministere",
        "ministre",
        "etat",
        "gouvernement",
        "republique",
        "france",
        "francais",
        "francaise",
        "europe",
        "europeen",
        "europeenne",
        "european",
        "union",
        "agence",
        "ia",
        "ai",
        "data",
        "open",
        "day",
        "licence",
        "ouverte",
        "le",
        "la",
        "les",
        "l",
        "un",
        "une",
        "des",
        "de",
        "du",
        "en",
        "au",
        "aux",
        "et",
        "a",
        "pour",
        "sur",
        "dans",
        "avec",
        "par",
        "nos",
        "notre",
        "vos",
        "votre",
        "ce",
        "cette",
        "ces",
        "apres",
        "avant",
        "depuis",
        "selon",
    ]
)
_SENTENCE_END = re.compile(r"(?<=[.!?»])\s+|\n+")
_TOKEN = re.compile(r"[^\W_][\w'’.-]*[^\W_]|[^\W_]")
_ELIDED = re.compile(r"^(?:[ldjmnst]|qu|jusqu|lorsqu|puisqu)['’](?=\w)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[  .]\d{3})*(?:,\d+)?")


@dataclass(frozen=True)
class StoryKeys:
    """What tells one event from another of the same topic, beyond shared words: the
    names of bodies and places (capitalised words) and the figures of the title and lead."""

    names: frozenset[str]  # of the whole title and text
    lead_names: frozenset[str]  # of the title and first sentence
    lead_numbers: frozenset[str]


def _names(sentences: list[str], headline: bool) -> set[str]:
    """Capitalised words, folded. A sentence's first word is capitalised anyway: it counts
    when it is elided (« L'Assemblée »), when it heads a headline « Lieu : … », or when the
    same word is capitalised elsewhere in the text."""
    found: set[str] = set()
    initial: set[str] = set()
    for n, sentence in enumerate(sentences):
        for i, token in enumerate(_TOKEN.findall(sentence)):
            elided = _ELIDED.match(token)
            word = token[elided.end() :] if elided else token
            for piece in re.split(r"[-'’.]", word):
                if len(piece) < 2 or not piece[0].isupper():
                    continue
                folded = story_fold(piece)
                if folded in GENERIC_NAMES:
                    continue
                if (
                    i > 0
                    or elided
                    or (headline and n == 0 and re.match(r"\s*[^\s:]+\s*:", sentence))
                ):
                    found.add(folded)
                else:
                    initial.add(folded)
    return found | (initial & found)


def story_keys(title: str, text: str) -> StoryKeys:
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
    lead = [title, *sentences[:1]]
    return StoryKeys(
        names=frozenset(_names([title, *sentences], headline=True)),
        lead_names=frozenset(_names(lead, headline=True)),
        lead_numbers=frozenset(re.sub(r"[  .]", "", n) for n in _NUMBER.findall(" ".join(lead))),
    )


def lead_names(lead: str) -> frozenset[str]:
    """The names of a title and first sentence given as "title\ntext…" (the text may be
    cut): how the story index finds candidates whose words are too few for a SimHash to
    see (two feed leads of two sentences)."""
    title, _, text = lead.partition("\n")
    return story_keys(title, text).lead_names


def same_story(similarity: float, hours_apart: float, a: StoryKeys, b: StoryKeys) -> bool:
    """Are two articles one event's coverage? The decision the story index takes on each
    candidate: `similarity` is the cosine of their `story_vector`s.

    - Published more than `COVERAGE_HOURS` apart: only a near copy (a follow-up days later
      is another story).
    - Each lead names a body or place the other article never names (Valmont / Brévannes,
      Assemblée / Sénat): two events.
    - Both leads give figures and share none (2025 / 2026, 20 000 / 50 000 euros): two
      events.
    """
    if hours_apart > COVERAGE_HOURS:
        return similarity >= COPY_SIMILARITY
    if similarity < STORY_SIMILARITY:
        return False
    if a.lead_names - b.names and b.lead_names - a.names:
        return False
    return not (a.lead_numbers and b.lead_numbers and not a.lead_numbers & b.lead_numbers)
