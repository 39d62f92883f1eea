"""A real local SMTP server (aiosmtpd) for any test that sends mail.

    with SmtpTestServer() as server:
        send_something(smtp_url=server.url)
        assert server.messages[0].message["Subject"] == "Bonjour"
        assert server.connections == 1

It listens on a free port of 127.0.0.1 in aiosmtpd's own thread and keeps every accepted
message as a `Received` (envelope + parsed `EmailMessage`, policy default). Knobs to make it
misbehave, all thread-safe and usable while it runs:

    server.fail_next(2)                     the next 2 messages get `451 4.3.0 ...` at DATA
    server.reject("nobody@example.org")     that recipient gets `550 5.1.1 ...` at RCPT
    server.drop_connections()               closes every open client connection (idle drop)
    server.restart()                        stops and starts again on the same port
    server.hold_after(k, waiting=2)         store k more messages, then hold every DATA
                                            unanswered and unstored; `server.held` is set
                                            once `waiting` are held; `release()` drops them
    SmtpTestServer(auth=("user", "pass"))   advertises AUTH; MAIL without login gets 530
    SmtpTestServer(tls_context=ctx)         offers STARTTLS (`starttls_url`)
    SmtpTestServer(tls_context=ctx, implicit_tls=True)   TLS from the first byte (smtps)

`connections` counts client connections (a STARTTLS upgrade is not a new one), so a test can
assert that a sender reuses its connection.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from types import TracebackType
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes


class SmtpTestServer:
    """See the module docstring."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        auth: tuple[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        if implicit_tls and tls_context is None:
            raise ValueError("implicit_tls needs a tls_context")
        self.host = host
        self.port = _free_port(host)
        self.auth = auth
        self.tls_context = tls_context
        self.implicit_tls = implicit_tls
        self._lock = threading.Lock()
        self._messages: list[Received] = []
        self._connections = 0
        self._live: set[asyncio.BaseTransport] = set()
        self._fail_next = 0
        self._fail_reply = ""
        self._rejected: dict[str, str] = {}
        self._hold_at: int | None = None  # hold DATA once this many messages are stored
        self._hold_waiting = 1
        self._holding = 0
        self.held = threading.Event()
        self._release = threading.Event()
        self.auth_attempts: list[tuple[str, bool]] = []  # (user name, accepted)
        self._controller: _Controller | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> SmtpTestServer:
        if self._controller is not None:
            raise RuntimeError("server already running")
        kwargs: dict[str, Any] = {}
        if self.tls_context is not None and self.implicit_tls:
            kwargs["ssl_context"] = self.tls_context
        elif self.tls_context is not None:
            kwargs["tls_context"] = self.tls_context
        if self.auth is not None:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_require_tls"] = False
        controller = _Controller(
            self,
            _Handler(self),
            hostname=self.host,
            port=self.port,
            server_hostname="smtp.test",
            ready_timeout=10.0,
            **kwargs,
        )
        controller.start()
        # Controller.start() opens a connection of its own to check the server is up.
        with self._lock:
            self._connections = 0
        self._controller = controller
        return self

    def stop(self) -> None:
        self.release()
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
        with self._lock:
            self._live.clear()

    def restart(self) -> None:
        """Stop (closing every connection) and listen again on the same port."""
        self.stop()
        self.start()

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what a test reads -------------------------------------------------------------
    @property
    def url(self) -> str:
        """`smtp://` (or `smtps://`) URL of this server, with the credentials when AUTH is on."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = ""
        if self.auth is not None:
            user = f"{quote(self.auth[0], safe='')}:{quote(self.auth[1], safe='')}@"
        return f"{scheme}://{user}{self.host}:{self.port}"

    @property
    def starttls_url(self) -> str:
        return f"{self.url}?starttls=1"

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._live)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._connections = 0

    # -- knobs -------------------------------------------------------------------------
    def fail_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer `reply` (a 4xx or 5xx line) to the DATA of the next `count` messages."""
        with self._lock:
            self._fail_next = count
            self._fail_reply = reply

    def reject(self, *addresses: str, reply: str = "550 5.1.1 No such user here") -> None:
        """Refuse these recipients at RCPT TO (case-insensitive) until `accept()`."""
        with self._lock:
            for address in addresses:
                self._rejected[address.lower()] = reply

    def accept(self, *addresses: str) -> None:
        with self._lock:
            for address in addresses:
                self._rejected.pop(address.lower(), None)

    def hold_after(self, count: int, *, waiting: int = 1) -> None:
        """Accept `count` more messages, then hold every following DATA: never answered,
        never stored. `held` is set when `waiting` of them are held (one per client
        connection: every client is then stuck mid-message, with everything before it
        answered). `release()` lets them go without storing them (their client, likely
        killed meanwhile, has no answer to wait for)."""
        with self._lock:
            self._hold_at = len(self._messages) + count
            self._hold_waiting = waiting
            self._holding = 0
        self.held.clear()
        self._release.clear()

    def release(self) -> None:
        """End `hold_after`: held messages are dropped (451), the next ones accepted."""
        with self._lock:
            self._hold_at = None
        self._release.set()

    async def _hold_if_asked(self) -> bool:
        with self._lock:
            if self._hold_at is None or len(self._messages) < self._hold_at:
                return False
            self._holding += 1
            if self._holding >= self._hold_waiting:
                self.held.set()
        while not self._release.is_set():
            await asyncio.sleep(0.01)
        return True

    def drop_connections(self) -> None:
        """Close every client connection, as a server does with idle ones."""
        controller = self._controller
        if controller is None:
            return
        done = threading.Event()

        def close_all() -> None:
            with self._lock:
                live = list(self._live)
            for transport in live:
                transport.close()
            done.set()

        controller.loop.call_soon_threadsafe(close_all)
        done.wait(5)

    # -- called from the server thread -------------------------------------------------
    def _connected(self, transport: asyncio.BaseTransport) -> None:
        with self._lock:
            self._connections += 1
            self._live.add(transport)

    def _disconnected(self, transport: asyncio.BaseTransport | None) -> None:
        with self._lock:
            self._live.discard(transport)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or self.auth is None:
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", "replace")
        password = data.password.decode("utf-8", "replace")
        ok = (user, password) == self.auth
        with self._lock:
            self.auth_attempts.append((user, ok))
        # handled=False makes aiosmtpd answer 535 itself (True would leave it silent).
        return AuthResult(success=ok, handled=False)

    def _rcpt_reply(self, address: str) -> str | None:
        with self._lock:
            return self._rejected.get(address.lower())

    def _data_reply(self, envelope: Envelope) -> str:
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                return self._fail_reply
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        parsed = BytesParser(policy=default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        received = Received(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=parsed,
            raw=raw,
        )
        with self._lock:
            self._messages.append(received)
        return "250 2.0.0 Message accepted for delivery"


class _Handler:
    def __init__(self, owner: SmtpTestServer) -> None:
        self.owner = owner

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.owner.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.owner._rcpt_reply(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if await self.owner._hold_if_asked():
            return "451 4.3.0 Held by the test and dropped"
        return self.owner._data_reply(envelope)


class _CountingSMTP(SMTP):
    """aiosmtpd's protocol, reporting connections to the owner (STARTTLS re-enters
    `connection_made` on the same connection: not counted twice)."""

    def __init__(self, owner: SmtpTestServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        upgrade = self._original_transport is not None
        super().connection_made(transport)
        if not upgrade:
            self._owner._connected(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._owner._disconnected(self._original_transport or self.transport)
        super().connection_lost(error)


class _Controller(Controller):
    def __init__(self, owner: SmtpTestServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner = owner

    def factory(self) -> SMTP:
        return _CountingSMTP(self._owner, self.handler, **self.SMTP_kwargs)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
