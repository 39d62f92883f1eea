"""The web app served by a real uvicorn, with a real SMTP server (aiosmtpd) catching its
mail: what the members' tests drive."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import free_socket, serve
from tests.smtp_server import SmtpTestServer
from veille.config import Settings
from veille.db.engine import make_engine, session_factory, upgrade
from veille.newsletter.send import send_edition


@dataclass
class MemberSite:
    base_url: str
    settings: Settings
    smtp: SmtpTestServer
    sessions: sessionmaker[Session]
    client: httpx.Client

    def form_token(self, path: str) -> str:
        """GET a page with a form (setting the CSRF cookie) and return its csrf field."""
        response = self.client.get(path)
        assert response.status_code == 200, response.text
        values = lxml_html.fromstring(response.content).xpath('//input[@name="csrf"]/@value')
        assert values, f"no csrf field on {path}"
        return str(values[0])

    def subscribe(self, **fields: Any) -> httpx.Response:
        token = self.form_token("/abonnement")
        data: dict[str, Any] = {"csrf": token, "name": "", "organisation": "", **fields}
        return self.client.post("/abonnement", data=data)

    def wait_for_mail(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Mails leave after the response (a background task): wait until `count` arrived."""
        deadline = time.monotonic() + timeout
        while len(self.smtp.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mails, got {len(self.smtp.messages)}")
            time.sleep(0.02)  # another thread delivers: no clock to inject
        return [received.message for received in self.smtp.messages]


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage, path_prefix: str) -> str:
    """The first link of the text part whose path starts with `path_prefix`."""
    found = re.search(rf"https?://\S+{re.escape(path_prefix)}\S+", text_part(message))
    assert found, f"no {path_prefix} link in:\n{text_part(message)}"
    return found.group(0)


class ThreadSends:
    """The desk's « send now » for a site with an injected clock: the app's own worker is a
    process, which cannot share the test's clock (its links would be stamped at the real
    time, which that clock may call the future), so the same `send_edition` runs in a
    thread with that clock instead. `join` waits for every send started."""

    def __init__(
        self, sessions: sessionmaker[Session], settings: Settings, clock: Callable[[], datetime]
    ) -> None:
        self.sessions, self.settings, self.clock = sessions, settings, clock
        self.threads: list[threading.Thread] = []

    def __call__(self, number: int, actor: str) -> None:
        def send() -> None:
            send_edition(self.sessions, self.settings, number, actor=actor, clock=self.clock)

        thread = threading.Thread(target=send, name=f"test-send-{number}", daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self, timeout: float = 30.0) -> None:
        for thread in self.threads:
            thread.join(timeout)


@contextmanager
def running_members_site(
    settings: Settings, clock: Callable[[], datetime] | None = None
) -> Iterator[MemberSite]:
    """The app with `settings` (and `clock`, when given) on a free port; without a clock,
    a desk's « send now » runs in a real worker process, as in production."""
    from veille.web.app import create_app

    sock = free_socket()
    host, port = sock.getsockname()[:2]
    base_url = f"http://{host}:{port}"
    with SmtpTestServer() as smtp:
        site_settings = settings.model_copy(update={"base_url": base_url, "smtp_url": smtp.url})
        engine = make_engine(site_settings.database_url)
        upgrade(engine)
        sessions = session_factory(engine)
        sends = ThreadSends(sessions, site_settings, clock) if clock is not None else None
        app = create_app(site_settings, clock=clock, send_starter=sends)
        with serve(app, sock), httpx.Client(base_url=base_url, timeout=30) as client:
            yield MemberSite(base_url, site_settings, smtp, sessions, client)
            if sends is not None:
                sends.join()
        engine.dispose()
