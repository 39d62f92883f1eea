"""Several sources stored in one transaction: a source whose storing fails is failed alone,
the others are stored, and the cycle's story index forgets what the failed transaction added.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.hostile_server import HostileServer
from tests.site_builder import feeds_yaml, mount_site
from veille.classify.classifier import Classifier, ClassItem, Prediction
from veille.classify.service import load_classifier
from veille.collect.pipeline import CollectContext, refresh_due
from veille.collect.storyindex import StoryIndex
from veille.config import Settings
from veille.db import articles as article_db
from veille.db.tables import ArticleLinkRow, ArticleRow, SourceRow
from veille.sources import load_feeds_config


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@dataclass
class FailingOn(Classifier):
    """The real classifier, except that it raises on an article whose title has `marker`."""

    marker: str = ""

    def predict(self, items: Sequence[ClassItem]) -> list[Prediction]:
        if any(self.marker in it.title for it in items):
            raise RuntimeError("classifier down")
        return super().predict(items)


def test_failed_store_fails_its_source_alone(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    pages = mount_site(server)
    settings.config_file.write_text(feeds_yaml(server.base_url), encoding="utf-8")
    config = load_feeds_config(settings.config_file)
    with sessions() as session, session.begin():
        real = load_classifier(session, config)
    # Only flux-b lists pages[4]; its other two articles are also listed by flux-a.
    failing = FailingOn(real.model, real.keywords, marker=pages[4].title)
    ctx = CollectContext(settings=settings, sessions=sessions, config=config, classifier=failing)
    data = refresh_due(ctx).as_dict()

    assert (data["sources_ok"], data["sources_failed"]) == (2, 1)
    failures = data["failures"]
    assert isinstance(failures, dict) and list(failures) == ["flux-b"]
    assert str(failures["flux-b"]).startswith("storage error")
    with sessions() as session:
        urls = set(session.scalars(select(ArticleRow.url)))
        assert urls == {
            f"{server.base_url}/articles/{p.slug}" for i, p in enumerate(pages) if i != 4
        }
        linked = set(session.scalars(select(ArticleLinkRow.article_id)))
        assert linked == set(session.scalars(select(ArticleRow.id)))  # no link to a lost row
        b = session.scalar(select(SourceRow).where(SourceRow.key == "flux-b"))
        assert b is not None and b.consecutive_failures == 1 and b.etag is None

    # With the classifier back, the next cycle stores what the failed source held back.
    ctx = CollectContext(settings=settings, sessions=sessions, config=config, classifier=real)
    again = refresh_due(ctx, force=True).as_dict()
    assert again["sources_failed"] == 0 and again["new_articles"] == 1
    with sessions() as session:
        assert len(set(session.scalars(select(ArticleRow.url)))) == len(pages)


def _record(article_id: int, text_seed: int) -> article_db.ArticleRecord:
    text = " ".join(f"mot{(text_seed * 7 + i) % 97} donnees{i % 13}" for i in range(60))
    return article_db.ArticleRecord(
        url=f"https://exemple.fr/{article_id}",
        url_key=f"exemple.fr/{article_id}",
        original_url=f"https://exemple.fr/{article_id}",
        source_id=1,
        guid=None,
        title="t",
        summary="",
        text=text,
        html="",
        author=None,
        language="fr",
        image=None,
        published_at=None,
        fetched_at=datetime.now(UTC),
        partial=False,
        extract_note=None,
        content_hash=f"hash-{text_seed}",
        fingerprint=article_id * 1_000_003,
    )


def test_story_index_rollback_forgets_what_was_added() -> None:
    index = StoryIndex([])
    index.add(1, 10, _record(1, 1))
    mark = index.mark()
    index.add(2, 20, _record(2, 2))
    index.add(3, 30, _record(3, 3))
    index.rollback(mark)
    assert [i.article_id for i in index.items] == [1]
    # Exact copies are found by content hash and site: the rolled-back ones are gone.
    assert index.match(None, _record(9, 1))[0] == 1  # type: ignore[arg-type]
    assert index.match(None, _record(9, 2))[0] is None  # type: ignore[arg-type]
    index.add(2, 21, _record(2, 2))
    assert index.match(None, _record(9, 2)) == (2, 21)  # type: ignore[arg-type]
