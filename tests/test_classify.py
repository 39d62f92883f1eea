"""The theme classifier: quality floors on the seed corpus, bad input, explanations."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from veille.classify import model as theme_model
from veille.classify.classifier import Classifier, ClassItem, default_model
from veille.classify.corpus import (
    label_split,
    load_heldout,
    load_pool,
    load_seed,
    parse_jsonl,
)
from veille.classify.evaluate import metrics
from veille.classify.features import document
from veille.cli import app
from veille.errors import ConfigError
from veille.sources import THEME_IDS

# Pinned floors: a regression below them fails CI (figures in docs/themes.md).
CV_MACRO_F1_FLOOR = 0.85
HELDOUT_MACRO_F1_FLOOR = 0.85
HELDOUT_RELEVANCE_PRECISION_FLOOR = 0.90
# The long-form held-out set (150–600 word articles, written by another hand).
HELDOUT_LONG_MACRO_F1_FLOOR = 0.90
HELDOUT_LONG_RELEVANCE_PRECISION_FLOOR = 0.95
# The press-like held-out set (a third hand; the theme often late): measured only, never
# used to choose. Format 4 (no passage evidence) scored 0.586 / recall 0.531 on it.
HELDOUT_PRESS_MACRO_F1_FLOOR = 0.72
HELDOUT_PRESS_RELEVANCE_RECALL_FLOOR = 0.65
HELDOUT_PRESS_RELEVANCE_PRECISION_FLOOR = 0.93
# The real-news-register held-out set (a new hand, round 27, sealed: measured once by the
# merger at 0.927 / on-topic precision 0.961, model alone; never used to choose).
HELDOUT_NEWS_MACRO_F1_FLOOR = 0.90
HELDOUT_NEWS_RELEVANCE_PRECISION_FLOOR = 0.95
# Less than one article of the long-form evaluation half (70 items; one article moves its
# macro-F1 by 0.01–0.02): the noise of a retraining with labels.
LABEL_NOISE = 0.01


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(default_model())


def test_seed_corpus_is_broad() -> None:
    train, heldout = load_seed(), load_seed(heldout=True)
    assert len(train) >= 800 and len(heldout) >= 100
    for theme in THEME_IDS:
        assert sum(theme in it.labels for it in train) >= 150, theme
    assert sum(not it.labels for it in train) >= 200
    assert sum(len(it.labels) > 1 for it in train) >= 30
    english = sum(it.lang == "en" for it in train) / len(train)
    assert 0.10 <= english <= 0.25
    titles = {it.title for it in train}
    assert not titles & {it.title for it in heldout}, "held-out items must not be in training"


def test_long_form_parts_are_packaged_and_apart() -> None:
    """Training reads the long-form articles (seed/long/) beside the short items; the
    long-form held-out set is another set of articles, never trained on."""
    train, held = load_seed(), load_heldout("long")
    long = [it for it in train if len(it.text.split()) >= 150]
    assert len(long) >= 100
    assert len(held) >= 60 and all(len(it.text.split()) >= 100 for it in held)
    for theme in THEME_IDS:
        assert sum(theme in it.labels for it in long) >= 20, theme
        assert sum(theme in it.labels for it in held) >= 10, theme
    titles = {it.title for it in train}
    assert not titles & {it.title for it in held}
    assert not titles & {it.title for it in load_heldout("short")}


def _figures(classifier: Classifier, items: list[theme_model.LabelledItem]) -> dict[str, Any]:
    predictions = classifier.predict([ClassItem(it.title, it.text, it.lang) for it in items])
    return metrics([it.labels for it in items], [frozenset(p.themes) for p in predictions])


def test_heldout_long_figures_pass_the_floor(classifier: Classifier) -> None:
    figures = _figures(classifier, load_heldout("long"))
    print(json.dumps(figures))
    assert figures["macro_f1"] >= HELDOUT_LONG_MACRO_F1_FLOOR, figures
    assert figures["relevance"]["precision"] >= HELDOUT_LONG_RELEVANCE_PRECISION_FLOOR, figures


def test_heldout_press_figures_pass_the_floor(classifier: Classifier) -> None:
    """Real news often carries its theme late: passage evidence must keep finding it."""
    items = load_heldout("press")
    assert len(items) >= 150
    figures = _figures(classifier, items)
    assert figures["macro_f1"] >= HELDOUT_PRESS_MACRO_F1_FLOOR, figures
    assert figures["relevance"]["recall"] >= HELDOUT_PRESS_RELEVANCE_RECALL_FLOOR, figures
    assert figures["relevance"]["precision"] >= HELDOUT_PRESS_RELEVANCE_PRECISION_FLOOR, figures


def test_heldout_news_figures_pass_the_floor(classifier: Classifier) -> None:
    """Articles written the way the members' news reads (data governance, concessions' data
    clauses, a theme inside another subject, near misses off-topic), by a hand that never
    saw the corpus: the issue's target (0.90, on-topic precision 0.95) must hold on them."""
    items = load_heldout("news")
    assert len(items) >= 190
    figures = _figures(classifier, items)
    assert figures["macro_f1"] >= HELDOUT_NEWS_MACRO_F1_FLOOR, figures
    assert figures["relevance"]["precision"] >= HELDOUT_NEWS_RELEVANCE_PRECISION_FLOOR, figures


def test_delegate_labels_do_not_make_it_worse(classifier: Classifier) -> None:
    """The learning curve's direction: the label half of the long-form held-out set, added
    as the delegate's labels, does not lower macro-F1 on the other half (never a label)
    by more than LABEL_NOISE. Since the labels weigh more in calibration
    (`model.CALIBRATION_K`), measured 0.958 → 0.955 here (one theme decision on one
    article), while the press-like curves gained up to 0.07 (docs/themes.md)."""
    pool, evaluation = label_split(load_heldout("long"))
    assert pool and evaluation
    before = _figures(classifier, evaluation)["macro_f1"]
    labels = [dataclasses.replace(it, origin="editor") for it in pool]
    taught = theme_model.train([*load_seed(), *labels], editor_labels=len(labels))
    after = _figures(Classifier(taught), evaluation)["macro_f1"]
    assert after >= before - LABEL_NOISE, (before, after)


def test_editor_labels_weigh_more_than_seed_items() -> None:
    """A sub-topic the corpus lacks, taught by two labels of the delegate: weighted as
    editor labels they move the model further than the same items counted as seed."""
    from tests.test_learning import THEME, TWINS, UNSEEN

    items = load_seed()[::4]
    labels = [
        theme_model.LabelledItem(title, text, frozenset({THEME}), "fr", origin="editor")
        for title, text in TWINS[:2]
    ]
    weighted = theme_model.train([*items, *labels], editor_labels=len(labels))
    plain = theme_model.train(  # the same items counted as seed items, calibration included
        [*items, *labels], editor_labels=len(labels), editor_weight=1.0, calibration_k=0
    )
    p_weighted = Classifier(weighted).predict([UNSEEN])[0].probabilities[THEME]
    p_plain = Classifier(plain).predict([UNSEEN])[0].probabilities[THEME]
    assert p_weighted > p_plain + 0.05, (p_weighted, p_plain)


def test_few_editor_labels_weigh_a_fixed_share_of_the_fit() -> None:
    """Together the delegate's labels weigh at least EDITOR_SHARE of the fit: a few labels
    each weigh more, many labels fall back to EDITOR_WEIGHT, one label alone is capped."""
    seed = [theme_model.LabelledItem(f"s{i}", "x", frozenset()) for i in range(1400)]

    def weight(labels: int) -> float:
        editors = [
            theme_model.LabelledItem(f"e{i}", "x", frozenset(), origin="editor")
            for i in range(labels)
        ]
        return theme_model.editor_weight_for([*seed, *editors])

    share = theme_model.EDITOR_SHARE
    assert weight(0) == theme_model.EDITOR_WEIGHT
    assert weight(100) * 100 / (weight(100) * 100 + 1400) == pytest.approx(share)
    assert weight(25) > weight(50) > weight(100) >= theme_model.EDITOR_WEIGHT
    assert weight(5000) == theme_model.EDITOR_WEIGHT  # the labels already weigh enough
    assert weight(1) == theme_model.EDITOR_WEIGHT_MAX


def test_press_parts_are_packaged_and_apart() -> None:
    """The press-like parts: a label pool for learning curves and a held-out set by another
    hand, neither in training, sharing no title."""
    train = {it.title.casefold() for it in load_seed()}
    pool, held = load_pool("press"), load_heldout("press")
    assert len(pool) >= 150 and len(held) >= 150
    assert not {it.title.casefold() for it in pool} & {it.title.casefold() for it in held}
    assert not {it.title.casefold() for it in pool + held} & train
    for theme in THEME_IDS:
        assert sum(theme in it.labels for it in pool) >= 15, theme
        assert sum(theme in it.labels for it in held) >= 15, theme


def test_a_story_is_judged_on_all_its_sources(classifier: Classifier) -> None:
    """A brief with nothing to go on takes the theme its story's full article shows; an
    article alone is judged alone."""
    brief = ClassItem("Conseil communautaire : les décisions de la séance", "Compte rendu.", "fr")
    full = ClassItem(
        "La métropole adopte sa stratégie de la donnée et nomme une administratrice des données",
        "La stratégie de la donnée votée en conseil organise la gouvernance des données de la "
        "métropole : une administratrice générale des données, des référents dans chaque "
        "direction, une charte éthique et des clauses de partage des données dans les "
        "contrats de délégation de service public, pour que l'eau, les transports et les "
        "déchets remettent leurs données à la collectivité.",
        "fr",
    )
    alone = classifier.predict([brief, full])
    together = classifier.predict([brief, full], stories=[7, 7])
    separate = classifier.predict([brief, full], stories=[None, 8])
    theme = "donnees_interet_general"
    assert theme not in alone[0].themes and theme in alone[1].themes
    assert theme in together[0].themes and theme in together[1].themes
    assert together[0].probabilities == together[1].probabilities
    assert [p.probabilities for p in separate] == [p.probabilities for p in alone]


def test_the_lead_and_the_body_are_read_apart() -> None:
    """The lead (title twice + first words, cut between words) and the body (the rest of
    the first MAX_TEXT_CHARS) are separate parts; joined, they are exactly what models
    trained before the split read, so their stored vectorisers keep predicting the same."""
    from veille.classify.features import LEAD_CHARS, MAX_TEXT_CHARS, part_of
    from veille.text.french import clean_text, fold

    title = "La métropole <b>ouvre</b> ses données"
    text = " ".join(f"mot{i} données&nbsp;ouvertes" for i in range(200))
    doc = document(title, text)
    lead, body = part_of(doc, "lead"), part_of(doc, "body")
    cleaned = clean_text(text)
    assert lead.startswith(fold("La métropole ouvre ses données. " * 2).strip())
    assert len(lead) <= len(fold(clean_text(title))) * 2 + 4 + LEAD_CHARS
    assert body.startswith(" ") and not lead.endswith(" ")  # the cut falls between words
    old = fold(f"{clean_text(title)}. {clean_text(title)}. {cleaned[:MAX_TEXT_CHARS]}")
    assert part_of(doc, "head") == old
    assert part_of("texte sans parties", "lead") == "texte sans parties"


def test_cross_validated_figures_pass_the_floor(classifier: Classifier) -> None:
    cv = classifier.model.cv_metrics
    assert cv["macro_f1"] >= CV_MACRO_F1_FLOOR, cv
    assert set(classifier.model.thresholds) == set(THEME_IDS)


def test_heldout_figures_pass_the_floor(classifier: Classifier) -> None:
    heldout = load_seed(heldout=True)
    predictions = classifier.predict([ClassItem(it.title, it.text, it.lang) for it in heldout])
    figures = metrics([it.labels for it in heldout], [frozenset(p.themes) for p in predictions])
    print(json.dumps(figures))
    assert figures["macro_f1"] >= HELDOUT_MACRO_F1_FLOOR, figures
    assert figures["relevance"]["precision"] >= HELDOUT_RELEVANCE_PRECISION_FLOOR, figures


def test_training_is_reproducible() -> None:
    items = load_seed()[::3]
    a, b = theme_model.train(items), theme_model.train(items)
    assert a.version == b.version and a.thresholds == b.thresholds
    docs = ["La région publie ses données de transport en open data"]
    assert (theme_model.probabilities(a, docs) == theme_model.probabilities(b, docs)).all()


def test_a_corpus_of_short_items_trains_without_a_body() -> None:
    """Short items have no body: its block is empty, and the model still reads long text."""
    model = theme_model.train(load_seed(long=False)[::4])
    body = dict(model.vectorizer.transformer_list)["body"]
    assert len(body.vocabulary_) == 0
    long_doc = document("Open data : la métropole publie ses jeux de données", "Le portail. " * 200)
    assert theme_model.probabilities(model, [long_doc]).shape == (1, len(THEME_IDS))


def test_bad_input_gives_sensible_results(classifier: Classifier) -> None:
    long_text = "Le conseil municipal a voté le budget. " * 20000
    items = [
        ClassItem("", ""),
        ClassItem("Open data : la métropole publie ses jeux de données sur data.gouv.fr", ""),
        ClassItem("Budget", long_text),
        ClassItem(
            "<b>Intelligence artificielle</b>",
            "<p>Le ministère d&eacute;ploie un <script>x</script>assistant d'IA générative "
            "pour ses agents.</p>",
        ),
        ClassItem(
            "Die Stadt veröffentlicht offene Daten",
            "Die Stadtverwaltung hat heute neue offene Datensätze über den Verkehr und die "
            "Luftqualität veröffentlicht, die von allen Bürgern genutzt werden können.",
        ),
    ]
    empty, title_only, long_one, html_one, german = classifier.predict(items)
    assert empty.themes == () and empty.note == "empty text"
    assert "open_data" in title_only.themes
    assert long_one.themes == ()
    assert "ia" in html_one.themes
    assert german.language == "de" and german.themes == ()
    assert german.note and "de" in german.note


def test_explain_names_the_terms_that_drove_each_theme(classifier: Classifier) -> None:
    terms = theme_model.explain(
        classifier.model,
        "Le département publie son registre des algorithmes publics",
        "La liste des traitements algorithmiques utilisés pour les aides sociales est en ligne.",
    )
    ia_terms = [t for t, _ in terms["ia"]]
    assert any(t.startswith("algorithm") for t in ia_terms), ia_terms
    assert all(weight > 0 for _, weight in terms["ia"])


def test_eval_command_prints_json_figures(tmp_path: Path) -> None:
    heldout = load_seed(heldout=True)
    path = tmp_path / "eval.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for it in heldout:
            handle.write(
                json.dumps(
                    {"title": it.title, "text": it.text, "labels": sorted(it.labels), "extra": 1}
                )
                + "\n"
            )
    result = CliRunner().invoke(
        app, ["classify", "eval", str(path), "--json", "--config", str(tmp_path / "none.yaml")]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures) == {"macro_f1", "themes", "relevance"}
    assert set(figures["themes"]) == set(THEME_IDS)
    for m in figures["themes"].values():
        assert set(m) == {"precision", "recall", "f1", "support"}
    assert set(figures["relevance"]) == {"precision", "recall", "f1"}
    assert figures["macro_f1"] >= HELDOUT_MACRO_F1_FLOOR

    table = CliRunner().invoke(app, ["classify", "eval", str(path)])
    assert "macro-F1" in table.stdout


def test_eval_file_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 2: invalid JSON"):
        parse_jsonl(['{"title": "a", "labels": []}', "{oops"], name="f.jsonl")
    with pytest.raises(ConfigError, match="line 1: unknown theme id"):
        parse_jsonl(['{"title": "a", "labels": ["sport"]}'], name="f.jsonl")
    missing = CliRunner().invoke(app, ["classify", "eval", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1 and "file not found" in missing.output


def test_models_of_earlier_formats_load_and_predict_the_same(classifier: Classifier) -> None:
    """A delegate's stored model (format 2: a FeatureUnion and one LogisticRegression per
    theme) keeps working after the upgrade to array weights."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    new = classifier.model
    old = theme_model.ThemeModel.__new__(theme_model.ThemeModel)
    old.__dict__.update(vars(new))
    del old.__dict__["weights"], old.__dict__["intercepts"]
    old.__dict__["vectorizer"] = FeatureUnion(list(new.vectorizer.transformer_list))
    classifiers = {}
    for j, theme in enumerate(new.themes):
        lr = LogisticRegression()
        lr.classes_ = np.array([0, 1])
        lr.coef_ = new.weights[:, j][None, :].copy()
        lr.intercept_ = np.array([new.intercepts[j]])
        classifiers[theme] = lr
    old.__dict__["classifiers"] = classifiers
    old.__dict__["format"] = 2
    loaded = theme_model.loads(theme_model.dumps(old))
    assert loaded.format == theme_model.FORMAT
    docs = ["Open data : la métropole ouvre ses données de transport", "Recette de crêpes"]
    assert (theme_model.probabilities(loaded, docs) == theme_model.probabilities(new, docs)).all()
    x = old.vectorizer.transform(docs)
    for j, theme in enumerate(new.themes):
        a, b = new.platt[theme]
        expected = theme_model._sigmoid(a * classifiers[theme].decision_function(x) + b)
        assert np.array_equal(theme_model.probabilities(loaded, docs)[:, j], expected)


def test_applying_a_model_does_not_import_scikit_learn(classifier: Classifier) -> None:
    """What a collection cycle does with a stored model needs numpy and scipy only."""
    blob = theme_model.dumps(classifier.model)
    code = (
        "import sys; from veille.classify import model as m;"
        "model = m.loads(sys.stdin.buffer.read());"
        "m.probabilities(model, ['Les données ouvertes de la ville']);"
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], input=blob, capture_output=True, check=True)
    assert out.stdout.decode().strip() == "False"


def test_batched_predictions_equal_one_call(classifier: Classifier) -> None:
    """The character vectoriser remembers words between calls (the collector classifies a
    few dozen articles at a time): small batches must give what one call gives."""
    import pickle

    import numpy as np

    items = load_seed(heldout=True)
    docs = [document(it.title, it.text) for it in items]
    fresh = pickle.loads(pickle.dumps(classifier.model))  # no remembered words
    whole = theme_model.probabilities(fresh, docs)
    parts = np.vstack([theme_model.probabilities(fresh, docs[i : i + 7]) for i in range(0, 90, 7)])
    assert np.allclose(parts, whole[: len(parts)], rtol=0, atol=1e-12)
    chars = fresh.vectorizer.transformer_list[1][1]
    assert "_word_columns" in vars(chars)
    assert "_word_columns" not in vars(pickle.loads(pickle.dumps(chars)))  # never stored
