"""The collecting process's C heap (collect/heap.py): the arena cap and the trim are taken
by glibc, and a cycle's memory goes back to the system after it."""

from __future__ import annotations

import platform

import pytest

from veille.collect import heap

glibc = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="mallopt and malloc_trim are glibc's"
)


@glibc
def test_glibc_takes_the_arena_cap() -> None:
    assert heap.limit_arenas() is True
    assert heap.limit_arenas() is True  # once: the cached answer


def _rss_kb() -> int:
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@glibc
def test_trim_gives_freed_heap_pages_back() -> None:
    # Many blocks under glibc's mmap threshold (128 KB) live in the heap proper; freeing
    # them leaves the pages mapped (interleaved survivors keep the top from shrinking)
    # until malloc_trim returns the free ones.
    blocks = [bytearray(100_000) for _ in range(600)]
    keep = blocks[::50]
    del blocks
    before = _rss_kb()
    heap.trim()
    after = _rss_kb()
    assert keep
    assert before - after > 10_000, (before, after)
