"""Hand messages to the mail server (or to files), behind one small `Sender` interface.

`SmtpSender` keeps one connection open across messages (the newsletter needs hundreds a
second, and a connection costs a handshake, maybe TLS and a login). Failures are sorted the
way SMTP defines them: a 4xx reply, a dropped connection or a timeout is temporary and
retried with exponential backoff; a 5xx reply is permanent and raised at once, leaving the
connection usable for the next message. A connection the server closed while idle is
reopened once without counting as a failed attempt.

A message is at-least-once: when the connection dies after the server received the data but
before it answered, the retry delivers it again. SMTP offers no way to tell.

`FileSender` writes `.eml` files instead, for trials (`VEILLE_SMTP_URL=file:///dir`).
"""

from __future__ import annotations

import base64
import os
import re
import smtplib
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import getaddresses
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from veille.errors import PermanentMailError, TemporaryMailError
from veille.mail.transport import Transport, parse_transport

if TYPE_CHECKING:
    from veille.config import Settings


class Sender(Protocol):
    """Delivers messages one at a time; `close()` (or leaving the `with`) frees resources."""

    def send(
        self, msg: EmailMessage, data: bytes | None = None, *, mail_from: str | None = None
    ) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _Closing:
    """`with sender:` closes it, whatever happened inside."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Throttle:
    """Spaces calls `1/rate` seconds apart, without sleeping when the caller is slower.

    The next slot is counted from the later of the previous slot and now, so an idle pause
    does not turn into a burst afterwards.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


@dataclass(frozen=True)
class _Failure:
    temporary: bool
    dropped: bool  # the connection is gone (reopen before the next try)
    code: int | None
    text: str
    recipients: tuple[str, ...] = ()


class SmtpSender(_Closing):
    """One lazily opened, reused SMTP connection with retries; safe to share between threads
    (sends are serialised)."""

    def __init__(
        self,
        transport: Transport,
        *,
        rate: float | None = None,
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if transport.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SmtpSender needs an smtp or smtps transport, not {transport}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.transport = transport
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._ssl_context = ssl_context
        self._sleep = sleep
        self._throttle = Throttle(rate, clock=clock, sleep=sleep) if rate else None
        self._conn: smtplib.SMTP | None = None
        self._lock = threading.Lock()
        self.connections_opened = 0  # for tests and send reports

    def send(
        self, msg: EmailMessage, data: bytes | None = None, *, mail_from: str | None = None
    ) -> None:
        """Deliver `msg` to its To/Cc/Bcc recipients, or raise a `MailError` subclass.

        `data`, when given, is `msg` already serialised (the newsletter's fast path:
        `veille.newsletter.message.message_bytes`, ~20x faster than the email package);
        it is sent as is, so it must not carry a Bcc header. `mail_from` is the envelope
        sender (SMTP MAIL FROM, where bounces go: the newsletter's VERP address); by default
        the From address."""
        envelope = _envelope(msg, mail_from) if data is not None else None
        with self._lock:
            if self._throttle is not None:
                self._throttle.wait()
            attempt = 0
            reopened = False
            while True:
                attempt += 1
                reused = self._conn is not None
                try:
                    if envelope is not None and data is not None:
                        refused = self._connection().sendmail(envelope[0], envelope[1], data)
                    else:
                        refused = self._connection().send_message(msg, from_addr=mail_from)
                except (smtplib.SMTPException, OSError) as exc:
                    failure = _classify(exc)
                    if failure.dropped or (self._conn is not None and self._conn.sock is None):
                        self._discard()
                    if failure.dropped and reused and not reopened:
                        # The server closed the idle connection: reopen now, not an attempt.
                        reopened = True
                        attempt -= 1
                        continue
                    if not failure.temporary:
                        raise PermanentMailError(
                            self._describe(failure, msg, "refused"),
                            code=failure.code,
                            recipients=failure.recipients,
                        ) from exc
                    if attempt >= self.max_attempts:
                        raise TemporaryMailError(
                            self._describe(failure, msg, f"failed {attempt} times"),
                            code=failure.code,
                            recipients=failure.recipients,
                        ) from exc
                    self._sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
                    continue
                if refused:
                    # Accepted for the others: retrying would send it to them twice.
                    first_code, _ = next(iter(refused.values()))
                    raise PermanentMailError(
                        f"The mail server {self.transport.redacted} refused "
                        f"{', '.join(sorted(refused))} for {_msgid(msg)} "
                        f"({_replies(refused)}); the other recipients got it.",
                        code=first_code,
                        recipients=tuple(sorted(refused)),
                    )
                return

    def close(self) -> None:
        """Say QUIT and drop the connection (the next `send` opens a new one)."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    conn.quit()
                except (smtplib.SMTPException, OSError):
                    conn.close()

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> smtplib.SMTP:
        t = self.transport
        conn: smtplib.SMTP
        if t.scheme == "smtps":
            conn = smtplib.SMTP_SSL(
                t.host,
                t.port,
                local_hostname=t.helo,
                timeout=t.timeout,
                context=self._tls_context(),
            )
        else:
            conn = smtplib.SMTP(t.host, t.port, local_hostname=t.helo, timeout=t.timeout)
        self.connections_opened += 1
        try:
            conn.ehlo_or_helo_if_needed()
            if t.starttls:
                conn.starttls(context=self._tls_context())
                conn.ehlo()
            if t.username is not None:
                _login(conn, t.username, t.password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _describe(self, failure: _Failure, msg: Message, outcome: str) -> str:
        code = f"{failure.code} " if failure.code is not None else ""
        return (
            f"Sending {_msgid(msg)} to {', '.join(_recipients(msg)) or '(no recipient)'} "
            f"through {self.transport.redacted} {outcome}: {code}{failure.text}"
        )


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """`conn.login()`, except that non-ASCII credentials go as UTF-8 AUTH PLAIN (RFC 4616):
    smtplib encodes them as ASCII and would fail on a password such as "clé"."""
    if (user + password).isascii():
        conn.login(user, password)
        return
    mechanisms = conn.esmtp_features.get("auth", "").upper().split()
    if "PLAIN" not in mechanisms:
        raise smtplib.SMTPNotSupportedError(
            "the server offers no AUTH PLAIN, needed for a non-ASCII user name or password"
        )
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
    code, reply = conn.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _classify(exc: BaseException) -> _Failure:
    """Temporary or permanent, the way RFC 5321 reply classes say (4xx vs 5xx)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = exc.recipients
        if not refused:
            return _Failure(False, False, None, "the message names no recipient")
        codes = [code for code, _ in refused.values()]
        permanent = [code for code in codes if not _is_temporary(code)]
        return _Failure(
            temporary=not permanent,
            dropped=False,
            code=(permanent or codes)[0] if codes else None,
            text=f"every recipient was refused ({_replies(refused)})",
            recipients=tuple(sorted(refused)),
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _Failure(True, True, None, f"the server closed the connection ({exc})")
    if isinstance(exc, smtplib.SMTPResponseException):
        text = _text(exc.smtp_error)
        recipients: tuple[str, ...] = ()
        if isinstance(exc, smtplib.SMTPSenderRefused):
            text = f"sender {exc.sender} refused: {text}"
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            text = f"login refused: {text}"
        return _Failure(_is_temporary(exc.smtp_code), False, exc.smtp_code, text, recipients)
    if isinstance(exc, smtplib.SMTPException):
        # Missing STARTTLS / AUTH / SMTPUTF8 support, no usable login method: configuration.
        return _Failure(False, False, None, str(exc))
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return _Failure(True, True, None, f"the TLS connection was cut ({exc})")
    if isinstance(exc, ssl.SSLError):
        return _Failure(False, True, None, f"TLS failed ({exc})")
    if isinstance(exc, TimeoutError):
        return _Failure(True, True, None, "the server did not answer in time")
    return _Failure(True, True, None, f"network error ({exc})")


def _is_temporary(code: int) -> bool:
    """4xx is temporary, 5xx permanent; anything odd (-1, 1xx...) is given another try."""
    return not 500 <= code < 600


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _replies(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{rcpt}: {code} {_text(text)}" for rcpt, (code, text) in refused.items())


def _msgid(msg: Message) -> str:
    return str(msg.get("Message-ID", "")).strip() or "a message without Message-ID"


def _envelope(msg: Message, mail_from: str | None = None) -> tuple[str, list[str]]:
    """MAIL FROM (`mail_from` when given) and RCPT TO as `smtplib.send_message` would
    compute them."""
    sender = getaddresses([str(msg.get("Sender") or msg.get("From") or "")])
    recipients = [
        address
        for _, address in getaddresses(
            [str(v) for name in ("To", "Cc", "Bcc") for v in msg.get_all(name, [])]
        )
        if address
    ]
    return mail_from or (sender[0][1] if sender else ""), recipients


def _recipients(msg: Message) -> list[str]:
    return [str(value) for name in ("To", "Cc") for value in msg.get_all(name, [])]


class FileSender(_Closing):
    """Writes each message to `<directory>/<Message-ID>.eml`, atomically (tmp + rename), so a
    reader never sees half a file and sending the same message twice leaves one file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.written: list[Path] = []

    def send(
        self, msg: EmailMessage, data: bytes | None = None, *, mail_from: str | None = None
    ) -> None:
        """Write the message; `mail_from` (an envelope detail) has no place in a file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{_file_stem(msg)}.eml"
        data = data if data is not None else msg.as_bytes(policy=SMTP)
        fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".eml.tmp")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        self.written.append(target)

    def close(self) -> None:
        """Nothing to free; here to honour the `Sender` interface."""


_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=-]+")


def _file_stem(msg: Message) -> str:
    """A file name from the Message-ID: only safe characters, no leading dot, bounded."""
    raw = str(msg.get("Message-ID", "")).strip().strip("<>")
    stem = _UNSAFE.sub("_", raw).lstrip(".")[:180]
    return stem or uuid.uuid4().hex


def make_sender(settings: Settings, *, rate: float | None = None) -> SmtpSender | FileSender:
    """The sender `VEILLE_SMTP_URL` asks for. `rate` (messages/s, e.g. `settings.send_rate`
    for the newsletter) throttles SMTP sends; a one-off confirmation mail needs none."""
    transport = parse_transport(settings.smtp_url)
    if transport.directory is not None:
        return FileSender(transport.directory)
    return SmtpSender(transport, rate=rate if rate and rate > 0 else None)
