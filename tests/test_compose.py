"""Composing an edition: the pure rules (kept items win; else the best by score with
per-theme, per-story and per-source limits) and the weekly draft built from the store."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, populate
from veille.config import Settings
from veille.db import editions as edition_db
from veille.db.engine import make_engine, session_factory, upgrade
from veille.db.records import Candidate
from veille.db.tables import ArticleRow
from veille.newsletter.compose import Limits, compose
from veille.newsletter.editions import EditionError, create_draft, set_status
from veille.newsletter.summary import extractive_summary

ORDER = ("open_data", "ia", "donnees_interet_general")


def cand(i: int, themes: tuple[str, ...], score: float, **kw: object) -> Candidate:
    base: dict[str, object] = {
        "article_id": i,
        "title": f"Article {i}",
        "url": f"https://exemple.fr/{i}",
        "source_key": f"s{i}",
        "source_name": f"Source {i}",
        "story_id": None,
        "themes": themes,
        "score": score,
    }
    base.update(kw)
    return Candidate(**base)  # type: ignore[arg-type]


def test_automatic_plan_respects_every_limit() -> None:
    pool = [cand(i, ("open_data",), 100 - i) for i in range(8)]
    pool += [cand(20, ("ia", "open_data"), 99.5, source_key="s0")]  # third from source s0
    pool += [cand(21, ("ia",), 98, story_id=7), cand(22, ("ia",), 97, story_id=7)]
    pool += [cand(30, (), 200)]  # off-topic, however good
    pool += [cand(31, ("ia",), 300, discarded=True)]
    pool += [cand(32, ("open_data",), 150, source_key="s0")]
    items = compose(pool, ORDER, Limits(per_theme=5, per_source=2, per_story=1))
    by_theme: dict[str, list[int]] = {}
    for item in items:
        by_theme.setdefault(item.theme, []).append(item.candidate.article_id)
    assert by_theme["open_data"] == [32, 0, 1, 2, 3]  # best first, five at most
    # 20 would be a third article from s0 (32 and 0 came first); 22 is story 7 again.
    assert by_theme["ia"] == [21]
    sources = [i.candidate.source_key for i in items]
    assert max(sources.count(s) for s in set(sources)) <= 2
    assert 30 not in {i.candidate.article_id for i in items}  # off-topic never
    assert 31 not in {i.candidate.article_id for i in items}  # discarded never
    assert [i.position for i in items if i.theme == "open_data"] == [0, 1, 2, 3, 4]


def test_kept_items_are_the_edition_whatever_the_limits() -> None:
    pool = [cand(i, ("open_data",), 10 + i, kept=True, source_key="same") for i in range(7)]
    pool += [cand(50, ("ia",), 999)]  # best score but not kept
    pool += [cand(51, ("ia",), 1, kept=True, starred=True), cand(52, ("ia",), 80, kept=True)]
    items = compose(pool, ORDER, Limits(per_theme=5, per_source=2))
    ids = [i.candidate.article_id for i in items]
    assert 50 not in ids and len([i for i in items if i.theme == "open_data"]) == 7
    assert [i.candidate.article_id for i in items if i.theme == "ia"] == [51, 52]  # starred first


def test_extractive_summary_is_two_or_three_real_sentences() -> None:
    text = (
        "Le département du Gard publie ses subventions en open data. "
        "Chaque ligne donne le bénéficiaire, le montant et l’objet de l’aide. "
        "La publication suit le décret sur les données essentielles. "
        "Par ailleurs, la météo sera clémente ce week-end. "
        "Les associations pourront vérifier leurs montants sur le portail départemental."
    )
    summary = extractive_summary("Le Gard ouvre ses données de subventions", text)
    sentences = [s for s in summary.split(". ") if s]
    assert 2 <= len(sentences) <= 3
    assert summary.startswith("Le département du Gard publie ses subventions")
    assert "météo" not in summary
    assert extractive_summary("Titre", "Court.") == "Court."


def sessions_for(settings: Settings) -> sessionmaker[Session]:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return session_factory(engine)


def test_weekly_draft_from_the_store_and_status_moves(settings: Settings) -> None:
    sessions = sessions_for(settings)
    stored = populate(sessions)
    with sessions.begin() as session:
        draft = create_draft(session, now=NOW, actor="scheduler")
        items = edition_db.items_of(session, draft.id)
        assert draft.number == 1 and draft.status == "draft"
        assert draft.period_end == NOW and draft.period_start == NOW - timedelta(days=7)
        assert "semaine du" in draft.title
        assert items and all(item.summary for item in items)
        sources = [item.source_name for item in items]
        assert max(sources.count(s) for s in set(sources)) <= 2
        per_theme = {t: sum(1 for i in items if i.theme == t) for t in ORDER}
        assert max(per_theme.values()) <= 5
        with_story = [i.article_id for i in items]
        assert len(with_story) == len(set(with_story))

        set_status(session, draft, "approved", actor="delegue@exemple.fr", now=NOW)
        try:
            set_status(session, draft, "sent", actor="x", now=NOW)
        except EditionError as exc:
            assert "ne peut pas passer à « envoyée »" in str(exc)
        else:
            raise AssertionError("approved → sent must be refused")
        log = [a.action for a in edition_db.audit_of(session, "edition", 1)]
        assert log == ["edition.draft", "edition.approved"]

    # The delegate keeps two articles: the next draft is exactly those.
    kept = [stored.ids[key] for key in list(stored.ids)[:2]]
    with sessions.begin() as session:
        session.execute(update(ArticleRow).where(ArticleRow.id.in_(kept)).values(curation="kept"))
        session.execute(
            update(ArticleRow)
            .where(ArticleRow.id.in_(kept))
            .values(published_at=NOW + timedelta(hours=1))
        )
        second = create_draft(session, now=NOW + timedelta(days=1), actor="delegue@exemple.fr")
        assert second.number == 2 and second.period_start == NOW
        ids = sorted(i.article_id or 0 for i in edition_db.items_of(session, second.id))
    assert ids and set(ids) <= set(kept)  # only what was kept (an off-topic one drops)


def test_summary_never_repeats_a_sentence() -> None:
    text = ("Le portail ouvre ses données budgétaires détaillées. " * 4) + (
        "Les communes pourront comparer leurs dépenses de fonctionnement. "
        "Un guide de réutilisation accompagne la publication."
    )
    summary = extractive_summary("Portail budgétaire", text)
    assert summary.count("Le portail ouvre ses données budgétaires détaillées.") == 1
    assert len([s for s in summary.split(". ") if s]) >= 2


def test_summary_drops_the_headline_the_text_starts_with() -> None:
    title = "Valmont ouvre son portail de données"
    text = (
        f"{title} Budgets et horaires des bus : la métropole publie cent jeux d’un coup. "
        "Le portail sera mis à jour chaque mois par le service numérique. "
        "Les habitants peuvent proposer de nouveaux jeux en ligne."
    )
    summary = extractive_summary(title, text)
    assert summary.startswith("Budgets et horaires des bus")
    assert title not in summary
