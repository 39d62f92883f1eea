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
