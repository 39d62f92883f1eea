"""The most common passwords, refused for desk accounts whatever their length.

An attacker guesses these first (credential stuffing, spraying); a throttle only slows
them. The list is zxcvbn's ranked `passwords` frequency list (from leaked-password corpora,
MIT licence), taken from the installed package rather than copied into this repository;
its first `TOP` entries are compared case-insensitively. Built once, on first use (about a
megabyte of Python data is imported then, never at start-up).
"""

from __future__ import annotations

from functools import cache

TOP = 10_000


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"][:TOP])


def is_common(password: str) -> bool:
    """Whether `password` (any case, surrounding spaces ignored) is one of the `TOP` most
    common passwords."""
    return password.strip().lower() in _common()
