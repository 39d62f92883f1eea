"""What every route depends on: the app's context (settings, sessions, clock, labels, the
lazily loaded classifier), a database session, the parsed archive filters, and the access
rule of the archive."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from veille import sources
from veille.archive.query import ArchiveQuery, parse_query
from veille.classify.classifier import Classifier
from veille.config import Settings
from veille.db import themes as theme_db
from veille.errors import VeilleError
from veille.frenchformat import PARIS
from veille.sources import FeedsConfig

log = logging.getLogger(__name__)

# Who is asking: a member id, or None. The app's default is
# veille.web.member_login.member_from_cookie (the signed session cookie of a member).
MemberResolver = Callable[[Request], str | None]


def no_member(request: Request) -> str | None:
    """A resolver that knows nobody (for tests of a closed archive)."""
    return None


class AccessDenied(VeilleError):
    """The archive is for members and the request carries no member session."""


class ClassifierCache:
    """The active theme model, loaded on first use and again only when a newer model is
    activated; never trained here (a page view must stay cheap). None when no usable
    model is stored."""

    def __init__(self, config: FeedsConfig | None) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._version_id: int | None = None
        self._classifier: Classifier | None = None

    def get(self, session: Session) -> Classifier | None:
        active_id = theme_db.active_model_id(session)
        if active_id is None:
            return None
        with self._lock:
            if active_id != self._version_id:
                self._classifier = self._load(session, int(active_id))
                self._version_id = int(active_id)
            return self._classifier

    def _load(self, session: Session, version_id: int) -> Classifier | None:
        from veille.classify import model as theme_model
        from veille.classify.service import keywords_of

        row = theme_db.model_version(session, version_id)
        if row is None:
            return None
        try:
            return Classifier(theme_model.loads(row.blob), keywords_of(self._config))
        except Exception as exc:  # an unreadable blob must not break the article page
            log.warning("theme model %s unusable in the web app: %s", row.version, exc)
            return None


@dataclass
class WebContext:
    settings: Settings
    sessions: sessionmaker[Session]
    templates: Jinja2Templates
    theme_labels: dict[str, str]
    classifiers: ClassifierCache
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    member_resolver: MemberResolver = no_member

    def today(self) -> date:
        return self.clock().astimezone(PARIS).date()


def load_config_quietly(settings: Settings) -> FeedsConfig | None:
    """feeds.yaml when it is readable: the archive still serves without it."""
    return sources.load_config_quietly(settings.config_file)


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


Ctx = Annotated[WebContext, Depends(context)]


def db_session(ctx: Ctx) -> Iterator[Session]:
    with ctx.sessions() as session:
        yield session


DB = Annotated[Session, Depends(db_session)]


def archive_query(request: Request, ctx: Ctx) -> ArchiveQuery:
    """The filters of the query string; a bad value raises QueryError (answered 400)."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return parse_query(params, today=ctx.today())


Filters = Annotated[ArchiveQuery, Depends(archive_query)]


def archive_access(request: Request, ctx: Ctx) -> str | None:
    """Guard of every archive route: open in `public` mode; in `members` mode, a member
    session is required. Returns the member id (None when public)."""
    if ctx.settings.archive_access.strip().lower() == "public":
        return None  # any other value restricts: a typo must not open a members' archive
    member = ctx.member_resolver(request)
    if member is None:
        raise AccessDenied("Archive réservée aux membres.")
    return member
