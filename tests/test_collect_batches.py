"""Pages and sources stored in shared transactions: an article that cannot be stored fails
the sources that wanted it, alone; the others are stored (the story index's rollback is
tested in test_storyindex.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.hostile_server import HostileServer
from tests.site_builder import feeds_yaml, mount_site
from veille.classify.classifier import Classifier, ClassItem, Prediction
from veille.classify.service import load_classifier
from veille.collect.pipeline import CollectContext, refresh_due
from veille.config import Settings
from veille.db.tables import ArticleLinkRow, ArticleRow, SourceRow
from veille.sources import load_feeds_config

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@dataclass
class FailingOn(Classifier):
    """The real classifier, except that it raises on an article whose title has `marker`."""

    marker: str = ""

    def predict(
        self, items: Sequence[ClassItem], stories: Sequence[int | None] | None = None
    ) -> list[Prediction]:
        if any(self.marker in it.title for it in items):
            raise RuntimeError("classifier down")
        return super().predict(items, stories)


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
