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

# (future, task, seq, whether the task is handed its host slot's release)
_Tasks = deque[tuple[Future[Any], Callable[..., Any], int, bool]]


def host_of(url: str) -> str:
    """The key a host's tasks share (its politeness slot)."""
    return (urlsplit(url).hostname or "").lower()


class HostQueue:
    """Hands the I/O pool at most `limit` tasks per host at a time and at most `slots` in
    all, a host's next task no sooner than `delay` seconds after the previous one started,
    and among the tasks that may start, the first submitted.

    The fetcher makes a thread wait for a busy host's slot; fed straight from a feed that
    lists 20 pages of one site, the pool's threads would all wait on that host while the
    99 others sit idle. Queuing here keeps every thread on a host that can be fetched.

    Submission order across hosts: a cycle asks for its listings first, then for each
    source's new pages as its listing is decided. Handed over as each host's slot freed
    (the pool's own queue then ordered by host, not by source), every host advanced through
    its pages at once, so nearly every source — whose pages are spread over many hosts —
    waited for the cycle's last pages and all 500 were saved by the writer alone at the end
    (benchmarks/README.md, « First cycle's timeline »). Taken in submission order, the
    pages of the sources decided first are done first, and those sources are saved while
    later pages are extracted (a feed of its own site's articles as soon as they are in;
    on the benchmark, whose feeds relist articles of every site, ~150 of 500 sources).
    (Pages used to go before their host's remaining listings; with every host given pages
    early, that held 300 of 500 listings back until the end of the cycle.)

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
        slots: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._limit = limit
        self._delay = delay
        self._slots = slots  # tasks handed to the pool at once (its threads); None: no cap
        self._clock = clock
        self._queues: dict[str, _Tasks] = {}  # each host's tasks, in submission order
        self._running: Counter[str] = Counter()
        self._total = 0  # tasks handed to the pool and not done
        self._seq = 0  # order of submission, across hosts
        # Hosts whose next task may start now, by that task's order of submission: a heap
        # of (seq, host), and the seq each host is in it with.
        self._ready: list[tuple[int, str]] = []
        self._offered: dict[str, int] = {}
        self._lock = threading.RLock()  # a done callback may run in the submitting thread
        self._next_start: dict[str, float] = {}  # when each host may start its next task
        self._timers: list[tuple[float, str]] = []  # (when, host): a heap of held-back hosts
        self._held: set[str] = set()  # hosts in `_timers`
        self._wake = threading.Condition(self._lock)
        self._timer: threading.Thread | None = None  # started by the first held-back task
        self._closed = False

    def submit(
        self, url: str, fn: Callable[..., Any], *, leaves_host: bool = False
    ) -> Future[Any]:
        """Queue `fn` for `url`'s host. With `leaves_host`, `fn` is called with a function
        it calls once it is done with the host (an article page fetched, its extraction
        to wait for): the host's slot is freed then, not when `fn` returns. Held through
        the extraction, a host's two slots let through two pages per extraction wait — a
        site's 20 pages took a minute under load while its turn came every 0.25 s."""
        host = host_of(url)
        with self._lock:
            outer = self._enqueue(host, fn, leaves_host)
            self._pump(host)
        return outer

    def _enqueue(self, host: str, fn: Callable[..., Any], leaves_host: bool) -> Future[Any]:
        """Queue a task behind its host's others (the lock held); its future."""
        outer: Future[Any] = Future()
        self._seq += 1
        self._queues.setdefault(host, deque()).append((outer, fn, self._seq, leaves_host))
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
                outers.append(self._enqueue(host, fn, False))
                hosts[host] = None
            for host in hosts:
                self._offer(host)
            self._dispatch()
        return outers

    def _pump(self, host: str) -> None:
        """`host` may have a task to start: offer it, then start what the slots allow."""
        self._offer(host)
        self._dispatch()

    def _offer(self, host: str) -> None:
        """Put `host` among the hosts ready to start a task if it has one, a free slot and
        its turn has come (else the timer thread offers it when its turn comes)."""
        queue = self._queues[host]
        if not queue or self._running[host] >= self._limit:
            return
        seq = queue[0][2]
        if self._offered.get(host) == seq:
            return
        if self._delay > 0 and not self._turn(host):
            return
        self._offered[host] = seq
        heapq.heappush(self._ready, (seq, host))

    def _dispatch(self) -> None:
        """Hand the pool the ready hosts' next tasks, the first submitted first, while it
        has free threads: with a cap, a task waits here (not in the pool's own queue, in
        the order hosts got their slot) and the pool takes pages in the order the cycle
        asked for them, so a source's pages are done together, not each host's in turn."""
        while self._ready and (self._slots is None or self._total < self._slots):
            _, host = heapq.heappop(self._ready)
            del self._offered[host]
            outer, fn, _, leaves_host = self._queues[host].popleft()
            if outer.set_running_or_notify_cancel():
                if self._delay > 0:
                    self._next_start[host] = self._clock() + self._delay
                self._start(host, outer, fn, leaves_host)
            self._offer(host)

    def _start(
        self, host: str, outer: Future[Any], fn: Callable[..., Any], leaves_host: bool
    ) -> None:
        self._running[host] += 1
        self._total += 1
        slot = _HostSlot(self, host)
        try:
            inner = self._pool.submit(partial(fn, slot.release) if leaves_host else fn)
        except RuntimeError as exc:  # the pool is shutting down
            slot.held = False
            self._running[host] -= 1
            self._total -= 1
            outer.set_exception(exc)
            return
        inner.add_done_callback(partial(self._done, slot, outer))

    def _turn(self, host: str) -> bool:
        """Whether `host`'s turn has come (its next turn is set `delay` after a start); if
        not, the timer thread offers it when its turn comes."""
        now = self._clock()
        at = self._next_start.get(host, now)
        if at <= now:
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

    def _done(self, slot: _HostSlot, outer: Future[Any], inner: Future[Any]) -> None:
        with self._lock:
            self._total -= 1
            slot.release()
            self._dispatch()
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
            self._ready.clear()
            self._offered.clear()
            self._wake.notify_all()
            for queue in self._queues.values():
                for outer, *_ in queue:
                    outer.cancel()
                queue.clear()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.join()


class _HostSlot:
    """A running task's hold on one of its host's slots, given back once: when the task
    says it is done with the host (`submit(..., leaves_host=True)`) or when it ends."""

    def __init__(self, queue: HostQueue, host: str) -> None:
        self.queue = queue
        self.host = host
        self.held = True

    def release(self) -> None:
        with self.queue._lock:
            if self.held:
                self.held = False
                self.queue._running[self.host] -= 1
                self.queue._pump(self.host)
