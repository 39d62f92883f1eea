"""Feeding the collector's I/O pool host by host: politeness without idle threads."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from functools import partial
from typing import Any
from urllib.parse import urlsplit

_Tasks = deque[tuple[Future[Any], Callable[[], Any]]]


class HostQueue:
    """Hands the I/O pool at most `limit` tasks per host at a time, in FIFO order per host,
    urgent tasks first.

    The fetcher makes a thread wait for a busy host's slot; fed straight from a feed that
    lists 20 pages of one site, the pool's threads would all wait on that host while the
    99 others sit idle. Queuing here keeps every thread on a host that can be fetched.
    Article pages are urgent: they feed the extraction workers, which otherwise idle while
    a host's remaining feeds are fetched first.
    """

    def __init__(self, pool: Executor, limit: int) -> None:
        self._pool = pool
        self._limit = limit
        self._queues: dict[str, tuple[_Tasks, _Tasks]] = {}  # (urgent, normal) per host
        self._running: Counter[str] = Counter()
        self._lock = threading.RLock()  # a done callback may run in the submitting thread

    def submit(self, url: str, fn: Callable[[], Any], *, urgent: bool = False) -> Future[Any]:
        host = (urlsplit(url).hostname or "").lower()
        outer: Future[Any] = Future()
        with self._lock:
            queues = self._queues.setdefault(host, (deque(), deque()))
            queues[0 if urgent else 1].append((outer, fn))
            self._pump(host)
        return outer

    def _pump(self, host: str) -> None:
        urgent, normal = self._queues[host]
        while (urgent or normal) and self._running[host] < self._limit:
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
        with self._lock:
            for queues in self._queues.values():
                for queue in queues:
                    for outer, _ in queue:
                        outer.cancel()
                    queue.clear()
