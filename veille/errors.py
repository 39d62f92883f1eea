"""Domain exceptions.

Every error a user can cause is one of these, carrying one clear sentence; `cli/` turns
them into messages and exit codes, `web/` into HTTP answers. Nothing below the CLI prints.
"""

from __future__ import annotations

from collections.abc import Mapping


class VeilleError(Exception):
    """Base of every error the project raises on purpose."""


class ConflictError(VeilleError):
    """Someone changed the same thing since this edit began (another delegate, another
    tab): the web answers 409 and shows what is stored now instead of overwriting it.
    `version` is the stored version and `current` maps each clashing field to its stored
    text, when the caller tracks fields (the desk's article edits); the client sends
    `version` back to overwrite knowingly."""

    def __init__(
        self, message: str, *, version: int | None = None, current: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.version = version
        self.current = dict(current or {})


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


class ImportFileError(VeilleError):
    """A file to import cannot be read at all (empty, no e-mail column); bad lines are not this."""


class TokenError(VeilleError):
    """A member link is forged, altered, revoked or expired (`reason`: invalid | expired)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class MemberError(VeilleError):
    """A member operation was refused: invalid address or themes, unknown member."""


class MailError(VeilleError):
    """A mail could not be handed to the mail server.

    `code` is the SMTP reply code when the server gave one (None for network or TLS
    failures); `recipients` names the addresses the failure is about, when it is about some.
    """

    def __init__(
        self, message: str, *, code: int | None = None, recipients: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.code = code
        self.recipients = recipients


class TemporaryMailError(MailError):
    """The server or the network failed for a while and retries ran out: try again later."""


class PermanentMailError(MailError):
    """The server refused the mail for good (5xx, bad recipient, login refused): do not retry."""


class UserError(VeilleError):
    """A desk account cannot be created or changed as asked (bad address, duplicate, role,
    weak password, unusable setup link)."""
