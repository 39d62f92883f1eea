"""What a serving process does before it accepts a connection (`veille.web.worker_start`):
the workers of one server open together, and each renders one page of each kind itself —
on the real app served by uvicorn over SQLite, two workers sharing one answers' file —
without keeping or sharing those renders."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, populate, serve
from veille.config import Settings
from veille.web.app import create_app, ready_to_serve
from veille.web.response_cache import ResponseCache, response_cache_of
from veille.web.shared_answers import prepare
from veille.web.worker_start import StartGate, first_asks, gate_from


def test_the_gate_opens_when_every_worker_is_ready(tmp_path: Path) -> None:
    gate = StartGate(tmp_path, workers=2, timeout=30, poll=0.005)

    async def go() -> bool:
        waiting = asyncio.create_task(gate.wait())
        with pytest.raises(TimeoutError):  # alone: still waiting
            await asyncio.wait_for(asyncio.shield(waiting), 0.2)
        (tmp_path / "4242.ready").touch()  # the other worker is ready
        return await asyncio.wait_for(waiting, 10)

    assert asyncio.run(go()) is True
    assert gate.ready() == 2
    # A worker uvicorn starts later (one died) finds the count met and waits for nothing.
    late = gate_from(gate.value())
    assert late is not None and (late.folder, late.workers) == (tmp_path, 2)
    assert asyncio.run(asyncio.wait_for(late.wait(), 5)) is True


def test_a_worker_that_never_comes_holds_the_others_only_until_the_timeout(
    tmp_path: Path,
) -> None:
    gate = StartGate(tmp_path, workers=2, timeout=0.05, poll=0.005)
    assert asyncio.run(gate.wait()) is False  # serving anyway, with one worker
    assert gate.ready() == 1
    assert gate_from(None) is None and gate_from("") is None


def cache(app: object) -> ResponseCache:
    found = response_cache_of(app)
    assert found is not None
    return found


def test_each_worker_renders_one_page_of_each_kind_before_serving_and_keeps_none(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    stored = populate(sessions)
    file = tmp_path / "answers.sqlite"
    prepare(file)
    apps = [create_app(settings, clock=lambda: NOW, shared_answers=file) for _ in range(2)]
    for app in apps:
        ready_to_serve(app)
    with contextlib.ExitStack() as stack:
        # started one after the other: the first one pre-renders
        bases = [stack.enter_context(serve(app)) for app in apps]
        asks = first_asks(max(stored.ids.values()), ["open_data"])
        assert {a.path for a in asks} >= {"/", "/sources", "/editions", "/feeds/search.atom"}
        assert any(a.path.startswith("/articles/") for a in asks)
        assert any(a.query.startswith("q=") for a in asks)  # a search
        listed = len(httpx.get(bases[1] + "/api/articles", timeout=30).json()["items"])
        assert listed > 1
        prerendered = len(apps[0].state.prerender.asks) + listed  # + the home's articles
        assert [cache(app).renders for app in apps] == [prerendered, 0]
        # ... yet each worker rendered the kinds itself, every one answered (+ the API page
        # the newest article's id came from), and none was kept nor shared
        assert [app.state.warmed for app in apps] == [len(asks) + 1] * 2
        for app in apps:
            kept = {key[1] for key in cache(app).lru._items}
            assert not kept & {"/editions", "/feeds/search.atom"}, kept
            assert not any("q=" in key[2] for key in cache(app).lru._items)  # the search
            assert len(cache(app).lru) <= prerendered
        with contextlib.closing(sqlite3.connect(file)) as db:
            keys = [row[0] for row in db.execute("SELECT key FROM answers")]
        assert len(keys) == prerendered
        assert not any("/editions" in key or "search.atom" in key for key in keys)
