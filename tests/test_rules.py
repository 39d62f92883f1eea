"""feeds.yaml keywords as transparent evidence."""

from __future__ import annotations

from veille.classify.rules import apply_rules, hits

KEYWORDS = {"open_data": ("données ouvertes", "open data", "data.gouv.fr"), "ia": ("IA",)}


def test_hits_are_accent_and_plural_insensitive_on_word_boundaries() -> None:
    found = hits(KEYWORDS["open_data"], "La métropole publie ses Donnees Ouvertes", "")
    assert found.title == ("donnees ouvertes",)
    assert hits(KEYWORDS["ia"], "Les IAs génératives", "").title == ("ia",)
    assert hits(KEYWORDS["ia"], "Une mairie en Asie", "").title == ()  # no match inside words
    assert hits(("data.gouv.fr",), "", "Sur data.gouv.fr et ailleurs").text == ("data.gouv.fr",)


def test_rules_add_evidence_but_do_not_decide_alone() -> None:
    probs = {"open_data": 0.30, "ia": 0.10}
    out, fired = apply_rules(probs, KEYWORDS, "Open data : la commune se lance", "")
    assert out["open_data"] > probs["open_data"]
    assert out["open_data"] < 0.6  # evidence, not a verdict
    assert out["ia"] == probs["ia"]
    assert set(fired) == {"open_data"}
    # Two distinct keywords in the text count; a single mention in passing does not.
    once, _ = apply_rules(probs, KEYWORDS, "Budget", "Un mot sur l'open data.")
    twice, _ = apply_rules(probs, KEYWORDS, "Budget", "L'open data et data.gouv.fr.")
    assert once["open_data"] == probs["open_data"] < twice["open_data"]


def test_factored_pattern_finds_what_the_plain_alternation_finds() -> None:
    """The keywords are matched by one prefix-factored pattern (`_trie_pattern`); it must
    find exactly what the alternation of the keywords, longest first, finds — overlapping
    keywords, a longer one that fails its word boundary, plurals — on feeds.yaml's keywords."""
    import random
    import re
    from pathlib import Path

    from veille.classify import rules
    from veille.sources import load_feeds_config
    from veille.text.french import fold

    config = load_feeds_config(Path(__file__).resolve().parents[1] / "feeds.yaml")
    feeds = {t.id: tuple(t.keywords) for t in config.themes}
    # feeds.yaml's keywords all end on a letter (the separator pattern); one ending on a
    # dot takes the look-behind pattern.
    for keywords in (feeds, {**feeds, "ia": (*feeds["ia"], "m.", "i.a.")}):
        matcher = rules._matcher(tuple(keywords.items()))
        assert matcher.pattern is not None
        assert matcher.separated == (keywords is feeds)
        plain = "|".join(re.escape(k) for k in sorted(matcher.themes_of, key=len, reverse=True))
        reference = re.compile(r"(?<![a-z0-9])(" + plain + r")s?(?![a-z0-9])")
        rng = random.Random(3)
        pieces = [*matcher.themes_of, " ", "s", "x", "'", ".", "-", "de ", "es", "ia"]
        for _ in range(5_000):
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
            found = matcher.pattern.findall((" " if matcher.separated else "") + text)
            assert found == reference.findall(text), text
    assert rules._found(rules._matcher(tuple(feeds.items())), fold("L'IA et l'open data")) == {
        "ia": {"ia"},
        "open_data": {"open data"},
    }
