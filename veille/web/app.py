"""FastAPI application factory: the archive pages, its Atom feeds, JSON API and exports,
French error pages, and the headers every response carries.

Nothing is built at import: `create_app(settings)` makes the engine, templates and context,
so each test (and each `veille serve`) gets its own app.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from veille import frenchformat
from veille.archive.highlight import highlight
from veille.archive.query import QueryError
from veille.classify.certainty import certainty
from veille.collect import error_text
from veille.config import Settings, get_settings
from veille.db import articles as article_db
from veille.db import data_version
from veille.db.engine import make_engine, session_factory
from veille.errors import TokenError
from veille.newsletter.worker import SendStarter, start_send_worker
from veille.paths import resource_dir
from veille.sources import THEME_IDS, theme_labels_of
from veille.web import (
    alerts,
    api,
    api_docs,
    archive,
    auth,
    clicks,
    desk,
    desk_composer,
    desk_editions,
    desk_home,
    desk_members,
    desk_sending,
    desk_sources,
    desk_stories,
    editions,
    exports,
    feeds,
    member_login,
    members,
    worker_start,
)
from veille.web.csrf import CsrfError
from veille.web.deps import (
    AccessDenied,
    ClassifierCache,
    MemberResolver,
    WebContext,
    load_config_quietly,
)
from veille.web.middleware import WebGuard
from veille.web.prerender import Prerenderer, host_of, most_read, run_with
from veille.web.response_cache import ResponseCache
from veille.web.shared_answers import SHARED_ANSWERS_ENV, SharedAnswers
from veille.web.transport import is_https
from veille.web.worker_start import StartGate

log = logging.getLogger("veille.web")

STATUS_TITLES = {
    400: "Requête invalide",
    401: "Archive réservée aux membres",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    429: "Trop de demandes",
    500: "Erreur du serveur",
}


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(resource_dir("templates") / "web"))
    templates.env.filters["date_fr"] = frenchformat.full_date
    templates.env.filters["datetime_fr"] = frenchformat.date_time
    templates.env.filters["number_fr"] = frenchformat.number
    templates.env.filters["highlight"] = highlight
    # A source's stored error → SourceError (French sentence + the collector's detail).
    templates.env.filters["source_error"] = error_text.describe
    templates.env.filters["certainty"] = certainty
    return templates


def _wants_json(path: str) -> bool:
    return path.startswith("/api/")


def error_response(
    request: Request, ctx: WebContext, status: int, message: str | None = None
) -> Response:
    """The French error page (HTML), or `{"detail": …}` for API paths."""
    title = STATUS_TITLES.get(status, "Erreur")
    if _wants_json(request.url.path):
        return JSONResponse({"detail": message or title}, status_code=status)
    template = {
        400: "errors/400.html",
        403: "errors/403.html",
        404: "errors/404.html",
        500: "errors/500.html",
    }.get(status, "errors/400.html")
    return ctx.templates.TemplateResponse(
        request,
        template,
        {"title": title, "message": message, "status": status, "query": None},
        status_code=status,
    )


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    member_resolver: MemberResolver = member_login.member_from_cookie,
    send_starter: SendStarter | None = None,
    shared_answers: Path | None = None,
) -> FastAPI:
    """`send_starter` gets a desk's « send now » going once recorded; by default a worker
    process with these settings (a test with its own `clock` passes one that shares it).
    `shared_answers`: the file where the workers of one machine share rendered public
    answers (`veille.web.shared_answers`); None keeps them in this process only."""
    engine = make_engine(settings.database_url)
    config = load_config_quietly(settings)
    ctx = WebContext(
        settings=settings,
        sessions=session_factory(engine),
        templates=make_templates(),
        theme_labels=theme_labels_of(config),
        classifiers=ClassifierCache(config),
        member_resolver=member_resolver,
    )
    if clock is not None:
        ctx.clock = clock
    app = FastAPI(
        title="veille — archive",
        description="Articles collectés par la veille : recherche, filtres, export.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.web = ctx
    app.state.subscribe_limits = members.SubscribeLimits.shared(ctx)
    app.state.send_starter = send_starter or partial(start_send_worker, settings)

    @app.exception_handler(QueryError)
    def bad_query(request: Request, exc: QueryError) -> Response:
        return error_response(request, ctx, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, ctx, 400, "Un paramètre de la requête est invalide.")

    @app.exception_handler(AccessDenied)
    def members_only(request: Request, exc: AccessDenied) -> Response:
        if _wants_json(request.url.path):
            return JSONResponse({"detail": str(exc)}, status_code=401)
        return ctx.templates.TemplateResponse(
            request, "errors/401.html", {"title": STATUS_TITLES[401]}, status_code=401
        )

    @app.exception_handler(TokenError)
    def bad_token(request: Request, exc: TokenError) -> Response:
        return error_response(request, ctx, 403, str(exc))

    @app.exception_handler(CsrfError)
    def bad_csrf(request: Request, exc: CsrfError) -> Response:
        return error_response(request, ctx, 403, str(exc))

    @app.exception_handler(members.TooManyRequests)
    def too_many(request: Request, exc: members.TooManyRequests) -> Response:
        response = error_response(request, ctx, 429, str(exc))
        response.headers["Retry-After"] = "3600"
        return response

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        response = error_response(request, ctx, exc.status_code, detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    def crash_page(scope: Scope) -> tuple[int, bytes, str]:
        if _wants_json(scope.get("path", "")):
            return 500, b'{"detail": "Erreur du serveur"}', "application/json"
        try:
            body = ctx.templates.get_template("errors/500.html").render(
                title=STATUS_TITLES[500], status=500
            )
        except Exception:  # the templates themselves are broken: say it plainly
            log.exception("cannot render the 500 page")
            body = "<!doctype html><html lang='fr'><title>Erreur</title><p>Erreur du serveur.</p>"
        return 500, body.encode("utf-8"), "text/html; charset=utf-8"

    # The version is read on an engine of its own: with SQLite it is read on the event loop,
    # which must never wait for a pooled connection that a route's thread holds (under wrk
    # the shared pool stalled one worker: benchmarks/README.md, « Load »).
    version = partial(data_version.read, make_engine(settings.database_url))
    shared = SharedAnswers(shared_answers) if shared_answers is not None else None

    def archive_public() -> bool:
        return ctx.settings.archive_access.strip().lower() == "public"

    app.add_middleware(
        ResponseCache,
        version=version,
        local_database=engine.dialect.name == "sqlite",
        today=ctx.today,
        archive_public=archive_public,
        shared=shared,
    )
    # started by `ready_to_serve` (a serving process), not by every test's app
    app.state.prerender = Prerenderer(
        app,
        version=version,
        archive_public=archive_public,
        asks=most_read(THEME_IDS),
        host=host_of(settings.base_url),
        shared=shared,
    )
    app.add_middleware(WebGuard, error_page=crash_page, hsts=is_https(settings))
    app.mount(
        "/static", StaticFiles(directory=str(resource_dir("templates") / "static")), name="static"
    )

    api_docs.install(app)

    favicon = (resource_dir("templates") / "static" / "favicon.svg").read_bytes()

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon_ico() -> Response:
        """Browsers and feed readers ask for /favicon.ico whatever the page links: the same
        SVG as `<link rel=icon>` (Chromium and Firefox show an SVG served here)."""
        return Response(
            favicon,
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        with ctx.sessions() as session:
            return JSONResponse({"status": "ok", "articles": article_db.count_articles(session)})

    app.include_router(archive.router)
    # before feeds: its /feeds/{theme}.atom would answer /feeds/editions.atom with a 404
    app.include_router(editions.router)
    app.include_router(clicks.router)
    app.include_router(feeds.router)
    app.include_router(exports.router)
    app.include_router(api.router)
    app.include_router(members.router)
    app.include_router(alerts.router)
    app.include_router(member_login.router)
    auth.install(app)
    app.include_router(desk_members.router)
    app.include_router(desk_home.router)
    app.include_router(desk_sources.router)
    app.include_router(desk_editions.router)
    app.include_router(desk_composer.router)
    app.include_router(desk_sending.router)
    app.include_router(desk.router)
    app.include_router(desk_stories.router)
    return app


def ready_to_serve(app: FastAPI, gate: StartGate | None = None) -> FastAPI:
    """What a serving process does once before its first request, so the first crowd does
    not pay for it: compile every template (Jinja compiles a template on its first render,
    tens of milliseconds each, otherwise paid in each worker by whoever asks first) and
    stop checking their files, then
    `gc.freeze()` what start-up built (~150,000 objects: every full collection walked them,
    a pause of 0.1–0.35 s for all of that worker's clients, measured under wrk); and in
    the lifespan start-up, before uvicorn listens: render the most-read public pages ahead
    of the crowd, at start and whenever the data version moves (`veille.web.prerender`),
    render one page of each kind in this process, wait for the other workers of the
    server (`gate`), freeze again (`veille.web.worker_start`)."""
    env = app.state.web.templates.env
    for name in env.list_templates(extensions=("html",)):
        env.get_template(name)
    # The templates are the installed package's: a serving process does not look at their
    # files again (Jinja's default stats the file at every `get_template`, each page's
    # includes and imports too: 0.3–0.5 ms of a 1M-article listing's ~3–4 ms render).
    env.auto_reload = False
    prerenderer: Prerenderer = app.state.prerender
    app.state.warmed = 0  # answers of this process's warm-up that were 200

    async def before_serving() -> None:
        try:
            app.state.warmed = await worker_start.warm(app, prerenderer.host, list(THEME_IDS))
        except Exception:  # a slower first request, never a worker that does not start
            log.exception("warming the worker up failed")
        if gate is not None:
            await gate.wait()
        gc.collect()
        gc.freeze()

    run_with(app, prerenderer, before_serving)
    gc.collect()
    gc.freeze()
    return app


def app_from_env() -> FastAPI:
    """The app of one `veille serve --workers N` worker process: its settings come from
    the environment the parent exported (`veille.server.export_settings`)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    shared = os.environ.get(SHARED_ANSWERS_ENV)
    return ready_to_serve(
        create_app(get_settings(), shared_answers=Path(shared) if shared else None),
        worker_start.gate_from(os.environ.get(worker_start.START_GATE_ENV)),
    )
