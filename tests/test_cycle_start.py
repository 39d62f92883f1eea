"""The start of a collection cycle and its per-host spacing: the I/O threads started
before the first request, every host's first listing handed over at once, the spacing
counted from when a request really leaves, and no CA bundle for plain-http sources."""

from __future__ import annotations

import itertools
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

import veille.collect.fetcher as fetcher_module
from tests.hostile_server import HostileServer, static
from veille.collect.fetcher import Fetcher, FetchPolicy
from veille.collect.hostqueue import HostQueue
from veille.collect.pipeline import CollectContext, refresh_due
from veille.collect.pools import start_threads
from veille.config import Settings
from veille.errors import FetchError
from veille.sources import load_feeds_config


def policy(**overrides: Any) -> FetchPolicy:
    values: dict[str, Any] = {"retries": 0, "per_host_delay": 0.0, "allow_private_networks": True}
    return FetchPolicy(**(values | overrides))


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def test_plain_http_loads_no_ca_bundle_and_https_loads_it_once(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with Fetcher(policy()) as f:
        assert f.fetch(server.url("/ok.xml")).status == 200
        assert loads == []  # the fetcher and a plain-http request need no CA bundle
        for _ in range(2):
            with pytest.raises(FetchError):
                f.fetch(f"https://127.0.0.1:{closed}/feed.xml")
        assert len(loads) == 1  # the first https origin loads it, once


def test_a_request_that_leaves_late_pushes_the_next_one_back(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread that wakes late from its wait (a loaded machine) must not leave the next
    request closer than the delay: the spacing counts from when each request left."""
    now = [1000.0]
    oversleep = [0.1]  # the first wait ends 0.1 s late, the others on time

    def sleep(seconds: float) -> None:
        now[0] += seconds + (oversleep.pop() if oversleep else 0.0)

    left: list[float] = []
    real_send = fetcher_module.send_get

    def send_get(*args: Any) -> httpx.Response:
        left.append(now[0])
        return real_send(*args)

    monkeypatch.setattr(fetcher_module, "send_get", send_get)
    with Fetcher(policy(per_host_delay=0.25), sleep=sleep, clock=lambda: now[0]) as f:
        for _ in range(3):
            f.fetch(server.url("/ok.xml"))
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(left)]
    assert gaps == [0.35, 0.25]  # not 0.35 then 0.15: the late one set the pace


def test_start_threads_starts_them_before_any_task() -> None:
    with ThreadPoolExecutor(8, thread_name_prefix="veille-start-test") as pool:
        start_threads(pool, 5)
        named = [t for t in threading.enumerate() if t.name.startswith("veille-start-test")]
        assert len(named) == 5
        assert all(t.is_alive() for t in named)
        assert sorted(pool.map(lambda n: n * 2, range(5))) == [0, 2, 4, 6, 8]  # usable


def test_submit_all_starts_every_host_at_once_and_spaces_each_host() -> None:
    """Listed host by host, every host's first task still starts before any host's second,
    and each host's tasks stay `delay` apart, two at most at once."""
    delay = 0.15
    starts: dict[str, list[float]] = {}
    running: dict[str, int] = {}
    peak: dict[str, int] = {}
    lock = threading.Lock()

    def task(host: str) -> None:
        with lock:
            starts.setdefault(host, []).append(time.monotonic())
            running[host] = running.get(host, 0) + 1
            peak[host] = max(peak.get(host, 0), running[host])
        time.sleep(0.01)
        with lock:
            running[host] -= 1

    hosts = [f"h{i}.example" for i in range(6)]
    with ThreadPoolExecutor(16) as pool:
        queue = HostQueue(pool, limit=2, delay=delay)
        began = time.monotonic()
        futures = queue.submit_all(
            [(f"https://{h}/feed{n}", lambda h=h: task(h)) for h in hosts for n in range(3)]
        )
        for fut in futures:
            fut.result(timeout=10)
        queue.cancel_all()
    firsts = [starts[h][0] for h in hosts]
    seconds = [starts[h][1] for h in hosts]
    assert max(firsts) < min(seconds) and max(firsts) - began < delay / 2
    for h in hosts:
        gaps = [b - a for a, b in itertools.pairwise(starts[h])]
        assert len(gaps) == 2 and min(gaps) >= delay - 0.03, (h, gaps)
        assert peak[h] <= 2


def test_a_cycle_of_304s_keeps_each_hosts_spacing_and_saves_them_together(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    """Through the pipeline: two hosts × five feeds answering 304, the second host listed
    after the first's feeds; each host's requests reach the server `delay` apart, the
    second host starts with the first, not after its feeds, and the sources' health is
    saved in a few statements, not one per wave of answers."""
    delay = 0.15
    saves: list[int] = []

    def count(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if statement.startswith("UPDATE sources SET") and "last_status" in statement:
            saves.append(len(params) if isinstance(params, list) else 1)

    event.listen(sessions.kw["bind"], "before_cursor_execute", count)
    with HostileServer(host="127.0.0.2") as other:
        lines = ["themes: []", "sources:"]
        for srv, name in ((server, "a"), (other, "b")):
            srv.route("/same.xml", static(b"", status=304))
            for n in range(5):
                lines += [
                    f"  - key: {name}-{n}",
                    f"    name: Flux {name} {n}",
                    f"    url: {srv.url('/same.xml')}?n={n}",
                ]
        settings.config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        settings = settings.model_copy(update={"per_host_delay": delay, "per_host_concurrency": 2})
        ctx = CollectContext(
            settings=settings, sessions=sessions, config=load_feeds_config(settings.config_file)
        )
        summary = refresh_due(ctx).as_dict()
        assert summary["sources_not_modified"] == 10 and summary["sources_failed"] == 0
        a = sorted(r.at for r in server.requests if r.path.startswith("/same.xml"))
        b = sorted(r.at for r in other.requests if r.path.startswith("/same.xml"))
    for arrivals in (a, b):
        gaps = [y - x for x, y in itertools.pairwise(arrivals)]
        assert len(arrivals) == 5 and min(gaps) >= delay - 0.03, gaps
    assert abs(b[0] - a[0]) < delay  # both hosts began at once
    # Five waves of answers, 0.15 s apart: saved every SOURCE_WAIT (0.25 s) and at the end.
    assert sum(saves) == 10 and len(saves) <= 3, saves
