"""The byte-table tokens (`veille.text.bytetokens`) equal each rule's own definition: the
story words, the full-text tokens and the language's letter runs, which are stored or
decide stored values (fingerprints, the index, a page's language)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from veille.text import bytetokens, french, language

# Every character Windows-1252 encodes, and neighbours that are not (marks, Greek, « İ »,
# ligatures outside it) so that the mixtures take both paths.
CP1252 = [c for c in (bytes([b]).decode("cp1252", "ignore") for b in range(256)) if c]
EXTRA = ["\u0301", "\u0327", "Σ", "ﬁ", "İ", "ẞ", "ω", "\u2044", "’", " ", "l'", "qu'"]


def _story_reference(text: str) -> list[str]:
    return [
        w
        for w in french._STORY_WORD.findall(french.story_fold(text))
        if w not in french.STORY_STOPWORDS
    ]


def _search_reference(text: str) -> list[str]:
    raw = french.search_fold(text).encode("ascii").translate(french._SEPARATORS).decode("ascii")
    return [t for t in (french._normal(w) for w in raw.split()) if t]


def _letters_reference(text: str) -> list[str]:
    return language._TOKEN.findall(text.lower())


Rule = Callable[[str], list[str]]
RULES: list[tuple[Rule, Rule]] = [
    (french.story_words, _story_reference),
    (french.search_tokens, _search_reference),
    (language.letter_runs, _letters_reference),
]


@pytest.mark.parametrize(("fast", "reference"), RULES)
def test_every_character_alone_and_between_letters(fast: Rule, reference: Rule) -> None:
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000]
    assert [c for c in chars if fast(c) != reference(c)] == []
    assert [c for c in CP1252 if fast(f"ab{c}cd 9{c}9") != reference(f"ab{c}cd 9{c}9")] == []


@pytest.mark.parametrize(("fast", "reference"), RULES)
def test_mixtures_of_characters(fast: Rule, reference: Rule) -> None:
    rng = random.Random(20261208)
    alphabet = CP1252 + EXTRA + ["donnees", "Ville", "les", "de", "été", "1 2"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert fast(text) == reference(text), repr(text)


def test_the_fast_path_is_taken_for_french_text() -> None:
    text = "L’Arbenne a voté « 12 ½ » : cœur, straße, Données… — 3 €"
    assert bytetokens.tokens(text, french._STORY_TABLE) is not None
    assert french.story_words(text) == _story_reference(text)
    assert french.story_words(text)[:3] == ["arbenne", "vote", "12"]
    assert bytetokens.tokens("Σ", french._STORY_TABLE) is None  # outside Windows-1252


def test_a_rule_whose_replacement_the_table_changes_is_refused() -> None:
    # « ß » would give « SS », which the table itself lowers: not a per-character rule.
    with pytest.raises(ValueError, match="replacement"):
        bytetokens.token_table(lambda c: "SS" if c == "ß" else c.lower())
