"""Rendered answers shared by the workers of one machine (`veille.web.shared_answers`):
two response caches over one file, as two `veille serve` workers are — each with its own
connection, LRU and app — so a page one worker rendered is served by the other without a
render, and an answer of an older data version is never served."""

from __future__ import annotations

import asyncio
import time
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

    def __init__(
        self, name: str, file: Path, clock: dict[str, DataVersion], claim_seconds: float = 5.0
    ) -> None:
        self.name = name
        self.renders = 0
        self.clock = clock
        self.app = ResponseCache(
            Starlette(routes=[Route("/sources", self.page), Route("/articles/{n}", self.page)]),
            version=lambda: clock["version"],
            today=lambda: date(2026, 11, 23),
            archive_public=lambda: True,
            shared=SharedAnswers(file, claim_seconds=claim_seconds),
        )

    async def page(self, request: Request) -> PlainTextResponse:
        self.renders += 1
        await asyncio.sleep(0.05)  # a render takes a while: the other worker asks meanwhile
        response = PlainTextResponse(f"{self.name} v{self.clock['version'].number}")
        if "nostore" in request.query_params:
            response.headers["cache-control"] = "no-store"
        if "missing" in request.query_params:
            response.status_code = 404
        return response

    async def ask(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get(path, headers=headers or {})

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return asyncio.run(self.ask(path, headers))


def at_once(*asks: tuple[Worker, str]) -> list[httpx.Response]:
    """The crowd: the same requests reaching the workers at the same moment."""

    async def go() -> list[httpx.Response]:
        return list(await asyncio.gather(*(w.ask(path) for w, path in asks)))

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
    response = b.get("/articles/1")
    assert (response.status_code, response.text, b.renders) == (200, "b v1", 1)


def test_a_page_asked_of_both_workers_at_once_is_rendered_once(tmp_path: Path) -> None:
    a, b, _ = two_workers(tmp_path)
    answers = at_once((a, "/sources"), (b, "/sources"), (b, "/sources"), (a, "/articles/2"))
    assert a.renders + b.renders == 2  # /sources once on the machine, /articles/2 once
    assert len({r.text for r in answers[:3]}) == 1
    assert {r.status_code for r in answers} == {200}


def test_an_answer_not_to_keep_lets_the_waiting_worker_render_its_own(tmp_path: Path) -> None:
    a, b, _ = two_workers(tmp_path)
    started = time.monotonic()
    one, two = at_once((a, "/sources?missing=1"), (b, "/sources?missing=1"))
    assert (one.status_code, two.status_code) == (404, 404)
    assert (a.renders, b.renders) == (1, 1) and {one.text, two.text} == {"a v1", "b v1"}
    assert time.monotonic() - started < 2  # released at once, not waited out


def test_a_claim_left_by_a_dead_worker_is_taken_over(tmp_path: Path) -> None:
    clock = {"version": DataVersion(1, datetime(2026, 11, 23, tzinfo=UTC))}
    b = Worker("b", tmp_path / "answers.sqlite", clock, claim_seconds=0.3)
    dead = SharedAnswers(tmp_path / "answers.sqlite")
    key = ("GET", "/sources", "", "html", "1", "2026-11-23")  # conditional.validators
    assert dead.claim(key, 1)  # a worker that claimed /sources and was killed
    assert not b.app.shared.claim(key, 1)  # type: ignore[union-attr]  # held, for now
    started = time.monotonic()
    response = b.get("/sources", {"Accept": "text/html", "Accept-Encoding": "identity"})
    assert (response.text, b.renders) == ("b v1", 1)
    assert time.monotonic() - started >= 0.2  # it waited for the claim before taking over


def test_the_file_stays_within_its_bounds(tmp_path: Path) -> None:
    shared = SharedAnswers(tmp_path / "answers.sqlite", max_rows=100, max_bytes=1000)
    for i in range(128):  # the bound is checked every 64 writes
        shared.put(("GET", f"/articles/{i}"), 1, 200, [], b"x" * (300 if i >= 120 else 5))
    kept = [row[0] for row in shared._connection().execute("SELECT key FROM answers")]
    assert len(kept) == 3  # the three newest fit in 1,000 bytes, however many rows remain
    assert shared.get(("GET", "/articles/127")) is not None
    assert shared.get(("GET", "/articles/124")) is None
    many = SharedAnswers(tmp_path / "many.sqlite", max_rows=50)
    for i in range(64):
        many.put(("GET", f"/articles/{i}"), 1, 200, [], b"x")
    assert many._connection().execute("SELECT count(*) FROM answers").fetchone() == (50,)
    assert many.get(("GET", "/articles/13")) is None and many.get(("GET", "/articles/14"))
