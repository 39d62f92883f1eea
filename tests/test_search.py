"""Archive search on a real database (SQLite here, PostgreSQL when CI reruns the `postgres` tests):
French full text, filters, facets, pagination and streaming, through the pipeline's own
insert and theme functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from veille.archive import fulltext_query, page_query, search_counts, search_plan, source_table
from veille.archive.query import NO_THEME, ArchiveQuery, parse_query
from veille.archive.search import facets, iter_matching, search, search_page
from veille.db import articles as article_db
from veille.db import fulltext
from veille.db.engine import _alembic_config, make_engine, session_factory, upgrade
from veille.db.tables import ArticleRow, ArticleThemeRow, SourceRow
from veille.db.themes import replace_themes
from veille.sources import THEME_IDS

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

# slug: (source, themes, days before T0 or None for "no publication date", score, title, text)
CORPUS: dict[str, tuple[str, tuple[str, ...], int | None, float | None, str, str]] = {
    "portail": (
        "etalab",
        ("open_data",),
        1,
        0.9,
        "Un portail pour les données ouvertes",
        "La métropole publie ses données ouvertes sur un nouveau portail.",
    ),
    "donnee": (
        "etalab",
        ("open_data", "donnees_interet_general"),
        3,
        0.7,
        "Une donnée d'intérêt général",
        "Le décret définit la donnée d'intérêt général pour les délégataires.",
    ),
    "cyber": (
        "cnil",
        ("open_data",),
        5,
        0.4,
        "Données ouvertes et cybersécurité",
        "Publier des données ouvertes sans négliger la cybersécurité des systèmes.",
    ),
    "algo": (
        "cnil",
        ("ia",),
        8,
        None,
        "Algorithmes publics : la transparence",
        "Les algorithmes publics doivent être expliqués aux usagers.",
    ),
    "ia": (
        "datagouv",
        ("ia", "open_data"),
        40,
        0.8,
        "L'intelligence artificielle en mairie",
        "Une commune teste un agent conversationnel entraîné sur ses délibérations.",
    ),
    "hors": (
        "datagouv",
        (),
        None,
        0.1,
        "Fête de la musique",
        "Le programme des concerts de juin dans les quartiers.",
    ),
}


def _seed(session: Session) -> dict[str, int]:
    sources: dict[str, int] = {}
    for key in ("etalab", "cnil", "datagouv"):
        row = SourceRow(key=key, name=key.upper(), url=f"https://{key}.example/")
        session.add(row)
        session.flush()
        sources[key] = row.id
    ids: dict[str, int] = {}
    for slug, (source, themes, days, score, title, body) in CORPUS.items():
        fetched = T0 - timedelta(days=days if days is not None else 2, hours=1)
        record = article_db.ArticleRecord(
            url=f"https://{source}.example/{slug}",
            url_key=f"{source}.example/{slug}",
            original_url=f"https://{source}.example/{slug}",
            source_id=sources[source],
            guid=None,
            title=title,
            summary=body[:40],
            text=body,
            html=f"<p>{body}</p>",
            author=None,
            language="fr",
            image=None,
            published_at=None if days is None else T0 - timedelta(days=days),
            fetched_at=fetched,
            partial=False,
            extract_note=None,
            content_hash=slug,
            fingerprint=None,
        )
        ids[slug] = article_db.insert_article(session, record, None)[0]
        replace_themes(session, ids[slug], {t: (0.9, "model") for t in themes})
        session.execute(update(ArticleRow).where(ArticleRow.id == ids[slug]).values(score=score))
    return ids


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> tuple[sessionmaker[Session], dict[str, int]]:
    with sessions() as session, session.begin():
        ids = _seed(session)
    return sessions, ids


def _slugs(ids: dict[str, int], found: list[int]) -> list[str]:
    back = {v: k for k, v in ids.items()}
    return [back[i] for i in found]


# These tests are about the search engine over every article: without a theme filter of
# their own they ask for all themes and the off-topic ones (`theme=none`) explicitly, and
# for every article rather than one per story.
EVERY_THEME = (*THEME_IDS, NO_THEME)


def _q(**kw: object) -> ArchiveQuery:
    kw.setdefault("themes", EVERY_THEME)
    kw.setdefault("group", False)
    return ArchiveQuery(**kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("donnée", {"portail", "donnee", "cyber"}),  # singular finds plural
        ("donnees", {"portail", "donnee", "cyber"}),  # no accent finds accents
        ("DONNÉES", {"portail", "donnee", "cyber"}),
        ("algorithme", {"algo"}),
        ("intérêt général", {"donnee"}),
        ('"données ouvertes"', {"portail", "cyber"}),  # phrase
        ('"ouvertes données"', set()),  # word order matters in a phrase
        ('"données ouvertes" -cybersécurité', {"portail"}),  # exclusion
        ("données -cybersecurite", {"portail", "donnee"}),
        ("-cybersécurité", {"portail", "donnee", "algo", "ia", "hors"}),  # only exclusion
        ("mairie", {"ia"}),  # title only
        ("délibération", {"ia"}),  # text only, singular
        ("concert", {"hors"}),
        ("tramway", set()),
    ],
)
def test_french_full_text(
    seeded: tuple[sessionmaker[Session], dict[str, int]], q: str, expected: set[str]
) -> None:
    sessions, ids = seeded
    with sessions() as session:
        result = search(session, _q(q=q, per_page=50))
    assert set(_slugs(ids, [h.id for h in result.items])) == expected
    assert result.total == len(expected)


@pytest.mark.parametrize(
    "q",
    [
        "NEAR(",
        "*",
        '"',
        'données "ouvertes',
        "OR OR",
        "AND",
        "NOT données",
        "a:b",
        "'; DROP TABLE articles; --",
        "données) OR (1=1",
        "^donnée",
        "col:données",
        "\x00\x01",
        "é" * 200,
        "".join(chr(33 + i % 90) for i in range(200)),
        "-",
        "--x",
        '""',
        "<->",
        "!!",
        "&|",
        "le la les",
    ],
)
def test_hostile_text_never_raises(
    seeded: tuple[sessionmaker[Session], dict[str, int]], q: str
) -> None:
    sessions, _ = seeded
    with sessions() as session:
        result = search(session, _q(q=q))
        assert result.total == len(result.items) <= 6
        assert list(iter_matching(session, _q(q=q))) == result.items
        assert session.scalar(select(ArticleRow.id).limit(1)) is not None  # table still there


def test_only_stop_words_gives_an_empty_result(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    sessions, _ = seeded
    with sessions() as session:
        result = search(session, _q(q="le la OR"))
    assert result.total == 0 and result.items == [] and result.facets.sources == []


def test_filters_themes_or_sources_or_and_period(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    sessions, ids = seeded
    with sessions() as session:

        def found(**kw: object) -> list[str]:
            return _slugs(ids, [h.id for h in search(session, _q(per_page=50, **kw)).items])

        assert set(found(themes=("ia",))) == {"algo", "ia"}
        # several themes: OR
        assert set(found(themes=("ia", "donnees_interet_general"))) == {"algo", "ia", "donnee"}
        # several sources: OR; with a theme: AND between filters
        assert set(found(sources=("cnil", "datagouv"))) == {"cyber", "algo", "ia", "hors"}
        assert set(found(sources=("cnil", "datagouv"), themes=("open_data",))) == {"cyber", "ia"}
        assert found(sources=("nope",)) == []
        # period on the publication date, falling back to the fetch date ("hors" was
        # fetched 2 days before T0 and has no publication date)
        week = (T0 - timedelta(days=6)).date()
        assert set(found(date_from=week)) == {"portail", "donnee", "cyber", "hors"}
        assert set(found(date_from=week, date_to=(T0 - timedelta(days=2)).date())) == {
            "donnee",
            "cyber",
            "hors",
        }
        assert found(date_to=date(2020, 1, 1)) == []
        # date order newest first, the article without publication date at its fetch date
        assert found() == ["portail", "hors", "donnee", "cyber", "algo", "ia"]
        # score order, unscored last
        assert found(sort="score") == ["portail", "ia", "donnee", "cyber", "hors", "algo"]
        hit = search(session, _q(q="donnée intérêt")).items[0]
        assert hit.themes == ("donnees_interet_general", "open_data")
        assert hit.source_key == "etalab" and hit.source_name == "ETALAB" and hit.coverage == 1


def test_pagination(seeded: tuple[sessionmaker[Session], dict[str, int]]) -> None:
    sessions, ids = seeded
    with sessions() as session:
        pages = [search(session, _q(per_page=4, page=p)) for p in (1, 2, 3)]
        assert [r.total for r in pages] == [6, 6, 6] and pages[0].pages == 2
        assert _slugs(ids, [h.id for r in pages for h in r.items]) == [
            "portail",
            "hors",
            "donnee",
            "cyber",
            "algo",
            "ia",
        ]
        assert pages[2].items == []
        assert search_page(session, _q(), page=2, per_page=4) == pages[1].items


def test_facets_leave_their_own_filter_out(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    sessions, _ = seeded
    with sessions() as session:
        f = facets(session, _q(themes=("ia",), sources=("cnil",)))
        # themes: counted with the source filter only (cnil: cyber, algo)
        assert f.themes == {"open_data": 1, "ia": 1}
        # sources: counted with the theme filter only (ia: algo@cnil, ia@datagouv)
        assert f.sources == [("cnil", "CNIL", 1), ("datagouv", "DATAGOUV", 1)]
        result = search(session, _q(themes=("ia",), sources=("cnil",)))
        assert result.total == 1 and result.facets == f
        f = facets(session, _q(q="données"))
        assert f.themes == {"open_data": 3, "donnees_interet_general": 1}
        assert f.sources == [("etalab", "ETALAB", 2), ("cnil", "CNIL", 1)]
        everything = facets(session, _q())
        assert everything.themes == {"open_data": 4, "ia": 2, "donnees_interet_general": 1}
        assert sum(n for _, _, n in everything.sources) == 6


def test_theme_changes_follow_through_triggers(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    sessions, ids = seeded
    with sessions() as session, session.begin():
        replace_themes(session, ids["hors"], {"ia": (1.0, "editor")})
        replace_themes(session, ids["algo"], {})
    with sessions() as session:
        assert {h.id for h in search(session, _q(themes=("ia",))).items} == {ids["hors"], ids["ia"]}
    with sessions() as session, session.begin():
        session.execute(
            update(ArticleThemeRow)
            .where(ArticleThemeRow.article_id == ids["hors"])
            .values(theme="open_data")
        )
    with sessions() as session:
        assert {h.id for h in search(session, _q(themes=("ia",))).items} == {ids["ia"]}
        assert search(session, _q(themes=("open_data",), q="concerts")).total == 1


def test_deleted_articles_leave_the_index(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    sessions, _ = seeded
    with sessions() as session, session.begin():
        session.execute(delete(SourceRow).where(SourceRow.key == "cnil"))  # cascades
    with sessions() as session:
        assert search(session, _q(q="algorithmes")).total == 0
        assert search(session, _q(q="données")).total == 2
        if session.get_bind().dialect.name == "sqlite":
            assert session.scalar(text("SELECT count(*) FROM articles_fts")) == 4


def test_iter_matching_streams_in_order_with_keysets(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    sessions, ids = seeded
    with sessions() as session:
        for sort in ("date", "score"):
            query = _q(sort=sort, per_page=50)
            expected = [h.id for h in search(session, query).items]
            assert [h.id for h in iter_matching(session, query, batch=2)] == expected
            assert [h.id for h in iter_matching(session, query, batch=4, limit=5)] == (expected[:5])
        assert [h.id for h in iter_matching(session, _q(themes=("ia",)), batch=1)] == [
            ids["algo"],
            ids["ia"],
        ]
        assert list(iter_matching(session, _q(), limit=0)) == []
        streamed = iter_matching(session, _q(q="données"), batch=1)
        assert next(streamed).id == ids["portail"]  # a generator: nothing loaded up front


def test_parse_query_then_search(seeded: tuple[sessionmaker[Session], dict[str, int]]) -> None:
    sessions, ids = seeded
    query = parse_query(
        {"theme": ["open_data,ia"], "q": ["donnees"], "sort": ["score"]}, today=T0.date()
    )
    with sessions() as session:
        assert [h.id for h in search(session, query).items] == [
            ids["portail"],
            ids["donnee"],
            ids["cyber"],
        ]
        assert search(session, replace(query, page=2)).items == []


def test_migration_indexes_existing_rows(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0002")
    factory = session_factory(engine)
    with factory() as session, session.begin():
        # Only the columns of 0002: the ORM's row has later ones (sources.paused_at, 0008r).
        source_id = session.execute(
            insert(SourceRow.__table__).values(
                key="old", name="Ancienne", url="https://old.example/"
            )
        ).inserted_primary_key[0]
        # Written as code before 0003 did: a plain INSERT, no index maintenance (Core, so
        # the columns of later migrations are not named).
        article_id = session.execute(
            ArticleRow.__table__.insert().values(
                url="https://old.example/a",
                url_key="old.example/a",
                original_url="https://old.example/a",
                source_id=source_id,
                title="Réutilisations des données",
                summary="",
                text="Un bilan.",
                html="",
                fetched_at=T0,
                content_hash="x",
                score_components={},
            )
        ).inserted_primary_key[0]
        session.add(
            ArticleThemeRow(article_id=article_id, theme="ia", probability=1.0, origin="model")
        )
    upgrade(engine)
    with factory() as session:
        result = search(session, _q(q="reutilisation donnee", themes=("ia",)))
        assert [h.title for h in result.items] == ["Réutilisations des données"]
        assert result.facets.sources == [("old", "Ancienne", 1)]
    engine.dispose()


def test_schema_matches_the_orm_apart_from_search_objects(db_url: str) -> None:
    """What tests/test_db_schema.py needs to pass: `fulltext.include_name` hides the FTS objects."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from veille.db.fulltext import include_name
    from veille.db.tables import Base

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_bulk_insert_is_searchable(sessions: sessionmaker[Session]) -> None:
    from veille.db.bulk import BulkArticle, bulk_insert_articles

    with sessions() as session, session.begin():
        _seed(session)
        source_id = session.scalar(select(SourceRow.id).where(SourceRow.key == "cnil"))
    assert source_id is not None
    rows = (
        BulkArticle(
            url=f"https://cnil.example/bulk/{i}",
            source_id=source_id,
            title=f"Délibération n°{i}",
            summary="Avis sur un traitement algorithmique",
            text="La collectivité publie l'algorithme." if i % 2 else "Rien à signaler.",
            fetched_at=T0 - timedelta(days=i),
            published_at=None if i % 3 else T0,
            score=i / 10,
            themes={"ia": 0.8} if i % 2 else {},
        )
        for i in range(10)
    )
    engine = sessions.kw["bind"]
    assert bulk_insert_articles(engine, rows, chunk=4) == 10
    with sessions() as session:
        found = search(session, _q(q="algorithme collectivités", themes=("ia",), per_page=50))
        assert sorted(h.title for h in found.items) == [
            f"Délibération n°{i}" for i in (1, 3, 5, 7, 9)
        ]
        assert found.facets.sources == [("cnil", "CNIL", 5)]
        assert search(session, _q(sources=("cnil",))).total == 12
        # the ORM path still works after a bulk load (ids do not collide)
        _ = article_db.insert_article(
            session,
            article_db.ArticleRecord(
                url="https://cnil.example/after",
                url_key="cnil.example/after",
                original_url="https://cnil.example/after",
                source_id=source_id,
                guid=None,
                title="Après le chargement",
                summary="",
                text="",
                html="",
                author=None,
                language="fr",
                image=None,
                published_at=None,
                fetched_at=T0,
                partial=False,
                extract_note=None,
                content_hash="",
                fingerprint=None,
            ),
            None,
        )
        session.commit()
        assert search(session, _q(q="chargement")).total == 1


def test_counts_stop_at_the_cap_and_say_so(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """Past the cap the total and facets are lower bounds, flagged as such; the pages still
    list every match in order, and the last page makes the total exact again."""
    sessions, _ = seeded
    with sessions() as session:
        everything = [h.id for h in search(session, _q(per_page=50)).items]
        first = search(session, _q(per_page=2), cap=3)
        assert (first.total, first.total_exact, first.facets.exact) == (3, False, False)
        assert first.has_next and [h.id for h in first.items] == everything[:2]
        # facets come from at most cap + 1 rows: lower bounds, never above the truth
        assert sum(n for _, _, n in first.facets.sources) == 4
        assert all(n <= 3 for n in first.facets.themes.values())
        second = search(session, _q(per_page=2, page=2), cap=3)
        assert [h.id for h in second.items] == everything[2:4]
        assert (second.total, second.total_exact, second.has_next) == (4, False, True)
        last = search(session, _q(per_page=4, page=2), cap=3)
        assert [h.id for h in last.items] == everything[4:]
        assert (last.total, last.total_exact, last.has_next) == (6, True, False)
        # a cap the matches stay under changes nothing
        assert search(session, _q(per_page=50), cap=6) == search(session, _q(per_page=50))
        assert search(session, _q(per_page=50), cap=6).total_exact
        # text, theme, exclusion: same pages whatever plan the cap leads to
        for kw in (
            {"q": "données"},
            {"q": "données", "themes": ("open_data",)},
            {"q": '"données ouvertes" -cybersécurité'},
            {"q": "-cybersécurité", "sort": "score"},
            {"q": "données", "sources": ("etalab",), "sort": "score"},
        ):
            exact = search(session, _q(per_page=50, **kw))
            assert exact.total_exact and exact.total == len(exact.items)
            for cap in (0, 1, 2):
                capped = search(session, _q(per_page=50, **kw), cap=cap)
                assert [h.id for h in capped.items] == [h.id for h in exact.items]
                assert capped.total == exact.total  # the short last page makes it exact
                assert capped.total_exact or not exact.items
        # with a theme: the sample is SAMPLE_FACTOR times larger, the page completes it
        wide = search(session, _q(themes=("ia",), per_page=1), cap=1)
        assert not wide.facets.exact
        assert (wide.total, wide.total_exact, wide.over_cap, wide.has_next) == (
            1,
            False,
            True,
            True,
        )
        none = search(session, _q(q="concert", themes=("ia",)), cap=0)
        assert (none.total, none.total_exact, none.items) == (0, True, [])


def test_capped_facets(seeded: tuple[sessionmaker[Session], dict[str, int]]) -> None:
    sessions, _ = seeded
    with sessions() as session:
        exact = facets(session, _q(q="données"))
        assert exact.exact
        capped = facets(session, _q(q="données"), cap=1)
        assert not capped.exact
        assert sum(n for _, _, n in capped.sources) == 2  # cap + 1 rows looked at
        for key, _, n in capped.sources:
            assert n <= dict((k, c) for k, _, c in exact.sources)[key]


def test_feeds_and_exports_do_not_depend_on_the_probe(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """iter_matching picks its plan from a capped count (SQLite: FTS5's own, up to
    FTS5_DENSE; elsewhere PROBE_CAP rows); every plan gives the same stream."""
    from veille.archive import search as search_module
    from veille.archive import search_counts

    sessions, _ = seeded
    week = (T0 - timedelta(days=6)).date()
    queries = [
        _q(q="données"),
        _q(q="données", themes=("open_data",), sort="score"),
        _q(q='"données ouvertes" -cybersécurité'),
        _q(q="-cybersécurité"),
        _q(q="données", date_from=week),
        _q(q="données publics", sources=("cnil", "etalab")),
    ]
    with sessions() as session:
        expected = [[h.id for h in iter_matching(session, q)] for q in queries]
        assert all(expected[:3]) and expected[4]
        for cap in (0, 1, 2):
            monkeypatch.setattr(search_module, "PROBE_CAP", cap)
            monkeypatch.setattr(search_counts, "FTS5_DENSE", cap)
            got = [[h.id for h in iter_matching(session, q, batch=2)] for q in queries]
            assert got == expected
            assert [h.id for h in search_page(session, queries[1], page=1, per_page=2)] == (
                expected[1][:2]
            )


def test_sparse_feed_page_is_the_probed_page(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stream with a limit (a feed) on SQLite reads its probe's count and its page in one
    statement (`search_counts.sqlite_sparse_page`): the same first entries as the full
    stream, whether FTS5 finds few matches (that statement's page) or more than
    FTS5_DENSE (None from it, then the date walk)."""
    from veille.archive import search_counts

    sessions, _ = seeded
    week = (T0 - timedelta(days=6)).date()
    queries = [
        _q(q="données"),
        _q(q='"données ouvertes" -cybersécurité'),
        _q(q="données", date_from=week),
        _q(q="données publics", sources=("cnil", "etalab")),
        *(_q(q="données", themes=(theme,)) for theme in (*THEME_IDS, NO_THEME)),
    ]
    with sessions() as session:
        expected = [[h.id for h in iter_matching(session, q)] for q in queries]
        assert expected[0] and expected[1] and expected[2]
        # The theme filters keep other rows than the words alone: the page applies them.
        assert {tuple(ids) for ids in expected[4:]} - {tuple(expected[0])}
        sqlite = session.get_bind().dialect.name == "sqlite"
        for dense in (0, 1, 2, 10_000):
            monkeypatch.setattr(search_counts, "FTS5_DENSE", dense)
            for query, stream in zip(queries, expected, strict=True):
                for limit in (1, 2, 5):
                    got = [h.id for h in iter_matching(session, query, limit=limit)]
                    assert got == stream[:limit]
                    if not sqlite:
                        continue
                    plan = search_plan.plan_of(session, query)
                    page = search_counts.sqlite_sparse_page(session, plan, limit)
                    matches = search_counts.fts5_more_than(session, plan, dense)
                    assert page == (None if matches else stream[:limit])


def test_bulk_insert_stops_on_a_failed_chunk(sessions: sessionmaker[Session]) -> None:
    """PostgreSQL copies chunks on two connections: a failing chunk must still surface."""
    from veille.db.bulk import BulkArticle, bulk_insert_articles

    with sessions() as session, session.begin():
        _seed(session)
        source_id = session.scalar(select(SourceRow.id).where(SourceRow.key == "cnil"))
    assert source_id is not None
    rows = [
        BulkArticle(
            url=f"https://cnil.example/dup/{i % 7}",
            source_id=source_id,
            title="t",
            summary="",
            text="x",
            fetched_at=T0,
        )
        for i in range(12)
    ]
    with pytest.raises(Exception, match=r"(?i)unique"):
        bulk_insert_articles(sessions.kw["bind"], rows, chunk=3)


@pytest.mark.parametrize(
    "title, summary, text_",
    [
        ("Données ouvertes", "L'État publie", "Les cœurs d'œuvre — « jusqu'à » 2026\nFIN"),
        ("", "", "Straße, Ærø et l’ouverture des données publiques"),
        ("Titre", "Résumé", ""),
        ("Ponctuation!", "", "a-b_c d'e… (f) 3,5 % 12h30\t\ttabulé"),
    ],
)
def test_document_from_precomputed_text_words_is_the_same(
    title: str, summary: str, text_: str
) -> None:
    """The extraction workers tokenise the text; the stored document must not change."""
    from veille.db.fulltext import document
    from veille.text.french import index_words

    assert document(title, summary, text_, index_words(text_)) == document(title, summary, text_)


def _add(session: Session, slug: str, title: str, body: str, days: int) -> int:
    source = session.scalar(select(SourceRow.id).where(SourceRow.key == "etalab"))
    assert source is not None
    record = article_db.ArticleRecord(
        url=f"https://etalab.example/{slug}",
        url_key=f"etalab.example/{slug}",
        original_url=f"https://etalab.example/{slug}",
        source_id=source,
        guid=None,
        title=title,
        summary=body[:60],
        text=body,
        html=f"<p>{body}</p>",
        author=None,
        language="fr",
        image=None,
        published_at=T0 - timedelta(days=days),
        fetched_at=T0 - timedelta(days=days),
        partial=False,
        extract_note=None,
        content_hash=slug,
        fingerprint=None,
    )
    article_id = article_db.insert_article(session, record, None)[0]
    replace_themes(session, article_id, {"open_data": (0.9, "model")})
    return article_id


@pytest.mark.postgres
def test_a_search_ranks_by_relevance_by_default(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """The article about tramways (older, the word in its title and text again and again)
    comes before the newer one that names a tramway once in passing; `sort=date` puts the
    newer first again, and a query without words stays newest first."""
    sessions, _ = seeded
    filler = " ".join(["Le conseil municipal a voté le budget des écoles et des crèches."] * 8)
    with sessions() as session, session.begin():
        about = _add(
            session,
            "tram",
            "Les tramways de Lyon publient leurs données",
            "Horaires des tramways, fréquentation des tramways, retards des tramways.",
            days=30,
        )
        passing = _add(session, "budget", "Budget municipal", filler + " Un tramway passe.", 1)
    params = {"q": ["tramway"], "theme": [",".join(EVERY_THEME)], "group": ["none"]}
    query = parse_query(params, today=T0.date())
    assert query.sort == "pertinence"
    with sessions() as session:
        ranked = search(session, query)
        by_date = search(session, parse_query({**params, "sort": ["date"]}, today=T0.date()))
        no_words = search(session, parse_query({"sort": ["pertinence"]}, today=T0.date()))
    assert [h.id for h in ranked.items] == [about, passing]
    assert ranked.sort == "pertinence"
    assert [h.id for h in by_date.items] == [passing, about]
    assert by_date.sort == "date"
    assert no_words.sort == "date"


@pytest.mark.postgres
def test_relevance_falls_back_to_date_past_the_count_cap(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """Too many matches to rank them all: the page is newest first and says so."""
    sessions, ids = seeded
    query = _q(q="données", sort="pertinence")
    with sessions() as session:
        capped = search(session, query, cap=2)
        ranked = search(session, query)
    assert capped.sort == "date"
    assert [h.id for h in capped.items][:2] == [ids["portail"], ids["donnee"]]
    assert ranked.sort == "pertinence"
    assert {h.id for h in ranked.items} == {ids["portail"], ids["donnee"], ids["cyber"]}


def test_links_leave_the_default_sort_out() -> None:
    from veille.archive.query import to_params

    search_query = parse_query({"q": ["portail"]}, today=T0.date())
    assert search_query.sort == "pertinence"
    assert to_params(search_query) == [("q", "portail")]
    assert ("sort", "date") in to_params(search_query, sort="date")
    assert to_params(parse_query({}, today=T0.date())) == []
    assert parse_query({"q": [""], "sort": [""], "from": [""]}, today=T0.date()) == ArchiveQuery()


def test_a_search_within_a_period_is_the_search_and_the_period_together(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """On SQLite, FTS5 is held to the id range of the period's rows (`period_ids`); the
    corpus's ids are not in date order (« hors », recent, came last), so a wrong bound
    would lose rows. Every text × period gives the intersection, with the same counts."""
    sessions, ids = seeded
    days = [(T0 - timedelta(days=d)).date() for d in (0, 2, 4, 6, 9, 45)]
    periods = [(a, b) for a in days for b in days if a <= b] + [(date(2020, 1, 1), days[-1])]
    with sessions() as session:

        def found(**kw: object) -> set[str]:
            return set(_slugs(ids, [h.id for h in search(session, _q(per_page=50, **kw)).items]))

        for q in ("données", "publics", "concerts", "données -cybersécurité"):
            text_only = found(q=q)
            assert text_only, q
            for start, end in periods:
                both = search(session, _q(per_page=50, q=q, date_from=start, date_to=end))
                period_only = found(date_from=start, date_to=end)
                expected = text_only & period_only
                assert set(_slugs(ids, [h.id for h in both.items])) == expected, (q, start, end)
                assert both.total == len(expected) and both.total_exact
                assert sum(n for _, _, n in both.facets.sources) == len(expected)
        empty = search(session, _q(q="données", date_to=date(2020, 1, 1)))
        assert (empty.total, empty.items) == (0, [])


def _filter_kinds() -> list[dict[str, object]]:
    """One of each kind of filter the counts must get right: none, themes (with « Hors
    thèmes »), sources (one unknown), a period, words and phrases with an exclusion, and
    one entry per story."""
    week = (T0 - timedelta(days=6)).date()
    return [
        {},
        {"themes": ("ia",)},
        {"themes": ("open_data", NO_THEME)},
        {"sources": ("cnil", "datagouv")},
        {"sources": ("cnil",), "themes": ("open_data",), "date_from": week},
        {"sources": ("nope",)},
        {"q": "données"},
        {"q": '"données ouvertes" -cybersécurité', "sources": ("etalab", "cnil")},
        {"q": "données", "date_from": week, "themes": ("open_data",)},
        {"group": True, "themes": THEME_IDS},
        {"group": True, "themes": (NO_THEME,), "sources": ("cnil",)},
    ]


def test_the_total_without_facets_is_the_total_with_them(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """The API counts without facets (`search_counts.listed_total`): over every filter kind
    and cap, each answer is the facet-counting one with the facets left out — same items,
    total, exactness and next page — and a source or theme filter changes the total."""
    sessions, ids = seeded
    grid = _filter_kinds()
    with sessions() as session:
        for kw in grid:
            for cap in (None, 0, 1, 2, 3):
                query = _q(per_page=2, **kw)
                full = search(session, query, cap=cap)
                lean = search(session, query, cap=cap, with_facets=False)
                assert lean == replace(full, facets=replace(lean.facets, exact=full.facets.exact))
                assert not lean.facets.themes and not lean.facets.sources
        assert search(session, _q(sources=("cnil",)), with_facets=False).total == 2
        assert search(session, _q(themes=("ia",)), with_facets=False).total == 2
        assert search(session, _q(), with_facets=False).total == len(ids)


def _themed(plan: search_plan.Plan, mask: int) -> bool:
    """`Plan.theme_condition`, in Python, for a test to count rows itself."""
    if not plan.theme_bits and not plan.off_topic:
        return bool(mask & fulltext.ALL_THEMES)
    return bool(mask & plan.theme_bits) or (plan.off_topic and not mask & fulltext.ALL_THEMES)


def test_sqlite_counts_in_one_pass_what_the_grouped_statement_counts(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """SQLite counts the sample without grouping (`_sqlite_counts`: theme sums and the
    source facet's ids as one string); PostgreSQL groups by source (`_grouped`). Both run
    on SQLite: over every filter kind and cap they give the same `Counts`, and those
    counts are the rows themselves, counted here one by one."""
    sessions, ids = seeded
    grid = _filter_kinds()
    with sessions() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("group_concat: the SQLite path only")
        # Every third article a story's duplicate (the bit its story's triggers set), so
        # that `group` leaves rows out of the sums.
        session.execute(
            update(fulltext.SEARCH)
            .where(fulltext.SEARCH.c.id.in_(sorted(ids.values())[::3]))
            .values(theme_mask=fulltext.SEARCH.c.theme_mask.op("|")(fulltext.DUPLICATE_BIT))
        )
        bits = list(fulltext.THEME_BITS.values())
        for kw in grid:
            plan = search_plan.plan_of(session, _q(**kw))
            sample = search_counts._sample(plan, 1_000)
            rows = session.execute(select(sample.c.s, sample.c.m)).all()
            for cap in (0, 1, 2, 3, 1_000):
                one_pass = search_counts._sqlite_counts(session, plan, cap)
                assert one_pass == search_counts._grouped(session, plan, cap), (kw, cap)
                assert one_pass.sampled == min(len(rows), cap + 1)
            full = search_counts._sqlite_counts(session, plan, 1_000)
            kept = [
                (s, m)
                for s, m in rows
                if not (plan.grouped and m & fulltext.DUPLICATE_BIT)
                and (plan.source_ids is None or s in plan.source_ids)
            ]
            assert full.themes == tuple(sum(1 for _, m in kept if m & b) for b in bits), kw
            assert full.off_topic == sum(1 for _, m in kept if not m & fulltext.ALL_THEMES)

            matched: dict[int, int] = {}
            for s, m in rows:
                if _themed(plan, m) and not (plan.grouped and m & fulltext.DUPLICATE_BIT):
                    matched[s] = matched.get(s, 0) + 1
            assert full.matched == matched, kw


def test_bound_counts_are_the_counts_built_from_values(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """SQLite runs one counting statement per shape of plan, its values bound
    (`search_counts.bound_counts`): for every filter kind (and a closed period, a word in
    it, an exclusion alone), cap and both statements (facets, the API's total), it answers
    what the statement built from the plan's values answers — also when the same statement
    serves plans of other values right before."""
    sessions, ids = seeded
    week, day = (T0 - timedelta(days=6)).date(), (T0 - timedelta(days=2)).date()
    grid = [
        *_filter_kinds(),
        {"date_from": week, "date_to": day, "sources": ("cnil", "etalab")},
        {"q": "données", "date_from": week, "date_to": day},
        {"q": "données", "date_to": day, "group": True},
        {"q": "-données"},
    ]
    bound = 0
    with sessions() as session:
        _sqlite_with_duplicates(session, ids)
        for kw in grid * 2:
            plan = search_plan.plan_of(session, _q(**kw))
            if plan.impossible:
                continue
            for cap, total_only in [(c, t) for c in (0, 1, 2, 1_000) for t in (False, True)]:
                built = search_counts._built(plan, cap, total_only)
                found = search_counts.bound_counts(plan, cap, total_only=total_only)
                if found is None:
                    assert kw == {"q": "-données"}  # no required word: built as it comes
                    continue
                bound += 1
                want = session.execute(built).one()
                assert session.execute(*found).one() == want, (kw, cap, total_only)
    assert bound > 100
    assert search_counts.counts_statement.cache_info().hits > 50


def _sqlite_with_duplicates(session: Session, ids: dict[str, int]) -> None:
    """Skip but on SQLite (the statements built once are its own); mark every third article
    a story's duplicate, which `group` leaves out."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the statements built once are SQLite's")
    session.execute(
        update(fulltext.SEARCH)
        .where(fulltext.SEARCH.c.id.in_(sorted(ids.values())[::3]))
        .values(theme_mask=fulltext.SEARCH.c.theme_mask.op("|")(fulltext.DUPLICATE_BIT))
    )


def test_bound_pages_are_the_pages_built_from_values(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """SQLite runs one page query per shape of plan without words, its values bound
    (`page_query.bound_page`): for every such filter kind (a closed period with sources
    too), each order and several offsets and sizes, it lists what the query built from the
    plan's values lists — also right after the same statement served other values."""
    sessions, ids = seeded
    week, day = (T0 - timedelta(days=6)).date(), (T0 - timedelta(days=2)).date()
    grid = [
        *(kw for kw in _filter_kinds() if "q" not in kw),
        {"date_from": week, "date_to": day, "sources": ("cnil", "etalab")},
        {"date_to": day, "themes": ("ia", "open_data"), "group": True},
        {"sources": ("etalab",), "themes": (NO_THEME,)},
    ]
    compared = 0
    with sessions() as session:
        _sqlite_with_duplicates(session, ids)
        for kw in grid * 2:
            plan = search_plan.plan_of(session, _q(**kw))
            if plan.impossible:
                continue
            for sort, offset, limit in [
                (o, f, n) for o in ("date", "score") for f in (0, 1, 3) for n in (1, 2, 20)
            ]:
                built = (
                    select(fulltext.SEARCH.c.id)
                    .where(plan.where(narrow=True))
                    .order_by(*search_plan.order(plan, sort, fulltext_query.BY_INDEX))
                    .offset(offset)
                    .limit(limit)
                )
                found = page_query.bound_page(plan, sort, offset, limit)
                assert found is not None, kw
                want = session.scalars(built).all()
                assert session.execute(*found).scalars().all() == want, (kw, sort, offset)
                compared += bool(want)
        assert (
            page_query.bound_page(search_plan.plan_of(session, _q(q="données")), "date", 0, 20)
            is None
        )
    assert compared > 100
    assert page_query.page_statement.cache_info().hits > 100


def test_period_bounds_follow_inserts_moves_and_deletes(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """SQLite reads a period's id range from `article_days` (migration 0014ds's triggers):
    an article added long after with an old date, one whose date moves to another period,
    and the rows left after a delete are all found by a search within their period, and
    the searches outside it do not list them. (On PostgreSQL there is no range: the same
    searches answer the same.)"""
    sessions, ids = seeded
    with sessions() as session, session.begin():
        old = _add(session, "archives", "Données des archives", "Des données anciennes.", 400)
        moved = _add(session, "bouge", "Données qui bougent", "Les données déménagent.", 1)
        session.execute(
            update(ArticleRow)
            .where(ArticleRow.id == moved)
            .values(published_at=T0 - timedelta(days=200))
        )
        session.execute(delete(ArticleRow).where(ArticleRow.id == ids["cyber"]))

    def period(days_ago: int, length: int) -> dict[str, object]:
        end = (T0 - timedelta(days=days_ago)).date()
        return {"date_from": end - timedelta(days=length), "date_to": end}

    with sessions() as session:

        def found(**kw: object) -> set[int]:
            return {h.id for h in search(session, _q(per_page=50, q="données", **kw)).items}

        assert found(**period(395, 10)) == {old}
        assert found(**period(195, 10)) == {moved}
        assert found(**period(0, 7)) == {ids["portail"], ids["donnee"]}
        assert found(**period(0, 1000)) == {old, moved, ids["portail"], ids["donnee"]}
        if session.get_bind().dialect.name == "sqlite":
            day = (T0 - timedelta(days=400)).date().isoformat()
            low, high, rows = session.execute(
                text("SELECT low_id, high_id, rows FROM article_days WHERE day = :d"), {"d": day}
            ).one()
            assert (low, high, rows) == (old, old, 1)


def test_fts_lengths_migration_keeps_the_index_and_its_triggers(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """Migration 0014dq re-creates SQLite's FTS5 table with its documents' lengths stored
    (bm25 no longer re-tokenises each match). Down to 0014cu and back: the same ranked
    answers, one stored length per article, and the triggers still index a new article."""
    sessions, ids = seeded
    with sessions() as session:
        engine = session.get_bind().engine
        if engine.dialect.name != "sqlite":
            pytest.skip("an FTS5 table: SQLite only")

    def ranked() -> list[list[int]]:
        with sessions() as session:
            return [
                [h.id for h in search(session, _q(q=q, sort="pertinence", per_page=50)).items]
                for q in ("données", "données ouvertes", "concerts", "publics -données")
            ]

    def lengths() -> int | None:
        with sessions() as session:
            try:
                return int(session.scalar(text("SELECT count(*) FROM articles_fts_docsize")) or 0)
            except OperationalError:
                return None  # no such table: columnsize=0

    before = ranked()
    assert any(len(found) > 1 for found in before)
    assert lengths() == len(ids)
    _downgrade(engine, "0014cu")
    assert lengths() is None
    assert ranked() == before
    upgrade(engine, "head")
    assert lengths() == len(ids)
    assert ranked() == before
    with sessions() as session, session.begin():
        new = _add(session, "nouveau", "Concerts de données", "Des concerts et des données.", 1)
    with sessions() as session:
        assert new in [h.id for h in search(session, _q(q="concerts", per_page=50)).items]
    assert lengths() == len(ids) + 1


def _downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_source_names_and_keys_follow_the_data_version(
    seeded: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    """The sources are read once per data version (`source_table`): a rename through a
    session moves the version and the next listing shows the new name; a source written
    without moving it (a raw connection) is still found by its key and named."""
    sessions, ids = seeded
    with sessions() as session:
        named = {key: name for key, name, _ in facets(session, _q()).sources}
        assert named == {"etalab": "ETALAB", "cnil": "CNIL", "datagouv": "DATAGOUV"}
    with sessions() as session, session.begin():
        session.execute(update(SourceRow).where(SourceRow.key == "cnil").values(name="Cnil"))
    with sessions() as session:
        named = {key: name for key, name, _ in facets(session, _q()).sources}
        assert named["cnil"] == "Cnil"
        assert source_table.ids_of(session, ["cnil", "nope"]) == {
            session.scalar(select(SourceRow.id).where(SourceRow.key == "cnil"))
        }
    with sessions() as session, session.begin():
        raw = session.connection()
        raw.execute(insert(SourceRow).values(key="brut", name="Brut", url="https://brut.example/"))
        new_id = raw.execute(select(SourceRow.id).where(SourceRow.key == "brut")).scalar_one()
        raw.execute(update(ArticleRow).where(ArticleRow.id == ids["ia"]).values(source_id=new_id))
    with sessions() as session:
        found = search(session, _q(sources=("brut",)))
        assert [h.id for h in found.items] == [ids["ia"]]
        assert found.items[0].source_name == "Brut"
        assert ("brut", "Brut", 1) in facets(session, _q()).sources
