"""A real IMAP server (Dovecot, from Debian's `dovecot-imapd`) for the bounce-mailbox tests.

    def test_x(imap: ImapTestServer) -> None:
        imap.append(Path("tests/data/bounces/postfix-dsn.eml").read_bytes())
        process(settings.model_copy(update={"bounce_imap_url": imap.url}))
        assert imap.count("INBOX") == 0

Dovecot runs as root from a generated configuration in a temporary directory: loopback only,
a free port, no TLS, one user with a plain password in a passwd-file, Maildir storage under
the temporary directory, its logs in a file there (shown when it fails to start). It is
started once per test session; `reset()` empties the user's mailboxes between tests.

Skipped with a clear reason when `dovecot` is not installed, unless `VEILLE_REQUIRE_IMAP=1`
(CI sets it) turns the absence into a failure.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

USER = "bounces"
PASSWORD = "mot-de-passe-de-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dovecot() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )


MAIL_USER = "dovecot"  # created by the dovecot-core package


def _user_or_root(name: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return "root"
    return name


CONFIG = """\
base_dir = {tmp}/run
state_dir = {tmp}/state
instance_name = veille-test-{port}
listen = 127.0.0.1
protocols = imap
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {tmp}/dovecot.log
info_log_path = {tmp}/dovecot.log
mail_location = maildir:{tmp}/mail/%u
first_valid_uid = 1
default_internal_user = {internal_user}
default_login_user = {login_user}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={tmp}/home/%u
}}
namespace inbox {{
  inbox = yes
  mailbox Trash {{
    special_use = \\Trash
  }}
}}
"""


class ImapTestServer:
    """Dovecot on 127.0.0.1:<port>, user `USER`; see the module docstring."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.tmp = Path(tempfile.mkdtemp(prefix="veille-imap-"))
        self.port = _free_port()
        self.config = self.tmp / "dovecot.conf"
        # TLS (STARTTLS on `port`, implicit on `tls_port`) when openssl can make a
        # self-signed certificate; `tls_port` stays None otherwise.
        self.tls_port: int | None = None
        self.certificate: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    def start(self) -> ImapTestServer:
        self.tmp.chmod(0o755)  # the auth process (user dovecot) reads the passwd-file
        for sub in ("run", "state", "mail", "home"):
            (self.tmp / sub).mkdir()
        (self.tmp / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        ssl_lines = "ssl = no"
        if self._make_certificate():
            self.tls_port = _free_port()
            ssl_lines = f"ssl = yes\nssl_cert = <{self.tmp}/cert.pem\nssl_key = <{self.tmp}/key.pem"
        self.config.write_text(
            CONFIG.format(
                tmp=self.tmp,
                port=self.port,
                tls_port=self.tls_port or 0,
                ssl=ssl_lines,
                # imap-login refuses to run as root: Debian's unprivileged users when present.
                internal_user=_user_or_root("dovecot"),
                login_user=_user_or_root("dovenull"),
                mail_user=MAIL_USER,
            )
        )
        # Dovecot never opens mail as root: the mailboxes belong to an unprivileged user.
        owner = pwd.getpwnam(MAIL_USER)
        for sub in ("mail", "home"):
            os.chown(self.tmp / sub, owner.pw_uid, owner.pw_gid)
        # -F: in the foreground, so the process is ours to stop (no daemon, no pid file).
        self._process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / "stderr.log", "wb"),  # noqa: SIM115 (closed by the child)
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"dovecot did not start: {self._log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError(f"dovecot is not listening on {self.port}: {self._log()}")
        return self

    def _make_certificate(self) -> bool:
        openssl = shutil.which("openssl")
        if openssl is None:
            return False
        cert, key = self.tmp / "cert.pem", self.tmp / "key.pem"
        subprocess.run(
            [
                *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
                *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
                *("-addext", "subjectAltName=IP:127.0.0.1"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.certificate = cert
        return True

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _log(self) -> str:
        logs = [self.tmp / "stderr.log", self.tmp / "dovecot.log"]
        return "".join(p.read_text(errors="replace")[-3000:] for p in logs if p.exists())

    # -- helpers for tests -------------------------------------------------------------
    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        conn = self.client()
        try:
            status, data = conn.append(mailbox, "", None, raw)
            assert status == "OK", data
        finally:
            conn.logout()

    def create(self, mailbox: str) -> None:
        conn = self.client()
        try:
            conn.create(mailbox)
        finally:
            conn.logout()

    def messages(self, mailbox: str = "INBOX") -> list[tuple[bytes, set[str]]]:
        """Every message of the mailbox not flagged \\Deleted: (raw bytes, flags)."""
        conn = self.client()
        try:
            status, _ = conn.select(mailbox, readonly=True)
            if status != "OK":
                return []
            _, data = conn.uid("SEARCH", "UNDELETED")
            out = []
            for uid in data[0].split():
                _, fetched = conn.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                first = fetched[0]
                assert isinstance(first, tuple)
                flags = imaplib.ParseFlags(first[0])
                out.append((first[1], {f.decode() for f in flags}))
            return out
        finally:
            conn.logout()

    def reset(self) -> None:
        """Delete every mailbox but INBOX and empty INBOX."""
        conn = self.client()
        try:
            _, boxes = conn.list()
            for line in boxes:
                if not isinstance(line, bytes):
                    continue
                name = line.rsplit(b' "." ', 1)[-1].strip().strip(b'"').decode()
                if name != "INBOX":
                    conn.delete(name)
            _, count = conn.select("INBOX")
            if count and count[0] not in (b"0", None):
                conn.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
                conn.expunge()
        finally:
            conn.logout()


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapTestServer]:
    binary = _dovecot()
    if binary is None:
        if os.environ.get("VEILLE_REQUIRE_IMAP") == "1":
            pytest.fail("VEILLE_REQUIRE_IMAP=1 but dovecot is not installed (dovecot-imapd)")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    server = ImapTestServer(binary).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap(imap_server: ImapTestServer) -> ImapTestServer:
    """The session's Dovecot with empty mailboxes."""
    imap_server.reset()
    return imap_server
