"""`VEILLE_SMTP_URL` → a frozen `Transport`.

One URL says where mail goes: `smtp://user:pass@host:587?starttls=1`, `smtps://host` (TLS
from the first byte) or `file:///dir` (one `.eml` per message, for trials). Credentials are
percent-decoded so any password can be written; they never appear in errors or the repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from veille.errors import ConfigError

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
DEFAULT_TIMEOUT = 30.0
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_SMTP_PARAMS = {"starttls", "timeout", "helo"}


@dataclass(frozen=True)
class Transport:
    """Where and how to deliver mail; `directory` is set only for `file`."""

    scheme: str  # smtp | smtps | file
    host: str = ""
    port: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = DEFAULT_TIMEOUT
    helo: str | None = None  # name sent in EHLO; None lets smtplib use the host's FQDN
    directory: Path | None = None

    @property
    def redacted(self) -> str:
        """The URL without its password, for logs and error messages."""
        if self.scheme == "file":
            return f"file://{self.directory}"
        user = f"{self.username}:***@" if self.username is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "?starttls=1" if self.starttls else ""
        return f"{self.scheme}://{user}{host}:{self.port}{query}"


def parse_transport(url: str) -> Transport:
    """Parse `VEILLE_SMTP_URL`; raise `ConfigError` naming the problem (never the password)."""
    shown = _redact(url)
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise ConfigError(f"VEILLE_SMTP_URL {shown!r} is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme == "file":
        return _parse_file(parts.netloc, parts.path, parts.query, shown)
    if scheme not in DEFAULT_PORTS:
        raise ConfigError(
            f"VEILLE_SMTP_URL {shown!r} must start with smtp://, smtps:// or file://."
        )
    host = parts.hostname or ""
    if not host:
        raise ConfigError(f"VEILLE_SMTP_URL {shown!r} names no mail server host.")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ConfigError(
            f"VEILLE_SMTP_URL {shown!r} has an invalid port (expected 1 to 65535)."
        ) from None
    if parts.path not in ("", "/"):
        raise ConfigError(f"VEILLE_SMTP_URL {shown!r} must not have a path after the host.")
    params = _query(parts.query, shown)
    unknown = sorted(set(params) - _SMTP_PARAMS)
    if unknown:
        raise ConfigError(
            f"VEILLE_SMTP_URL {shown!r} has an unknown parameter {unknown[0]!r} "
            "(known: starttls, timeout, helo)."
        )
    starttls = _flag(params.get("starttls", ""), "starttls", shown)
    if starttls and scheme == "smtps":
        raise ConfigError(
            f"VEILLE_SMTP_URL {shown!r}: smtps:// is already encrypted, drop ?starttls."
        )
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ConfigError(f"VEILLE_SMTP_URL {shown!r} has a password but no user name.")
    return Transport(
        scheme=scheme,
        host=host,
        port=port,
        username=username or None,
        password=password if username else None,
        starttls=starttls,
        timeout=_timeout(params.get("timeout"), shown),
        helo=params.get("helo") or None,
    )


def _parse_file(netloc: str, path: str, query: str, shown: str) -> Transport:
    if netloc not in ("", "localhost"):
        raise ConfigError(
            f"VEILLE_SMTP_URL {shown!r}: a file URL names a local directory, "
            "as in file:///var/tmp/mails."
        )
    if query:
        raise ConfigError(f"VEILLE_SMTP_URL {shown!r}: a file URL takes no parameters.")
    if not path:
        raise ConfigError(f"VEILLE_SMTP_URL {shown!r} names no directory.")
    return Transport(scheme="file", directory=Path(unquote(path)))


def _query(query: str, shown: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigError(f"VEILLE_SMTP_URL {shown!r} has a malformed query string.") from None
    return {key.lower(): value for key, value in pairs}


def _flag(value: str, name: str, shown: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"VEILLE_SMTP_URL {shown!r}: {name} must be 1/true or 0/false.")


def _timeout(value: str | None, shown: str) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise ConfigError(
            f"VEILLE_SMTP_URL {shown!r}: timeout must be a number of seconds (0 to 3600)."
        )
    return seconds


def _redact(url: str) -> str:
    """Hide whatever stands between the first ':' of the user info and the last '@'."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return "<not shown>" if "@" in url else url
    authority_end = len(rest)
    for stop in "/?#":
        index = rest.find(stop, 0 if "@" not in rest else rest.rfind("@"))
        if index != -1:
            authority_end = min(authority_end, index)
    authority, tail = rest[:authority_end], rest[authority_end:]
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        return url.strip()
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{hostport}{tail}"
