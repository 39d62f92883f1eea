"""Where a cycle's pages are extracted: in the process, one at a time, until the extraction
pool runs; from then on in the pool, including the pages already waiting for their turn
in the process (the first cycle's pages arrive before the pool starts)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from veille.collect.pools import Pools
from veille.config import Settings


def _where() -> str:
    return threading.current_thread().name


def _fail() -> None:
    raise ValueError("no main text")


def test_pages_are_extracted_in_the_asking_thread_until_the_pool_runs(
    settings: Settings,
) -> None:
    with Pools(settings, fetcher=None, extractor=None) as pools:
        assert pools.pool is None
        assert pools.extractor.submit(_where).result() == threading.current_thread().name
        with pytest.raises(ValueError, match="no main text"):  # carried, as a pool would
            pools.extractor.submit(_fail).result()


class _Turn:
    """The extractor's lock, telling when a second page waits for its turn."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.asked = 0
        self.second_waits = threading.Event()

    def __enter__(self) -> None:
        self.asked += 1
        if self.asked == 2:
            self.second_waits.set()
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_a_page_waiting_for_its_turn_goes_to_the_pool_once_it_runs(settings: Settings) -> None:
    inside, release = threading.Event(), threading.Event()
    turn = _Turn()

    def first() -> str:
        inside.set()
        assert release.wait(10)
        return _where()

    with (
        Pools(settings, fetcher=None, extractor=None) as pools,
        ThreadPoolExecutor(1, thread_name_prefix="pool") as pool,
        ThreadPoolExecutor(2, thread_name_prefix="io") as io,
    ):
        pools.extractor._turn = turn  # type: ignore[assignment]
        one = io.submit(lambda: pools.extractor.submit(first).result())
        assert inside.wait(10)  # the first page is being extracted in the process
        two = io.submit(lambda: pools.extractor.submit(_where).result())
        assert turn.second_waits.wait(10)
        assert not two.done()  # not run beside the first: one page at a time in the process
        pools.pool = pool  # … and the pool starts meanwhile
        release.set()
        assert one.result(10).startswith("io")
        assert two.result(10).startswith("pool")
        assert pools.extractor.submit(_where).result().startswith("pool")
