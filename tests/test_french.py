"""The three variants of `veille.text.french` pinned on a few sentences.

The expected values were computed with the code before the variants shared one module
(veille/textnorm.py, veille/archive/vocabulary.py, veille/collect/stories.py): the
classifier's models, the stored full-text tokens and the stored story fingerprints depend
on them, so any change here is a change of stored data, not a refactor.
"""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from veille.text import fingerprint, french

S = [
    "L'État publie les données ouvertes des collectivités territoriales.",
    "Qu'est-ce que l'œuvre d'Œdipe nous apprend sur les cœurs brisés ?",
    "Jusqu'à présent, lorsqu'il pleut, les vélos électriques restent au garage.",
    "Open data and machine learning: the French government is releasing new datasets.",
    "Les porte-parole — notamment Mme Dupont – ont annoncé « 3 000 € » d’aides.",
    "Les journaux régionaux ont publié leurs éditions spéciales; lecteurs nombreux.",
    "Straße, Æsir, naïveté, Ångström et façade : ÉCOLE PUBLIQUE n°12 (2026)",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (S[0], "l'etat publie les donnees ouvertes des collectivites territoriales."),
        (S[1], "qu'est-ce que l'œuvre d'œdipe nous apprend sur les cœurs brises ?"),
        (S[2], "jusqu'a present, lorsqu'il pleut, les velos electriques restent au garage."),
        (S[3], "open data and machine learning: the french government is releasing new datasets."),
        (S[4], "les porte-parole - notamment mme dupont - ont annonce « 3 000 € » d'aides."),
        (S[5], "les journaux regionaux ont publie leurs editions speciales; lecteurs nombreux."),
        (S[6], "straße, æsir, naivete, angstrom et facade : ecole publique n°12 (2026)"),
    ],
)
def test_classify_fold(text: str, expected: str) -> None:
    assert french.fold(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (S[0], ["etat", "publi", "donne", "ouvert", "collectivit", "territorial"]),
        (S[1], ["est-c", "uvre", "dipe", "apprend", "urs", "bris"]),
        (S[2], ["present", "pleut", "velo", "electriqu", "restent", "garag"]),
        (
            S[3],
            [
                "open",
                "data",
                "machin",
                "learning",
                "french",
                "government",
                "releasing",
                "new",
                "dataset",
            ],
        ),
        (S[4], ["porte-parol", "notamment", "mme", "dupont", "annonc", "000", "aide"]),
        (S[5], ["journau", "regionau", "publi", "edition", "special", "lecteur", "nombreu"]),
        (S[6], ["stra", "sir", "naivet", "angstrom", "facad", "ecol", "publiqu", "12", "2026"]),
    ],
)
def test_classify_words(text: str, expected: list[str]) -> None:
    assert french.words(french.fold(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (S[0], "L'État publie les données ouvertes des collectivités territoriales. & x"),
        (S[1], "Qu'est-ce que l'œuvre d'Œdipe nous apprend sur les cœurs brisés ? & x"),
        (S[2], "Jusqu'à présent, lorsqu'il pleut, les vélos électriques restent au garage. & x"),
        (
            S[3],
            "Open data and machine learning: the French government is releasing new datasets. & x",
        ),
        (S[4], "Les porte-parole — notamment Mme Dupont – ont annoncé « 3 000 € » d’aides. & x"),
        (
            S[5],
            "Les journaux régionaux ont publié leurs éditions spéciales; lecteurs nombreux. & x",
        ),
        (S[6], "Straße, Æsir, naïveté, Ångström et façade : ÉCOLE PUBLIQUE n°12 (2026) & x"),
    ],
)
def test_clean_text(text: str, expected: str) -> None:
    assert french.clean_text("<p>" + text + "</p> &amp; x") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (S[0], "l'etat publie les donnees ouvertes des collectivites territoriales."),
        (S[1], "qu'est-ce que l'oeuvre d'oedipe nous apprend sur les coeurs brises ?"),
        (S[2], "jusqu'a present, lorsqu'il pleut, les velos electriques restent au garage."),
        (S[3], "open data and machine learning: the french government is releasing new datasets."),
        (S[4], "les porte-parole ? notamment mme dupont ? ont annonce ? 3 000 ? ? d?aides."),
        (S[5], "les journaux regionaux ont publie leurs editions speciales; lecteurs nombreux."),
        (S[6], "strasse, aesir, naivete, angstrom et facade : ecole publique n?12 (2026)"),
    ],
)
def test_search_fold(text: str, expected: str) -> None:
    assert french.search_fold(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (S[0], ["etat", "publi", "donne", "ouvert", "collectivit", "territorial"]),
        (S[1], ["oeuvr", "oedip", "apprend", "coeur", "bris"]),
        (S[2], ["present", "pleut", "velo", "electriqu", "restent", "garag"]),
        (
            S[3],
            [
                "open",
                "data",
                "machin",
                "learning",
                "french",
                "government",
                "releasing",
                "new",
                "dataset",
            ],
        ),
        (
            S[4],
            ["port", "parol", "notamment", "mme", "dupont", "ont", "annonc", "3", "000", "aide"],
        ),
        (S[5], ["journau", "regionau", "ont", "publi", "edition", "special", "lecteur", "nombreu"]),
        (S[6], ["strass", "aesir", "naivet", "angstrom", "facad", "ecol", "publiqu", "12", "2026"]),
    ],
)
def test_search_tokens(text: str, expected: list[str]) -> None:
    assert french.search_tokens(text) == expected
    assert french.search_tokens(text) == expected  # again, from the cache
    assert french.index_words(text) == " ".join(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (S[0], "l'etat publie les donnees ouvertes des collectivites territoriales."),
        (S[1], "qu'est-ce que l'œuvre d'œdipe nous apprend sur les cœurs brises ?"),
        (S[2], "jusqu'a present, lorsqu'il pleut, les velos electriques restent au garage."),
        (S[3], "open data and machine learning: the french government is releasing new datasets."),
        (S[4], "les porte-parole — notamment mme dupont – ont annonce « 3 000 € » d’aides."),
        (S[5], "les journaux regionaux ont publie leurs editions speciales; lecteurs nombreux."),
        (S[6], "strasse, æsir, naivete, angstrom et facade : ecole publique n°12 (2026)"),
    ],
)
def test_story_fold(text: str, expected: str) -> None:
    assert french.story_fold(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (S[0], ["etat", "publie", "donnees", "ouvertes", "collectivites", "territoriales"]),
        (S[1], ["uvre", "dipe", "apprend", "c", "urs", "brises"]),
        (
            S[2],
            ["jusqu", "present", "lorsqu", "pleut", "velos", "electriques", "restent", "garage"],
        ),
        (
            S[3],
            [
                "open",
                "data",
                "machine",
                "learning",
                "french",
                "government",
                "releasing",
                "new",
                "datasets",
            ],
        ),
        (S[4], ["porte", "parole", "notamment", "mme", "dupont", "annonce", "3", "000", "aides"]),
        (
            S[5],
            ["journaux", "regionaux", "publie", "editions", "speciales", "lecteurs", "nombreux"],
        ),
        (
            S[6],
            ["strasse", "sir", "naivete", "angstrom", "facade", "ecole", "publique", "12", "2026"],
        ),
    ],
)
def test_story_words(text: str, expected: list[str]) -> None:
    assert french.story_words(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (S[0], 645665693807254),
        (S[1], 3627935107979091984),
        (S[2], 15134938394475774432),
        (S[3], 4567050195751765874),
        (S[4], 15962337243172293410),
        (S[5], 3596617554965662202),
        (S[6], 7019461903269775328),
    ],
)
def test_simhash(text: str, expected: int) -> None:
    assert fingerprint.simhash(text) == expected


# The stop-word sets as they were in each of the three modules.
_CLASSIFY = """
a au aux avec ce ces cet cette d dans de des du elle elles en est et eux il ils je la le les
leur leurs lui ma mais me meme mes moi mon ne nos notre nous on ont ou par pas plus pour qu
que qui sa se ses son sont sur ta te tes toi ton tu un une vos votre vous y ete etait sera
ainsi aussi entre apres avant depuis sans sous chez tout tous toute toutes fait faire peut
doit deux trois selon the of and to in is for on with by as at an be are was it this that
from or its which has have will
"""
_SEARCH = """
a au aux avec ce ces cet cette d dans de des du elle elles en est et eux il ils je la le les
leur leurs lui ma mais me meme mes moi mon ne nos notre nous on ou par pas plus pour qu que
qui sa se ses son sont sur ta te tes toi ton tu un une vos votre vous y the of and to in is
for on with by as at an be are was it this that from or its
l d n s c j m t jusqu lorsqu puisqu
"""
_STORY = """
a au aux avec ce ces cet cette d dans de des du elle en est et il ils l la le les leur leurs
lui n ne nous on ont ou par pas plus pour qu que qui s sa se ses son sont sur un une y
the of and to in is for on with
"""


def test_stop_words_are_those_each_variant_had() -> None:
    assert frozenset(_CLASSIFY.split()) == french.CLASSIFY_STOPWORDS
    assert frozenset(_SEARCH.split()) == french.SEARCH_STOPWORDS
    assert frozenset(_STORY.split()) == french.STORY_STOPWORDS


def test_numbers_the_french_way() -> None:
    from veille.frenchformat import decimal_commas, number

    assert number(1234) == "1\u202f234"  # narrow no-break space
    assert number(1.5) == "1,5" and number(2.0) == "2" and number(1234.56) == "1\u202f234,6"
    assert number(0.126, 2) == "0,13"
    assert number(None) == "" and number("12") == "12" and number("3.5") == "3,5"
    assert number("n/a") == "n/a"
    assert (
        decimal_commas("poids de la source : 1.5, version 2")
        == "poids de la source : 1,5, version 2"
    )


def test_whole_numbers_read_as_babel_writes_them() -> None:
    """`number` writes integers itself (every score explains a character count): the
    answer must be babel's, signs and thousands included."""
    from babel.numbers import format_decimal

    from veille.frenchformat import LOCALE, number

    rng = random.Random(7)
    values = [*range(-2000, 2000), *(rng.randint(-(10**15), 10**15) for _ in range(2000))]
    for decimals, pattern in ((0, "#,##0"), (1, "#,##0.#"), (2, "#,##0.##")):
        for value in values:
            assert number(value, decimals) == format_decimal(value, format=pattern, locale=LOCALE)


# --------------------------------------------------------------------------- fast paths
# `fold`, `words` and `clean_head` take shortcuts (a Windows-1252 byte table, a stem dict,
# visiting only apostrophes, reading only the head of a text). Their outputs are stored
# model vocabularies, so each is checked against the plain definition it replaced.

_REF_LATIN_MARKS = re.compile("[\u0300-\u036f]+")
_REF_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _reference_fold(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    if decomposed.isascii():
        return decomposed
    stripped = _REF_LATIN_MARKS.sub("", decomposed)
    if stripped.isascii():
        return stripped
    return _REF_NON_ASCII.sub(
        lambda m: "" if unicodedata.combining(m.group()) else m.group(), stripped
    )


def _reference_words(text: str) -> list[str]:
    text = french._ELISION.sub(" ", text)
    return [
        french.stem(w)
        for w in french._WORD.findall(text)
        if w not in french.CLASSIFY_STOPWORDS and len(w) > 1
    ]


def test_fold_fast_path_equals_the_definition_on_every_character() -> None:
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000]
    assert [c for c in chars if french.fold(c) != _reference_fold(c)] == []


def test_fold_fast_path_equals_the_definition_on_mixed_text() -> None:
    """Characters side by side: a combining mark after a letter, a final sigma, ligatures,
    « … » (three dots), everything Windows-1252 holds."""
    rng = random.Random(20261207)
    alphabet = [bytes([b]).decode("cp1252", "ignore") for b in range(256)]
    alphabet = [c for c in alphabet if c] + ["\u0301", "\u0327", "Σ", "ﬁ", "İ", "ẞ", "…", "œ"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        assert french.fold(text) == _reference_fold(text), repr(text)
    for sentence in S:
        assert french.fold(sentence) == _reference_fold(sentence)


def test_words_equal_the_definition() -> None:
    rng = random.Random(7)
    alphabet = ["l", "d", "qu", "s", "jusqu", "lorsqu", "'", "'", " ", "a", "e", "é", "œ", "_",
                "1", "ion", "les", "-", "donnees", "x", "--", "A", "?", "ω", "\t", "«"]  # fmt: skip
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 15)))
        assert french.words(text) == _reference_words(text), repr(text)
    for sentence in S:
        assert french.words(french.fold(sentence)) == _reference_words(french.fold(sentence))


def test_clean_head_is_the_head_of_clean_text() -> None:
    rng = random.Random(11)
    alphabet = ["a", "b", " ", "  ", "\n", "\t", "<", ">", "&", "amp;", "<b>", "&eacute;",
                "\u00a0", "xxxxx", "\x1e"]  # fmt: skip
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        for chars in (1, 5, 17, 40):
            assert french.clean_head(text, chars) == french.clean_text(text)[:chars], repr(text)
    article = "Le  portail\n\nopen data " * 500 + "<p>fin &amp; suite</p>"
    assert french.clean_head(article, 1000) == french.clean_text(article)[:1000]


def _reference_story_fold(text: str) -> str:
    return french._MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))


def test_story_fold_ascii_path_equals_the_definition() -> None:
    """Every character alone (« ß » folds to ASCII « ss »: the short path must agree), and
    words of ASCII and not side by side."""
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000]
    assert [c for c in chars if french.story_fold(c) != _reference_story_fold(c)] == []
    rng = random.Random(8)
    alphabet = ["Montbrial", "ß", "É", "e\u0301", "Σ", "ﬁ", "İ", " ", "-", "'", "Œ", "ω"]
    for _ in range(5_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        assert french.story_fold(text) == _reference_story_fold(text), repr(text)
