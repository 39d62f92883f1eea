"""A small archive for the web tests, written for the project: three French sources and
26 articles stored through the project's own db functions (one of them hostile), and the
app served by a real uvicorn server in a thread on a free port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker

from veille.classify import score as scoring
from veille.config import Settings
from veille.db import articles as article_db
from veille.db import stories as story_db
from veille.db import themes as theme_db
from veille.db.sources import sync_sources
from veille.db.tables import ArticleRow
from veille.sources import Source

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Paris

SOURCES = (
    Source(key="courrier", name="Le Courrier des territoires", url="http://127.0.0.1:1/rss"),
    Source(key="gazette", name="La Gazette numérique", url="http://127.0.0.1:1/atom"),
    Source(key="labo", name="Labo IA publique", url="http://127.0.0.1:1/labo", kind="page"),
)
HOSTILE_TITLE = '<script>alert("titre")</script>Piège à robots'
HOSTILE_HTML = (
    '<p>Texte sûr.</p><script>alert("extrait")</script>'
    '<a href="javascript:alert(3)">clic</a><img src="x" onerror="alert(4)">'
    '<p onclick="alert(5)">paragraphe</p>'
)


@dataclass(frozen=True)
class Seed:
    key: str
    source: str
    title: str
    themes: tuple[str, ...]
    age_hours: int
    score: float
    summary: str = ""
    html: str = ""
    author: str | None = None
    story_with: str | None = None  # key of an article whose story this one joins
    also_listed_by: tuple[str, ...] = ()


SEEDS: list[Seed] = [
    Seed(
        "lyon",
        "courrier",
        "La métropole de Lyon ouvre son portail de données",
        ("open_data",),
        20,
        82.5,
        summary="Trois cents jeux de données publiés sur les transports et l'énergie.",
        html="<p>La métropole publie <strong>300 jeux de données</strong>.</p>",
        author="Claire Martin",
        also_listed_by=("gazette",),
    ),
    Seed(
        "lyon-bis",
        "gazette",
        "Lyon : un portail open data pour les réutilisateurs",
        ("open_data",),
        26,
        61.0,
        summary="Le portail vise les associations et les chercheurs.",
        story_with="lyon",
    ),
    Seed(
        "ia",
        "labo",
        "L'intelligence artificielle au service des collectivités",
        ("ia",),
        70,
        55.0,
        summary="Des agents publics testent des assistants pour instruire les demandes.",
    ),
    Seed(
        "loi",
        "gazette",
        "Données d'intérêt général : ce que change la loi",
        ("donnees_interet_general", "open_data"),
        20 * 24,
        40.0,
        summary="Les délégataires de service public devront ouvrir leurs données.",
    ),
    Seed(
        "piege",
        "labo",
        HOSTILE_TITLE,
        ("ia",),
        50,
        30.0,
        summary='<img src=x onerror="alert(1)"> Résumé piégé',
        html=HOSTILE_HTML,
    ),
] + [
    Seed(
        f"breve-{i}",
        "courrier",
        f"Brève n°{i} sur les jeux de données communaux",
        ("open_data",),
        (40 + i) * 24,
        10.0 + i,
        summary=f"Une commune publie son budget, brève numéro {i}.",
    )
    for i in range(21)
]


@dataclass
class Stored:
    ids: dict[str, int] = field(default_factory=dict)


def populate(sessions: sessionmaker[Session], seeds: list[Seed] = SEEDS) -> Stored:
    """Store `seeds` the way the pipeline does: sources, articles, links, themes, score."""
    stored = Stored()
    with sessions() as session, session.begin():
        source_ids = sync_sources(session, SOURCES, NOW)
        for seed in seeds:
            published = NOW - timedelta(hours=seed.age_hours)
            url = f"https://{seed.source}.example.fr/articles/{seed.key}"
            story_id = None
            if seed.story_with is not None:
                story_id = session.get(ArticleRow, stored.ids[seed.story_with]).story_id  # type: ignore[union-attr]
            record = article_db.ArticleRecord(
                url=url,
                url_key=url.removeprefix("https://"),
                original_url=url,
                source_id=source_ids[seed.source],
                guid=seed.key,
                title=seed.title,
                summary=seed.summary,
                text=f"{seed.title}. {seed.summary} " * 8,
                html=seed.html,
                author=seed.author,
                language="fr",
                image=None,
                published_at=published,
                fetched_at=published + timedelta(hours=1),
                partial=False,
                extract_note=None,
                content_hash=seed.key,
                fingerprint=None,
            )
            article_id, _ = article_db.insert_article(session, record, story_id)
            stored.ids[seed.key] = article_id
            for source in (seed.source, *seed.also_listed_by):
                article_db.add_link(
                    session,
                    article_id=article_id,
                    source_id=source_ids[source],
                    url_key=record.url_key,
                    guid=seed.key,
                    now=record.fetched_at,
                )
            theme_db.replace_themes(session, article_id, {t: (0.9, "model") for t in seed.themes})
            _, components = scoring.compute(
                scoring.ScoreInputs(
                    confidence=0.9,
                    source_weight=1.0,
                    published_at=published,
                    fetched_at=record.fetched_at,
                    coverage=1 + len(seed.also_listed_by),
                    novelty=1.0,
                    text_chars=len(record.text),
                )
            )
            row = session.get(ArticleRow, article_id)
            assert row is not None
            row.score = seed.score
            row.score_components = components
        # As the collector does once its articles are scored: one representative per story.
        story_db.refresh_of_articles(session, stored.ids.values())
    return stored


def free_socket() -> socket.socket:
    """A listening socket on a free port, so a test knows the URL before serving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def serve(app: Any, sock: socket.socket | None = None) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread (on `sock` when given); yields its base URL."""
    import uvicorn

    sock = sock or free_socket()
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)  # waiting for another thread's startup: no clock to inject
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass(frozen=True)
class Site:
    base_url: str
    ids: dict[str, int]
    settings: Settings

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        # What is asserted is the answer, not its speed: 30 s leaves room for a machine
        # loaded by other workers (a page took over 10 s once at load 15 on PostgreSQL).
        return httpx.get(self.base_url + path, timeout=30, **kwargs)

    def page(self, path: str, **kwargs: Any) -> tuple[httpx.Response, Any]:
        response = self.get(path, **kwargs)
        return response, lxml_html.fromstring(response.content)


@contextmanager
def running_archive(
    settings: Settings, sessions: sessionmaker[Session], **app_options: Any
) -> Iterator[Site]:
    from veille.web.app import create_app

    stored = populate(sessions)
    app = create_app(settings, clock=lambda: NOW, **app_options)
    with serve(app) as base_url:
        yield Site(base_url=base_url, ids=stored.ids, settings=settings)
