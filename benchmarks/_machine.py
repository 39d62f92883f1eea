"""How fast this (virtual) machine runs now, shared by the benchmarks that print it."""

from __future__ import annotations

import time


def cpu_check() -> float:
    """CPU seconds of a fixed pure-Python loop.

    Shared 2-core machines drift by a third from one hour to the next; a run's figures are
    only comparable with another's at a similar check (printed before and after the run).
    """
    started = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i * i % 7
    return time.process_time() - started
