"""The mail layer against a real local SMTP server (tests/smtp_server.py) and real files."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from tests.smtp_server import SmtpTestServer
from veille.config import get_settings
from veille.errors import ConfigError, MailError, PermanentMailError, TemporaryMailError
from veille.mail import (
    FileSender,
    SmtpSender,
    Throttle,
    as_address,
    build_message,
    make_sender,
    parse_transport,
)

FROM = "Veille OpenDataFrance <veille@opendatafrance.example>"
SUBJECT = "Confirmez votre inscription à la veille — « données d'intérêt général »"


def message(to: str | Address = "alice@example.org", **kwargs: object) -> EmailMessage:
    fields: dict[str, object] = {
        "sender": FROM,
        "to": to,
        "subject": SUBJECT,
        "text": "Bonjour,\n\nCliquez sur le lien pour confirmer. Merci !\n",
        "html": "<p>Bonjour,</p><p>Cliquez <a href='https://x.example/c'>ici</a>. Merci !</p>",
    }
    fields.update(kwargs)
    return build_message(**fields)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


def smtp_sender(url: str, sleeps: list[float], **kwargs: object) -> SmtpSender:
    return SmtpSender(parse_transport(url), sleep=sleeps.append, **kwargs)  # type: ignore[arg-type]


# -- URL ---------------------------------------------------------------------------------


def test_url_defaults_and_schemes() -> None:
    plain = parse_transport("smtp://mail.example.org")
    assert (plain.scheme, plain.host, plain.port, plain.starttls) == (
        "smtp",
        "mail.example.org",
        25,
        False,
    )
    assert plain.username is None and plain.password is None
    assert parse_transport("SMTPS://mail.example.org").port == 465
    assert parse_transport("smtp://[::1]:2525").host == "::1"
    files = parse_transport("file:///var/tmp/mails")
    assert files.scheme == "file" and files.directory == Path("/var/tmp/mails")


def test_url_credentials_are_decoded_and_never_shown() -> None:
    url = "smtp://us%40er:p%40ss%2Fw%3Ard@mail.example.org:587?starttls=true&timeout=5&helo=odf"
    transport = parse_transport(url)
    assert transport.username == "us@er"
    assert transport.password == "p@ss/w:rd"
    assert transport.port == 587 and transport.starttls and transport.timeout == 5.0
    assert transport.helo == "odf"
    assert "p@ss" not in repr(transport) and "p%40ss" not in repr(transport)
    assert transport.redacted == "smtp://us@er:***@mail.example.org:587?starttls=1"
    assert parse_transport("smtp://h?starttls=1").starttls
    assert not parse_transport("smtp://h?starttls=0").starttls


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://u:s3cr3t@mail.example.org", "smtp://, smtps:// or file://"),
        ("smtp://u:s3cr3t@", "no mail server host"),
        ("smtp://u:s3cr3t@mail.example.org:99999", "invalid port"),
        ("smtp://u:s3cr3t@mail.example.org:abc", "invalid port"),
        ("smtp://u:s3cr3t@mail.example.org?starttls=maybe", "starttls must be"),
        ("smtp://u:s3cr3t@mail.example.org?tls=1", "unknown parameter 'tls'"),
        ("smtp://u:s3cr3t@mail.example.org?timeout=-3", "timeout must be"),
        ("smtps://u:s3cr3t@mail.example.org?starttls=1", "already encrypted"),
        ("smtp://u:s3cr3t@mail.example.org/inbox", "must not have a path"),
        ("smtp://:s3cr3t@mail.example.org", "password but no user name"),
        ("smtp://u:s3/cr3t@mail.example.org", "invalid port"),
        ("file://elsewhere/tmp/mails", "local directory"),
        ("file:///tmp/mails?x=1", "takes no parameters"),
    ],
)
def test_bad_url_is_a_config_error_without_the_password(url: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_transport(url)
    text = str(caught.value)
    assert expected in text
    assert "VEILLE_SMTP_URL" in text
    assert "s3cr3t" not in text and "cr3t" not in text


# -- message -----------------------------------------------------------------------------


def test_message_is_multipart_alternative_with_encoded_headers() -> None:
    msg = message(
        to=Address("Élodie Dupré", addr_spec="elodie@example.org"),
        headers={"List-Unsubscribe": "<https://x.example/u/abc>"},
    )
    assert msg.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    raw = msg.as_bytes()
    head = raw.split(b"\n\n", 1)[0]
    head.decode("ascii")  # every header is 7-bit: accents travel as encoded words
    assert b"=?utf-8?" in head
    raw.decode("ascii")  # bodies too (quoted-printable)

    back = message_from_bytes(raw, policy=default)
    assert isinstance(back, EmailMessage)
    assert back["Subject"] == SUBJECT
    assert back["To"].addresses[0].display_name == "Élodie Dupré"
    assert back["From"].addresses[0].addr_spec == "veille@opendatafrance.example"
    assert back["From"].addresses[0].display_name == "Veille OpenDataFrance"
    assert back["Message-ID"].endswith("@opendatafrance.example>")
    assert parsedate_to_datetime(back["Date"]).tzinfo is not None
    assert back["List-Unsubscribe"] == "<https://x.example/u/abc>"
    text = back.get_body(("plain",))
    html = back.get_body(("html",))
    assert text is not None and html is not None
    assert "Merci !" in text.get_content()
    assert text.get_content_charset() == "utf-8"
    assert "<a href='https://x.example/c'>ici</a>" in html.get_content()


def test_message_text_only_and_explicit_domain() -> None:
    msg = message(html=None, domain="lists.example.net")
    assert msg.get_content_type() == "text/plain"
    assert msg["Message-ID"].endswith("@lists.example.net>")
    assert message()["Message-ID"] != message()["Message-ID"]


def test_message_refuses_header_injection_and_owned_headers() -> None:
    with pytest.raises(ValueError):
        message(subject="Bonjour\r\nBcc: victim@example.org")
    with pytest.raises(ValueError, match="sets the Subject header itself"):
        message(headers={"Subject": "autre"})
    with pytest.raises(ValueError):
        as_address("pas une adresse")
    with pytest.raises(ValueError):
        as_address("a@example.org, b@example.org")
    assert as_address("Zoé <zoe@example.org>").display_name == "Zoé"


# -- SMTP --------------------------------------------------------------------------------


def test_smtp_delivers_with_the_right_envelope(server: SmtpTestServer, sleeps: list[float]) -> None:
    with smtp_sender(server.url, sleeps) as sender:
        sender.send(message(to="Élodie Dupré <elodie@example.org>"))
    [got] = server.messages
    assert got.mail_from == "veille@opendatafrance.example"
    assert got.rcpt_tos == ("elodie@example.org",)
    assert got.message["Subject"] == SUBJECT
    assert got.message["To"].addresses[0].display_name == "Élodie Dupré"
    body = got.message.get_body(("plain",))
    assert body is not None and "Cliquez sur le lien" in body.get_content()
    assert sleeps == []
    deadline = time.monotonic() + 5
    while server.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.open_connections == 0  # close() said QUIT


def test_smtp_reuses_one_connection(server: SmtpTestServer, sleeps: list[float]) -> None:
    with smtp_sender(server.url, sleeps) as sender:
        for n in range(50):
            sender.send(message(to=f"member{n}@example.org"))
        assert sender.connections_opened == 1
    assert len(server.messages) == 50
    assert server.connections == 1
    assert sorted(m.rcpt_tos[0] for m in server.messages) == sorted(
        f"member{n}@example.org" for n in range(50)
    )
    assert sleeps == []


def test_temporary_failure_is_retried_then_delivered_once(
    server: SmtpTestServer, sleeps: list[float]
) -> None:
    server.fail_next(2)
    with smtp_sender(server.url, sleeps) as sender:
        sender.send(message())
    assert len(server.messages) == 1
    assert sleeps == [1.0, 2.0]  # exponential backoff through the injected sleep
    assert server.connections == 1  # a 4xx reply leaves the connection usable


def test_temporary_failure_gives_up_after_max_attempts(
    server: SmtpTestServer, sleeps: list[float]
) -> None:
    server.fail_next(10, reply="452 4.3.1 Insufficient system storage")
    sender = smtp_sender(server.url, sleeps, max_attempts=3)
    with sender, pytest.raises(TemporaryMailError) as caught:
        sender.send(message())
    assert caught.value.code == 452
    assert "failed 3 times" in str(caught.value)
    assert "Insufficient system storage" in str(caught.value)
    assert sleeps == [1.0, 2.0]
    assert server.messages == []


def test_permanent_failure_raises_and_connection_stays_usable(
    server: SmtpTestServer, sleeps: list[float]
) -> None:
    server.reject("ghost@example.org")
    with smtp_sender(server.url, sleeps) as sender:
        with pytest.raises(PermanentMailError) as caught:
            sender.send(message(to="ghost@example.org"))
        sender.send(message(to="alice@example.org"))
    error = caught.value
    assert isinstance(error, MailError)
    assert error.code == 550
    assert error.recipients == ("ghost@example.org",)
    assert "ghost@example.org" in str(error) and "No such user" in str(error)
    assert sleeps == []
    assert [m.rcpt_tos for m in server.messages] == [("alice@example.org",)]
    assert server.connections == 1


def test_permanent_data_reply_is_not_retried(server: SmtpTestServer, sleeps: list[float]) -> None:
    server.fail_next(1, reply="554 5.6.0 Message rejected as spam")
    with smtp_sender(server.url, sleeps) as sender:
        with pytest.raises(PermanentMailError, match="rejected as spam") as caught:
            sender.send(message())
        sender.send(message())
    assert caught.value.code == 554
    assert sleeps == []
    assert len(server.messages) == 1


def test_message_without_recipient_is_permanent(
    server: SmtpTestServer, sleeps: list[float]
) -> None:
    msg = message()
    del msg["To"]
    sender = smtp_sender(server.url, sleeps)
    with sender, pytest.raises(PermanentMailError, match="no recipient"):
        sender.send(msg)
    assert sleeps == []
    assert server.messages == []


def test_partial_refusal_is_permanent_and_not_resent(
    server: SmtpTestServer, sleeps: list[float]
) -> None:
    server.reject("ghost@example.org")
    msg = message()
    msg.replace_header("To", "alice@example.org, ghost@example.org")
    sender = smtp_sender(server.url, sleeps)
    with sender, pytest.raises(PermanentMailError, match="other recipients got it") as caught:
        sender.send(msg)
    assert caught.value.recipients == ("ghost@example.org",)
    assert [m.rcpt_tos for m in server.messages] == [("alice@example.org",)]


def test_dropped_connection_is_reopened_without_backoff(
    server: SmtpTestServer, sleeps: list[float]
) -> None:
    with smtp_sender(server.url, sleeps) as sender:
        sender.send(message())
        server.drop_connections()
        sender.send(message())
        server.restart()
        sender.send(message())
        assert sender.connections_opened == 3
    assert len(server.messages) == 3
    assert sleeps == []


def test_unreachable_server_is_temporary(server: SmtpTestServer, sleeps: list[float]) -> None:
    url = server.url
    server.stop()
    with smtp_sender(url, sleeps, max_attempts=3) as sender:
        with pytest.raises(TemporaryMailError, match="failed 3 times") as caught:
            sender.send(message())
        assert caught.value.code is None
        assert sleeps == [1.0, 2.0]
        server.start()  # back up: the same sender recovers
        sender.send(message())
    assert len(server.messages) == 1


def test_auth_login() -> None:
    credentials = ("veille", "mot de passe:é/@")
    with SmtpTestServer(auth=credentials) as server, smtp_sender(server.url, []) as sender:
        assert "%40" in server.url  # the password travels percent-encoded in the URL
        sender.send(message())
        sender.send(message())
        assert server.auth_attempts == [("veille", True)]  # one login per connection
        assert len(server.messages) == 2


def test_auth_refused_or_missing_is_permanent(sleeps: list[float]) -> None:
    with SmtpTestServer(auth=("veille", "right")) as server:
        wrong = f"smtp://veille:wrong@{server.host}:{server.port}"
        with smtp_sender(wrong, sleeps) as sender, pytest.raises(PermanentMailError) as caught:
            sender.send(message())
        assert caught.value.code == 535
        assert "login refused" in str(caught.value)
        assert "wrong" not in str(caught.value)
        anonymous = f"smtp://{server.host}:{server.port}"
        with smtp_sender(anonymous, sleeps) as sender, pytest.raises(PermanentMailError) as caught:
            sender.send(message())
        assert caught.value.code == 530
        assert sleeps == []
        assert server.messages == []


# -- TLS (self-signed certificate made by the openssl command) ---------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def tls_contexts(certificate: tuple[Path, Path]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = certificate
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    client_side = ssl.create_default_context(cafile=str(cert))
    return server_side, client_side


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_tls_with_login(certificate: tuple[Path, Path], implicit: bool) -> None:
    server_side, client_side = tls_contexts(certificate)
    with SmtpTestServer(
        auth=("veille", "secret"), tls_context=server_side, implicit_tls=implicit
    ) as server:
        url = server.url if implicit else server.starttls_url
        assert url.startswith("smtps://" if implicit else "smtp://")
        with smtp_sender(url, [], ssl_context=client_side) as sender:
            sender.send(message())
            sender.send(message())
        assert len(server.messages) == 2
        assert server.connections == 1
        assert server.auth_attempts == [("veille", True)]


def test_untrusted_certificate_is_permanent(certificate: tuple[Path, Path]) -> None:
    server_side, _ = tls_contexts(certificate)
    sleeps: list[float] = []
    with SmtpTestServer(tls_context=server_side) as server:
        sender = smtp_sender(server.starttls_url, sleeps)  # trusts the system CAs only
        with sender, pytest.raises(PermanentMailError, match="TLS failed"):
            sender.send(message())
        assert sleeps == []
        assert server.messages == []


# -- files, throttle, factory ------------------------------------------------------------


def test_file_sender_writes_parseable_eml(tmp_path: Path) -> None:
    folder = tmp_path / "mails"
    first, second = message(), message(to="bob@example.org")
    with FileSender(folder) as sender:
        sender.send(first)
        sender.send(second)
        sender.send(first)  # same Message-ID: same file, rewritten
    files = sorted(folder.iterdir())
    assert len(files) == 2
    assert all(path.suffix == ".eml" and not path.name.startswith(".") for path in files)
    stem = first["Message-ID"].strip("<>")
    assert (folder / f"{stem}.eml").exists()
    back = message_from_bytes((folder / f"{stem}.eml").read_bytes(), policy=default)
    assert back["Subject"] == SUBJECT
    assert back["Message-ID"] == first["Message-ID"]
    assert back.get_content_type() == "multipart/alternative"


def test_file_sender_names_are_safe(tmp_path: Path) -> None:
    msg = message()
    msg.replace_header("Message-ID", "<../../etc/passwd x@evil>")
    sender = FileSender(tmp_path)
    sender.send(msg)
    [path] = sender.written
    assert path.parent == tmp_path
    assert "/" not in path.name and not path.name.startswith(".")
    del msg["Message-ID"]
    sender.send(msg)
    assert len(list(tmp_path.iterdir())) == 2


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_throttle_spaces_messages_without_bursting_after_idle() -> None:
    clock = FakeClock()
    throttle = Throttle(4, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        throttle.wait()
    assert clock.slept == [0.25, 0.25]
    clock.now += 10  # idle: no sleep, and no burst either
    throttle.wait()
    throttle.wait()
    assert clock.slept == [0.25, 0.25, 0.25]
    clock.now += 0.1  # the caller itself took some of the interval
    throttle.wait()
    assert clock.slept[-1] == pytest.approx(0.15)


def test_smtp_sender_throttles(server: SmtpTestServer) -> None:
    clock = FakeClock()
    transport = parse_transport(server.url)
    with SmtpSender(transport, rate=10, clock=clock, sleep=clock.sleep) as sender:
        for _ in range(5):
            sender.send(message())
    assert clock.slept == pytest.approx([0.1] * 4)
    assert len(server.messages) == 5


def test_make_sender_follows_the_url(tmp_path: Path, server: SmtpTestServer) -> None:
    files = make_sender(get_settings(smtp_url=f"file://{tmp_path}/out"))
    assert isinstance(files, FileSender) and files.directory == tmp_path / "out"
    smtp = make_sender(get_settings(smtp_url=server.url), rate=50)
    assert isinstance(smtp, SmtpSender)
    with smtp:
        smtp.send(message())
    assert len(server.messages) == 1
    with pytest.raises(ConfigError):
        make_sender(get_settings(smtp_url="pop3://mail.example.org"))
