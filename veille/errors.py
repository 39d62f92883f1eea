"""Domain exceptions.

Every error a user can cause is one of these, carrying one clear sentence; `cli.py` turns
them into messages and exit codes, `web/` into HTTP answers. Nothing below the CLI prints.
"""

from __future__ import annotations


class VeilleError(Exception):
    """Base of every error the project raises on purpose."""


class ConfigError(VeilleError):
    """A settings value or a `feeds.yaml` entry is invalid (the message names where)."""


class DatabaseError(VeilleError):
    """The database cannot be reached or upgraded."""


class FetchError(VeilleError):
    """A URL could not be fetched.

    `kind` is a short machine-readable reason (timeout, too_large, blocked, http, network,
    robots, redirects, decode); `retry_after` is the delay in seconds the server asked for.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


class ParseError(VeilleError):
    """Fetched bytes hold nothing readable as a feed, a page listing or a sitemap."""
