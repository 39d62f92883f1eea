"""Rendered answers shared by the workers of one machine (`veille.web.shared_answers`):
two response caches over one file, as two `veille serve` workers are — each with its own
connection, LRU and app — so a page one worker rendered is served by the other without a
render, and an answer of an older data version is never served."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from veille.db.data_version import DataVersion
from veille.web.response_cache import ResponseCache
from veille.web.shared_answers import SharedAnswers


class Worker:
    """One worker: its own app counting renders, its own cache, the machine's file."""

    def __init__(self, name: str, file: Path, clock: dict[str, DataVersion]) -> None:
        self.name = name
        self.renders = 0
        self.clock = clock
        self.app = ResponseCache(
            Starlette(routes=[Route("/sources", self.page), Route("/articles/{n}", self.page)]),
            version=lambda: clock["version"],
            today=lambda: date(2026, 11, 23),
            archive_public=lambda: True,
            shared=SharedAnswers(file),
        )

    def page(self, request: Request) -> PlainTextResponse:
        self.renders += 1
        response = PlainTextResponse(f"{self.name} v{self.clock['version'].number}")
        if "nostore" in request.query_params:
            response.headers["cache-control"] = "no-store"
        return response

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.get(path, headers=headers or {})

        return asyncio.run(go())


def two_workers(tmp_path: Path) -> tuple[Worker, Worker, dict[str, DataVersion]]:
    clock = {"version": DataVersion(1, datetime(2026, 11, 23, tzinfo=UTC))}
    file = tmp_path / "answers.sqlite"
    return Worker("a", file, clock), Worker("b", file, clock), clock


def test_a_page_rendered_by_one_worker_is_served_by_the_other_without_rendering(
    tmp_path: Path,
) -> None:
    a, b, _ = two_workers(tmp_path)
    first = a.get("/sources")
    second = b.get("/sources")
    assert (a.renders, b.renders) == (1, 0)
    assert second.text == first.text == "a v1"
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-type"] == first.headers["content-type"]
    other = b.get("/articles/3")  # not rendered anywhere yet: b renders it, a replays it
    assert (other.text, b.renders) == ("b v1", 1)
    assert a.get("/articles/3").text == "b v1" and a.renders == 1


def test_a_new_data_version_is_never_served_stale(tmp_path: Path) -> None:
    a, b, clock = two_workers(tmp_path)
    old = a.get("/sources")
    clock["version"] = DataVersion(2, datetime(2026, 11, 23, 12, tzinfo=UTC))
    fresh = b.get("/sources", {"If-None-Match": old.headers["etag"]})
    assert (fresh.status_code, fresh.text, b.renders) == (200, "b v2", 1)
    assert a.get("/sources").text == "b v2" and a.renders == 1  # a's v1 copy is gone too
    rows = a.app.shared._connection().execute("SELECT DISTINCT version FROM answers")  # type: ignore[union-attr]
    assert [r[0] for r in rows] == [2]  # the older version's rows were deleted


def test_what_is_not_kept_is_not_shared(tmp_path: Path) -> None:
    a, b, _ = two_workers(tmp_path)
    a.get("/sources?nostore=1")
    assert b.get("/sources?nostore=1").text == "b v1"
    desk = {"Cookie": "veille_desk=abc"}
    a.get("/sources", desk)
    assert b.get("/sources", desk).text == "b v1" and (a.renders, b.renders) == (2, 2)


def test_an_unusable_file_means_rendering_not_failing(tmp_path: Path) -> None:
    a, b, _ = two_workers(tmp_path)
    a.get("/sources")
    (tmp_path / "answers.sqlite").write_bytes(b"not a database at all" * 100)
    for name in ("answers.sqlite-wal", "answers.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    b.app.shared._local.db.close()  # type: ignore[union-attr]
    b.app.shared._local.db = None  # type: ignore[union-attr]
    response = b.get("/articles/1")
    assert (response.status_code, response.text, b.renders) == (200, "b v1", 1)
