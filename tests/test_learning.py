"""Learning from the delegate: editor labels override the model at once and, after
retraining, change predictions on articles of the same new sub-topic."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from veille.classify.classifier import Classifier, ClassItem, default_model
from veille.classify.service import classify_articles, load_classifier, needs_retraining
from veille.config import Settings
from veille.db import themes as theme_db
from veille.db.tables import ArticleRow, ArticleThemeRow, SourceRow
from veille.scheduler import retrain_if_needed

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)

# A sub-topic the seed corpus does not cover: solar cadastres (the press-style training
# articles of round 17 brought territorial digital twins in, the sub-topic used before).
TWINS = [
    (
        "La métropole publie le cadastre solaire de ses toitures",
        "Le potentiel solaire de chaque toiture, calculé à partir des relevés aériens, est "
        "consultable adresse par adresse.",
    ),
    (
        "Cadastre solaire : l'agglomération cartographie le gisement de ses bâtiments",
        "Ensoleillement, orientation et ombres portées sont calculés pour chaque pan de toit "
        "à partir d'un relevé laser.",
    ),
    (
        "Un cadastre solaire pour guider les projets photovoltaïques des habitants",
        "La carte indique pour chaque maison la production annuelle estimée et le coût "
        "d'une installation.",
    ),
    (
        "Le département mutualise un cadastre solaire avec les communes",
        "Les communes rurales accèdent à la carte départementale du potentiel solaire pour "
        "équiper leurs écoles et leurs salles des fêtes.",
    ),
    (
        "Cadastre solaire : les partenaires signent une convention de mise à jour",
        "Syndicat d'énergie, bailleurs et collectivité s'engagent à recalculer la carte du "
        "potentiel solaire chaque année.",
    ),
    (
        "Cadastre solaire portuaire : les hangars des quais évalués",
        "Le grand port maritime et les collectivités partagent une carte du potentiel solaire "
        "des toitures des entrepôts.",
    ),
]
UNSEEN = ClassItem(
    "La communauté de communes se dote d'un cadastre solaire",
    "Une carte du potentiel solaire de chaque toiture, calculée à partir des relevés "
    "aériens, servira aux habitants.",
)
THEME = "donnees_interet_general"


def _articles(session: Session) -> list[int]:
    source = SourceRow(key="presse", name="Presse", url="https://presse.example/rss", tags=[])
    session.add(source)
    session.flush()
    ids = []
    for i, (title, text) in enumerate(TWINS):
        row = ArticleRow(
            url=f"https://presse.example/cadastre-solaire-{i}",
            url_key=f"presse.example/cadastre-solaire-{i}",
            original_url=f"https://presse.example/cadastre-solaire-{i}",
            source_id=source.id,
            title=title,
            text=text,
            fetched_at=NOW,
            score_components={},
        )
        session.add(row)
        session.flush()
        ids.append(row.id)
    return ids


def test_editor_labels_override_then_teach_the_model(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    before = Classifier(default_model()).predict([UNSEEN])[0]
    assert THEME not in before.themes

    with sessions() as session, session.begin():
        ids = _articles(session)
        classifier = load_classifier(session, None)
        classify_articles(session, classifier, ids)
        for article_id in ids:
            theme_db.set_editor_label(session, article_id, THEME, True, author="delegue")
        # The delegate also removes a theme the model gave, on the first article.
        theme_db.set_editor_label(session, ids[0], "open_data", False, author="delegue")
    with sessions() as session:
        themes = {
            (a, t, o)
            for a, t, o in session.execute(
                select(ArticleThemeRow.article_id, ArticleThemeRow.theme, ArticleThemeRow.origin)
            )
        }
        assert all((i, THEME, "editor") in themes for i in ids)
        assert not any(a == ids[0] and t == "open_data" for a, t, _ in themes)
        assert needs_retraining(session)

    # The scheduler's nightly job: retrain, then reclassify the archive with the new model.
    retrain_if_needed(settings)
    with sessions() as session:
        model = load_classifier(session, None).model
    assert model.editor_labels == len(TWINS)
    after = Classifier(model).predict([UNSEEN])[0]
    assert after.probabilities[THEME] > before.probabilities[THEME] + 0.2
    assert THEME in after.themes
    with sessions() as session:
        assert not needs_retraining(session)
        kept = set(
            session.scalars(
                select(ArticleThemeRow.theme).where(ArticleThemeRow.article_id == ids[0])
            )
        )
        assert THEME in kept and "open_data" not in kept
        # Reclassifying kept the delegate's decisions over the new model's.
        assert session.get(ArticleRow, ids[0]).score is not None  # type: ignore[union-attr]
