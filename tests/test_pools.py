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


def test_pages_are_extracted_in_the_process_until_the_pool_runs(settings: Settings) -> None:
    with Pools(settings, fetcher=None, extractor=None) as pools:
        assert pools.pool is None
        assert pools.extractor.submit(_where).result(10).startswith("veille-extract")
        with pytest.raises(ValueError, match="no main text"):  # carried, as a pool would
            pools.extractor.submit(_fail).result(10)


def test_a_page_waiting_for_its_turn_goes_to_the_pool_once_it_runs(settings: Settings) -> None:
    inside, release = threading.Event(), threading.Event()

    def first() -> str:
        inside.set()
        assert release.wait(10)
        return _where()

    with (
        Pools(settings, fetcher=None, extractor=None) as pools,
        ThreadPoolExecutor(1, thread_name_prefix="pool") as pool,
    ):
        one = pools.extractor.submit(first)
        assert inside.wait(10)  # the first page is being extracted in the process
        two = pools.extractor.submit(_where)
        assert not two.done()  # not beside the first: one page at a time in the process
        pools.pool = pool  # the pool starts meanwhile
        release.set()
        assert one.result(10).startswith("veille-extract")
        assert two.result(10).startswith("pool")
        assert pools.extractor.submit(_where).result(10).startswith("pool")


def test_pages_still_waiting_when_the_cycle_ends_are_cancelled(settings: Settings) -> None:
    inside, release = threading.Event(), threading.Event()

    def first() -> None:
        inside.set()
        release.wait(10)

    pools = Pools(settings, fetcher=None, extractor=None)
    one = pools.extractor.submit(first)
    assert inside.wait(10)
    two = pools.extractor.submit(_where)
    pools.extractor.shutdown(wait=False, cancel_futures=True)  # as the cycle's end does
    assert two.cancelled()  # its waiter is told, not left hanging
    release.set()
    pools.__exit__(None, None, None)
    assert one.result(10) is None
