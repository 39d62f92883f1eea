"""The per-host queue feeding the I/O pool: a limit per host, FIFO, article pages first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from veille.collect.hostqueue import HostQueue


def test_urgent_tasks_overtake_queued_ones_and_the_limit_holds() -> None:
    gate = threading.Event()
    order: list[str] = []
    running: dict[str, int] = {}
    peak: dict[str, int] = {}
    lock = threading.Lock()

    def task(name: str, host: str, wait: bool = False) -> str:
        with lock:
            running[host] = running.get(host, 0) + 1
            peak[host] = max(peak.get(host, 0), running[host])
            order.append(name)
        if wait:
            gate.wait(5)
        with lock:
            running[host] -= 1
        return name

    with ThreadPoolExecutor(8) as pool:
        hosts = HostQueue(pool, limit=1)
        first = hosts.submit("https://a.example/feed", lambda: task("feed-1", "a", wait=True))
        later = [
            hosts.submit("https://a.example/feed2", lambda: task("feed-2", "a")),
            hosts.submit("https://a.example/p1", lambda: task("page-1", "a"), urgent=True),
            hosts.submit("https://a.example/p2", lambda: task("page-2", "a"), urgent=True),
            hosts.submit("https://b.example/feed", lambda: task("other-host", "b")),
        ]
        assert later[-1].result(timeout=5) == "other-host"  # another host is not held up
        gate.set()
        assert first.result(timeout=5) == "feed-1"
        assert [f.result(timeout=5) for f in later] == ["feed-2", "page-1", "page-2", "other-host"]
    a_order = [name for name in order if name != "other-host"]
    assert a_order == ["feed-1", "page-1", "page-2", "feed-2"]
    assert peak["a"] == 1


def test_cancel_all_cancels_what_waits() -> None:
    gate = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        hosts = HostQueue(pool, limit=1)
        running = hosts.submit("https://a.example/1", lambda: gate.wait(5))
        waiting = [hosts.submit("https://a.example/2", lambda: 2, urgent=u) for u in (True, False)]
        hosts.cancel_all()
        gate.set()
        assert running.result(timeout=5) is True
        assert all(f.cancelled() for f in waiting)


def test_a_host_waits_its_turn_in_the_queue_not_in_a_thread() -> None:
    """With a per-host delay, a host's tasks start `delay` apart while the other hosts'
    run meanwhile: two threads serve six hosts × three tasks in about two delays, not in
    the eighteen a pool of sleeping threads would take."""
    delay = 0.15
    starts: dict[str, list[float]] = {}
    lock = threading.Lock()

    def task(host: str) -> None:
        with lock:
            starts.setdefault(host, []).append(time.monotonic())

    hosts = [f"h{i}.example" for i in range(6)]
    began = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        queue = HostQueue(pool, limit=2, delay=delay)
        futures = [
            queue.submit(f"https://{host}/feed{n}", lambda host=host: task(host))
            for n in range(3)
            for host in hosts
        ]
        for f in futures:
            f.result(timeout=10)
        queue.cancel_all()
    elapsed = time.monotonic() - began
    for host in hosts:
        gaps = [b - a for a, b in zip(starts[host], starts[host][1:], strict=False)]
        assert len(gaps) == 2 and min(gaps) >= delay - 0.03, (host, gaps)
    assert elapsed < 6 * delay, elapsed  # the hosts' spacings overlapped (serial: 12 delays)


def test_cancel_all_drops_tasks_held_for_their_turn() -> None:
    with ThreadPoolExecutor(2) as pool:
        queue = HostQueue(pool, limit=2, delay=30.0)
        first = queue.submit("https://a.example/1", lambda: 1)
        held = queue.submit("https://a.example/2", lambda: 2)
        assert first.result(timeout=5) == 1
        queue.cancel_all()  # returns at once: the timer thread does not sleep out its 30 s
        assert held.cancelled()
