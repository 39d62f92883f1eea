"""Feeding the collector's I/O pool host by host: politeness without idle threads."""

from __future__ import annotations

import heapq
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from functools import partial
from typing import Any
from urllib.parse import urlsplit

_Tasks = deque[tuple[Future[Any], Callable[[], Any]]]


def host_of(url: str) -> str:
    """The key a host's tasks share (its politeness slot)."""
    return (urlsplit(url).hostname or "").lower()


class HostQueue:
    """Hands the I/O pool at most `limit` tasks per host at a time, in FIFO order per host,
    urgent tasks first, and a host's next task no sooner than `delay` seconds after the
    previous one started.

    The fetcher makes a thread wait for a busy host's slot; fed straight from a feed that
    lists 20 pages of one site, the pool's threads would all wait on that host while the
    99 others sit idle. Queuing here keeps every thread on a host that can be fetched.
    Article pages are urgent: they feed the extraction workers, which otherwise idle while
    a host's remaining feeds are fetched first.

    The spacing is kept here too, not only in the fetcher: a task handed over before its
    host's turn holds a pool thread asleep in the fetcher's gate, and with 100 hosts × 2
    slots that was every thread of the pool (a cycle of 500 unchanged feeds took ~2.5 s of
    sleeping threads for ~1 s of spacing per host). A task that must wait for its host's
    turn waits in this queue, and one timer thread hands it over when the turn comes, so
    every host's spacing runs at the same time. The fetcher's gate still enforces the
    spacing of each request (redirects, robots.txt); this only keeps threads from waiting.
    """

    def __init__(
        self,
        pool: Executor,
        limit: int,
        *,
        delay: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._limit = limit
        self._delay = delay
        self._clock = clock
        self._queues: dict[str, tuple[_Tasks, _Tasks]] = {}  # (urgent, normal) per host
        self._running: Counter[str] = Counter()
        self._lock = threading.RLock()  # a done callback may run in the submitting thread
        self._next_start: dict[str, float] = {}  # when each host may start its next task
        self._timers: list[tuple[float, str]] = []  # (when, host): a heap of held-back hosts
        self._held: set[str] = set()  # hosts in `_timers`
        self._wake = threading.Condition(self._lock)
        self._timer: threading.Thread | None = None  # started by the first held-back task
        self._closed = False

    def submit(self, url: str, fn: Callable[[], Any], *, urgent: bool = False) -> Future[Any]:
        host = host_of(url)
        with self._lock:
            outer = self._enqueue(host, fn, urgent)
            self._pump(host)
        return outer

    def _enqueue(self, host: str, fn: Callable[[], Any], urgent: bool) -> Future[Any]:
        """Queue a task behind its host's others (the lock held); its future."""
        outer: Future[Any] = Future()
        self._queues.setdefault(host, (deque(), deque()))[0 if urgent else 1].append((outer, fn))
        return outer

    def submit_all(self, tasks: Sequence[tuple[str, Callable[[], Any]]]) -> list[Future[Any]]:
        """Queue every task (url, fn), then start each host's first: a cycle's listings all
        at once. Submitted one by one, 500 listings took 0.3–1 s on a loaded machine (the
        submitting thread shares the GIL with the threads already fetching the first ones),
        and a host listed late began its spacing that much late; queued first, every host
        starts within a few milliseconds."""
        outers: list[Future[Any]] = []
        with self._lock:
            hosts: dict[str, None] = {}  # in order of first appearance
            for url, fn in tasks:
                host = host_of(url)
                outers.append(self._enqueue(host, fn, urgent=False))
                hosts[host] = None
            for host in hosts:
                self._pump(host)
        return outers

    def _pump(self, host: str) -> None:
        urgent, normal = self._queues[host]
        while (urgent or normal) and self._running[host] < self._limit:
            if self._delay > 0 and not self._turn(host):
                return
            outer, fn = (urgent or normal).popleft()
            if not outer.set_running_or_notify_cancel():
                continue
            self._running[host] += 1
            try:
                inner = self._pool.submit(fn)
            except RuntimeError as exc:  # the pool is shutting down
                self._running[host] -= 1
                outer.set_exception(exc)
                continue
            inner.add_done_callback(partial(self._done, host, outer))

    def _turn(self, host: str) -> bool:
        """Whether `host` may start a task now (then its next turn is `delay` later); if
        not, the timer thread pumps it when its turn comes."""
        now = self._clock()
        at = self._next_start.get(host, now)
        if at <= now:
            self._next_start[host] = now + self._delay
            return True
        if host not in self._held and not self._closed:
            self._held.add(host)
            heapq.heappush(self._timers, (at, host))
            if self._timer is None:
                self._timer = threading.Thread(
                    target=self._hand_over, name="veille-host-timer", daemon=True
                )
                self._timer.start()
            self._wake.notify()
        return False

    def _hand_over(self) -> None:
        """The timer thread: pump each held-back host when its turn comes."""
        with self._lock:
            while not self._closed:
                if not self._timers:
                    self._wake.wait()
                    continue
                at, host = self._timers[0]
                left = at - self._clock()
                if left > 0:
                    self._wake.wait(left)
                    continue
                heapq.heappop(self._timers)
                self._held.discard(host)
                self._pump(host)

    def _done(self, host: str, outer: Future[Any], inner: Future[Any]) -> None:
        with self._lock:
            self._running[host] -= 1
            self._pump(host)
        if inner.cancelled():
            outer.set_exception(RuntimeError("cancelled"))
        elif (exc := inner.exception()) is not None:
            outer.set_exception(exc)
        else:
            outer.set_result(inner.result())

    def cancel_all(self) -> None:
        """Cancel every task not handed to the pool yet, and stop the timer thread."""
        with self._lock:
            self._closed = True
            self._timers.clear()
            self._held.clear()
            self._wake.notify_all()
            for queues in self._queues.values():
                for queue in queues:
                    for outer, _ in queue:
                        outer.cancel()
                    queue.clear()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.join()
