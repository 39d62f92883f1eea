"""The C heap of a collecting process: fewer malloc arenas, and freed pages given back.

glibc's malloc gives each thread that allocates at once an arena of its own, up to eight
per core: the cycle's I/O threads (feeds and pages parsed by lxml and trafilatura, whose C
allocations bypass Python's allocator) each leave a partly used arena behind, ~7 MB of the
small benchmark web's peak PSS (benchmarks/README.md, « Small deployments, again »). Two
arenas keep the threads from queueing on one lock while most of that memory goes. After a
cycle, `malloc_trim` hands the free pages back, so a long-lived `veille run` does not keep
its largest cycle's heap between ticks. Elsewhere than glibc (musl, macOS) both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 - glibc only: AttributeError elsewhere
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


@functools.cache
def limit_arenas() -> bool:
    """Cap the process's malloc arenas at `ARENAS`, once (before the I/O threads start:
    arenas already made stay). True when the C library took it."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(M_ARENA_MAX, ARENAS) == 1)


def trim() -> bool:
    """Give the heap's free pages back to the system; True when some were."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0) == 1)
