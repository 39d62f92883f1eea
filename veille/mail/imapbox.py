"""The bounce mailbox over IMAP (the standard library's imaplib): `VEILLE_BOUNCE_IMAP_URL`
→ a connection, the new messages (size-capped), and marking them done or ignored.

    imap://user:pass@host:143/INBOX             plain (loopback or a trusted network only)
    imap://user:pass@host:143/INBOX?starttls=1  upgraded to TLS before the login
    imaps://user:pass@host:993/INBOX            TLS from the first byte

Done messages are flagged \\Seen, then moved to `VEILLE_BOUNCE_PROCESSED_MAILBOX` (created
if missing; MOVE, or COPY + delete on servers without it) or, when that is empty, deleted
(\\Deleted + EXPUNGE at the end of the run). Messages we cannot use keep their place and
their \\Seen state and get the keyword `VeilleIgnored`, so each is read once, not at every
run, and a person can still look at them.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from veille.errors import ConfigError

IGNORED = "VeilleIgnored"
DEFAULT_PORTS = {"imap": 143, "imaps": 993}
TIMEOUT = 30.0


@dataclass(frozen=True)
class ImapBox:
    scheme: str  # imap | imaps
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    starttls: bool = False

    @property
    def redacted(self) -> str:
        query = "?starttls=1" if self.starttls else ""
        return f"{self.scheme}://{self.username}:***@{self.host}:{self.port}/{self.mailbox}{query}"


def parse_imap_url(url: str) -> ImapBox:
    """Parse `VEILLE_BOUNCE_IMAP_URL`; `ConfigError` names the problem, never the password."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigError("VEILLE_BOUNCE_IMAP_URL is not a valid URL.") from None
    shown = f"{parts.scheme}://{parts.username or ''}@{parts.hostname or ''}{parts.path}"
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ConfigError(f"VEILLE_BOUNCE_IMAP_URL {shown!r} must start with imap:// or imaps://.")
    if not parts.hostname:
        raise ConfigError(f"VEILLE_BOUNCE_IMAP_URL {shown!r} names no server.")
    if not parts.username or parts.password is None:
        raise ConfigError(f"VEILLE_BOUNCE_IMAP_URL {shown!r} needs user:password@ before the host.")
    params = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    unknown = sorted(set(params) - {"starttls"})
    if unknown:
        raise ConfigError(
            f"VEILLE_BOUNCE_IMAP_URL {shown!r} has an unknown parameter {unknown[0]!r}."
        )
    starttls = params.get("starttls", "").strip().lower() in ("1", "true", "yes", "on")
    if starttls and scheme == "imaps":
        raise ConfigError(
            f"VEILLE_BOUNCE_IMAP_URL {shown!r}: imaps:// is already encrypted, drop ?starttls."
        )
    mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
    if any(c in mailbox for c in '\r\n"\\'):
        raise ConfigError(f"VEILLE_BOUNCE_IMAP_URL {shown!r} has an invalid folder name.")
    return ImapBox(
        scheme=scheme,
        host=parts.hostname,
        port=port or DEFAULT_PORTS[scheme],
        username=unquote(parts.username),
        password=unquote(parts.password),
        mailbox=mailbox,
        starttls=starttls,
    )


def connect(box: ImapBox, ssl_context: ssl.SSLContext | None = None) -> imaplib.IMAP4:
    """Logged in, with the mailbox selected read-write."""
    conn: imaplib.IMAP4
    if box.scheme == "imaps":
        context = ssl_context or ssl.create_default_context()
        conn = imaplib.IMAP4_SSL(box.host, box.port, ssl_context=context, timeout=TIMEOUT)
    else:
        conn = imaplib.IMAP4(box.host, box.port, timeout=TIMEOUT)
    try:
        if box.starttls:
            conn.starttls(ssl_context or ssl.create_default_context())
        conn.login(box.username, box.password)
        status, data = conn.select(_quote(box.mailbox))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open the folder {box.mailbox}: {data!r}")
    except BaseException:
        with contextlib.suppress(OSError):
            conn.shutdown()
        raise
    return conn


@dataclass(frozen=True)
class Fetched:
    uid: str
    size: int
    raw: bytes | None  # None when larger than the cap (not downloaded)


def new_messages(conn: imaplib.IMAP4, max_bytes: int, limit: int) -> Iterator[Fetched]:
    """Up to `limit` messages neither deleted nor ignored; bodies over `max_bytes` are not
    downloaded (the server says the size first)."""
    status, data = conn.uid("SEARCH", "UNDELETED", "UNKEYWORD", IGNORED)
    if status != "OK" or not data or not data[0]:
        return
    for uid in data[0].decode("ascii").split()[:limit]:
        status, sized = conn.uid("FETCH", uid, "(RFC822.SIZE)")
        size = _size(sized)
        if status != "OK" or size is None:
            continue
        if size > max_bytes:
            yield Fetched(uid, size, None)
            continue
        status, body = conn.uid("FETCH", uid, "(BODY.PEEK[])")
        raw = next((item[1] for item in body if isinstance(item, tuple)), None)
        if status == "OK" and isinstance(raw, bytes):
            yield Fetched(uid, size, raw[: max_bytes + 1])


def mark_done(conn: imaplib.IMAP4, uid: str, processed_mailbox: str) -> None:
    conn.uid("STORE", uid, "+FLAGS.SILENT", "(\\Seen)")
    if not processed_mailbox:
        conn.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
        return
    target = _quote(processed_mailbox)
    if "MOVE" in conn.capabilities:
        status, _ = conn.uid("MOVE", uid, target)
        if status == "OK":
            return
    status, data = conn.uid("COPY", uid, target)
    if status != "OK":
        raise imaplib.IMAP4.error(f"cannot copy to {processed_mailbox}: {data!r}")
    conn.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")


def mark_ignored(conn: imaplib.IMAP4, uid: str) -> None:
    conn.uid("STORE", uid, "+FLAGS.SILENT", f"({IGNORED})")


def ensure_mailbox(conn: imaplib.IMAP4, name: str) -> None:
    if name:
        conn.create(_quote(name))  # "already exists" is a NO reply, not an exception


def finish(conn: imaplib.IMAP4) -> None:
    """Expunge what was deleted, log out (whatever the server says)."""
    try:
        conn.expunge()
        conn.close()
        conn.logout()
    except (imaplib.IMAP4.error, OSError):
        with contextlib.suppress(OSError):
            conn.shutdown()


def _size(data: list[object]) -> int | None:
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and b"RFC822.SIZE" in line:
            try:
                return int(line.split(b"RFC822.SIZE", 1)[1].strip(b" ()").split()[0])
            except (ValueError, IndexError):
                return None
    return None


def _quote(name: str) -> str:
    return f'"{name}"'
