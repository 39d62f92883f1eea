"""FastAPI application factory. Routes per audience come with later issues; for now the
latest collected articles in French, and a health probe."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from veille.config import Settings
from veille.db import articles as article_db
from veille.db.engine import make_engine, session_factory
from veille.paths import resource_dir

PARIS = ZoneInfo("Europe/Paris")


def date_fr(value: datetime | None) -> str:
    """`lundi 23 novembre 2026`, in Paris time."""
    if value is None:
        return ""
    return format_date(value.astimezone(PARIS), format="full", locale="fr_FR")


def datetime_fr(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value.astimezone(PARIS), "d MMMM y 'à' HH:mm", locale="fr_FR")


def create_app(settings: Settings) -> FastAPI:
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    templates = Jinja2Templates(directory=str(resource_dir("templates") / "web"))
    templates.env.filters["date_fr"] = date_fr
    templates.env.filters["datetime_fr"] = datetime_fr
    app = FastAPI(title="veille", docs_url=None, redoc_url=None)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' https: data:; style-src 'self' 'unsafe-inline'",
        )
        return response

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        with sessions() as session:
            items = article_db.latest_articles(session, limit=50)
            total = article_db.count_articles(session)
            return templates.TemplateResponse(
                request, "index.html", {"articles": items, "total": total}
            )

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        with sessions() as session:
            return JSONResponse({"status": "ok", "articles": article_db.count_articles(session)})

    return app
