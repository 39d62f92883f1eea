"""Story keys and the decision across English and French, and the figures, names and
headlines that one event's coverage writes alike (docs/dedup.md, « Across
languages »): an English release read in French terms, amounts as values, laws named one way in
both languages, a headline's label, a body spelled out with its acronym, sites named in
the text, and two shared figures holding the floor over the coverage window."""

from __future__ import annotations

import math
from collections import Counter

from veille.collect.stories import (
    COPY_SIMILARITY,
    COVERAGE_HOURS,
    STORY_SIMILARITY,
    TIED_HOURS,
    TIED_SIMILARITY,
    UNNAMED_SIMILARITY,
    required_similarity,
    same_story,
    story_vector,
)
from veille.collect.storykeys import story_keys
from veille.text.english import in_french, is_english, law_names
from veille.text.figures import read_figures
from veille.text.french import stem, story_words


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(n * b[w] for w, n in a.items())
    return dot / math.sqrt(sum(n * n for n in a.values()) * sum(n * n for n in b.values()))


RELEASE = (
    "Commission launches a call for proposals on open data for local authorities",
    "The European Commission has launched a call for proposals to help local authorities "
    "publish high-value datasets as open data. Member States' public sector bodies can "
    "apply until the deadline; the guidelines explain the rules.",
)
COVERAGE = (
    "Données ouvertes : Bruxelles lance un appel à projets pour les collectivités",
    "La Commission européenne a lancé un appel à projets pour aider les collectivités à "
    "publier leurs jeux de données de forte valeur en données ouvertes. Les organismes "
    "publics des États membres peuvent candidater ; des lignes directrices en précisent "
    "les règles.",
)


def test_an_english_release_is_read_in_french_terms() -> None:
    """Before, only cognates met (« commission », « europe »): the release and its French
    coverage now share the field's words; English function words are no words."""
    assert is_english(" ".join(RELEASE)) and not is_english(" ".join(COVERAGE))
    french = in_french("The public sector bodies publish datasets as open data")
    assert french.split() == [
        "organismes", "publics", "publie", "jeux", "de", "données", "données", "ouvertes",
    ]  # fmt: skip
    assert "the" not in in_french("The Commission of the Union").split()
    translated = _cosine(story_vector(*RELEASE), story_vector(*COVERAGE))
    word_for_word = _cosine(
        Counter(" ".join(RELEASE).lower().split()), Counter(" ".join(COVERAGE).lower().split())
    )
    assert translated > 0.5 > word_for_word
    # A French text is read as it is.
    title, text = COVERAGE
    assert story_vector(title, text) == Counter(stem(w) for w in story_words(f"{title}\n{text}"))


def test_an_english_headline_s_terms_are_no_names() -> None:
    """English headlines capitalise every word: « Data Union Strategy » names no body that
    would veto the French coverage; « Bruxelles » is the EU's institutions."""
    release = story_keys("Commission Unveils Data Union Strategy", "The Commission adopted it.")
    coverage = story_keys("Union des données", "Bruxelles a présenté sa stratégie.")
    assert release.english and not release.subjects
    assert not coverage.subjects


def test_across_languages_the_nameless_floor_applies_unless_a_figure_ties() -> None:
    """The field's vocabulary meets across a topic once translated: a name or a kind of act
    in common lowers nothing across languages (two sets of guidelines on one law the same
    day meet at 0.35); a figure of both openings lowers the floor to the named one."""
    assert required_similarity(10, named=True, same_act=True, languages=True) == (
        UNNAMED_SIMILARITY
    )
    assert required_similarity(60, tied=True, languages=True) == STORY_SIMILARITY
    assert required_similarity(60, tied=True, named=True) == TIED_SIMILARITY
    english = story_keys(
        "Commission publishes guidelines under the AI Act",
        "The Commission has published guidelines on Article 50 of the AI Act.",
    )
    french = story_keys(
        "AI Act : les lignes directrices de la Commission",
        "La Commission européenne a publié ses lignes directrices sur l'article 50.",
    )
    other = story_keys(
        "AI Act : des lignes directrices sur la définition",
        "La Commission européenne a publié ses lignes directrices sur la définition.",
    )
    assert english.figures & french.figures == {"50"}
    assert same_story(0.35, 6, english, french)
    assert not same_story(0.35, 6, english, other)  # named and one act, yet no figure


def test_two_shared_figures_hold_the_floor_over_the_coverage_window() -> None:
    """« 320 solutions de 19 États membres » retold by the trade weekly five days later: two
    figures of both openings are one event's, so the floor holds until `COVERAGE_HOURS`,
    then only a near copy joins."""
    hours = COVERAGE_HOURS - 4
    assert required_similarity(hours, twice_tied=True, tied=True) == TIED_SIMILARITY
    assert required_similarity(hours, tied=True) > 0.5
    assert required_similarity(COVERAGE_HOURS, twice_tied=True, tied=True) == COPY_SIMILARITY
    assert required_similarity(TIED_HOURS + 1, named=False, twice_tied=True) == (UNNAMED_SIMILARITY)
    page = story_keys("Le catalogue européen ouvre", "Valmont publie 320 solutions de 19 pays.")
    weekly = story_keys("Valmont : 320 solutions", "Le catalogue compte 320 solutions, 19 pays.")
    once = story_keys("Valmont : 320 solutions", "Le catalogue compte 320 solutions.")
    assert same_story(0.25, hours, page, weekly)
    assert not same_story(0.25, hours, page, once)


def test_amounts_are_read_as_values() -> None:
    """« 1,2 million d'euros » = « 1 200 000 € » = « €1.2m »; dates, years and times are no
    amounts; « 12 m » without a currency is no million."""

    def values(text: str, english: bool = False) -> set[str]:
        return {value for value, _, _ in read_figures(text, english)[1]}

    assert values("un budget de 1,2 million d'euros") == {"1200000"}
    assert values("un budget de 1 200 000 €") == {"1200000"}
    assert values("a budget of €1.2m", english=True) == {"1200000"}
    assert values("40,000 users", english=True) == values("40 000 usagers") == {"40000"}
    assert values("68,4 millions") == values("68.4 million", english=True) == {"68400000"}
    assert values("1,5 milliard") == values("€1.5bn", english=True) == {"1500000000"}
    assert values("un mât de 12 m") == {"12"}
    assert values("un taux de 1,5 %") == {"1.5"}
    years, numbers = read_figures("en 2026, le 15 juin", False)
    assert years == {"2026"} and numbers == []


def test_a_law_is_one_name_in_both_languages() -> None:
    """« AI Act » and « le règlement européen sur l'intelligence artificielle » name one law;
    « AI Act » and « Data Act » are not both « Act »."""
    assert law_names("l'AI Act") == law_names("l'AiAct") == "l'AiAct"
    assert "AiAct" in law_names("le règlement européen sur l'intelligence artificielle")
    assert "AiAct" in law_names("le règlement sur l'IA")
    assert "DataAct" in law_names("le règlement européen sur les données")
    # the French press's « IA Act » (round 25): no « Act » of its own vetoing the original
    assert law_names("IA Act : Bruxelles précise") == "AiAct : Bruxelles précise"
    press = story_keys("AI Act : la Commission précise", "Les lignes directrices sont parues.")
    trade = story_keys(
        "IA : les collectivités concernées",
        "Les communes devront informer les usagers, selon le règlement sur l'IA.",
    )
    data = story_keys("Data Act : la Commission précise", "Les lignes directrices sont parues.")
    assert press.lead_names == {"aiact"} and "aiact" in trade.mentioned
    assert not press.lead_names & data.mentioned


def test_headline_labels_acronyms_and_sites_named() -> None:
    """« EN DIRECT - Cyberattaque… »: the label goes, and « Cyberattaque » is a sentence's
    first word again. « l'Institut national … (IGN) » is IGN. « data.gouv.fr » ties two
    articles but tells no events apart."""
    live = story_keys(
        "EN DIRECT - Cyberattaque au département de la Haute-Dorve",
        "Le département confirme une attaque par rançongiciel.",
    )
    assert "cyberattaqu" not in live.lead_names and {"haut", "dorv"} <= live.subjects
    ign = story_keys(
        "Un jumeau numérique du littoral",
        "L'Institut national de l'information géographique et forestière (IGN) et le "
        "Département de l'Ormeline ont signé une convention.",
    )
    assert "ign" in ign.subjects and "institut" not in ign.subjects
    page = story_keys("Nouveau sur data.gouv.fr", "Nous ouvrons un catalogue des API.")
    press = story_keys("Un annuaire des API", "Un catalogue est ouvert par data.gouv.fr.")
    assert "data.gouv.fr" in page.lead_names and "data.gouv.fr" in press.mentioned
    assert not page.subjects and not press.subjects


def test_a_laws_part_and_the_ai_office_name_no_other_body() -> None:
    """Round 25: « Article 27 », « Chapter V », « Annex III » (an English text capitalises
    them) are parts of a law, no body; « AI Office » and « le Bureau européen de l'IA » are
    one body in both languages."""
    original = story_keys(
        "AI Office publishes template for fundamental rights impact assessments",
        "The European AI Office today published a template required by Article 27 of the "
        "AI Act, under Chapter V and Annex III.",
        "digital-strategy.ec.europa.eu",
    )
    assert original.subjects == {"aioffic", "aiact"}
    brief = story_keys(
        "IA à haut risque : le modèle d'analyse d'impact est disponible",
        "Le Bureau européen de l'IA a mis en ligne le modèle (article 27 de l'AI Act).",
        "numericite.example",
    )
    assert "aioffic" in brief.subjects
    assert original.figures & brief.figures == {"27"}  # the tie across languages
    assert same_story(0.36, 4.5, original, brief)
    # a numeral after any other word still names (« Lyon 3 » is no law's part)
    assert "lyon" in story_keys("L'université Lyon 3 ouvre ses données", "Un portail.").mentioned
