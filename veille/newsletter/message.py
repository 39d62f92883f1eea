"""The newsletter's MIME message for one member: list headers, a Message-ID that a resumed
send reproduces, and optional DKIM.

Not `veille.mail.message.build_message`, for two reasons measured on this project:
- speed: the `email` package's header objects and quoted-printable encoder cost ~5 ms a
  message, 50 s for 10,000 members; here the constant headers are folded once per edition,
  the bodies are encoded by `binascii` (C) and the result is the same `EmailMessage`;
- correctness: `email.policy.default` folds a header word longer than a line (a signed
  unsubscribe URL) into RFC 2047 encoded words, which breaks `List-Unsubscribe`. Headers are
  therefore stored pre-folded with `refold_source="none"`, and serialise exactly as built —
  which DKIM also needs (the bytes signed are the bytes sent).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.policy import default
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from veille.config import Settings
from veille.errors import VeilleError
from veille.mail.message import as_address
from veille.mail.render import RenderedMail
from veille.mail.verp import unsubscribe_address

POLICY = default.clone(refold_source="none")
SIGNED_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
)
# An address we can write as is: ASCII, no spaces, quotes, brackets or separators.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
_ATOM_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*")


@dataclass(frozen=True)
class EditionMail(RenderedMail):
    """A member's rendered edition; `html_qp`/`text_qp`, when set, are the same parts
    already quoted-printable encoded (the renderer builds them from pre-encoded pieces)."""

    subject: str = ""
    html_qp: str = ""
    text_qp: str = ""


class DkimError(VeilleError):
    """The DKIM key named by VEILLE_DKIM_PRIVATE_KEY_FILE cannot be read or used."""


class UnsubscribeLinks(Protocol):
    @property
    def unsubscribe(self) -> str: ...


def _phrase(name: str) -> str:
    """A display name for a header: as is, quoted, or an RFC 2047 encoded word."""
    name = " ".join(name.split())
    if not name:
        return ""
    if not name.isascii():
        return Header(name, "utf-8").encode(linesep="\n")
    if _ATOM_NAME.fullmatch(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fold(name: str, value: object) -> str:
    """The value part of a header folded by the standard policy (for the constant ones)."""
    folded = default.header_factory(name, value).fold(policy=default)
    return str(folded)[len(name) + 2 :].rstrip("\r\n")


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "lettre"


@lru_cache(maxsize=8)
def _constant_headers(
    newsletter_name: str, mail_from: str, base_url: str, subject: str
) -> tuple[tuple[str, str], ...]:
    """From, Subject, List-Id and List-Unsubscribe-Post: the same for every member."""
    sender = sender_of_values(newsletter_name, mail_from)
    host = urlsplit(base_url).hostname or "localhost"
    list_name = _phrase(newsletter_name)
    list_id = f"{slug(newsletter_name)}.{host}"
    return (
        ("From", _fold("From", sender)),
        ("Subject", _fold("Subject", subject)),
        ("List-Id", f"{list_name} <{list_id}>" if list_name else f"<{list_id}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )


def sender_of_values(newsletter_name: str, mail_from: str) -> Address:
    address = as_address(mail_from)
    if address.display_name:
        return address
    return Address(display_name=newsletter_name, addr_spec=address.addr_spec)


def sender_of(settings: Settings) -> Address:
    return sender_of_values(settings.newsletter_name, settings.mail_from)


@lru_cache(maxsize=8)
def _mail_domain(mail_from: str) -> str:
    return as_address(mail_from).domain or "localhost"


def message_id_for(settings: Settings, edition_number: int, member_id: int) -> str:
    """The same id every time for one edition and one member (a resend after a crash is
    recognisable), unguessable without the secret key."""
    return signed_message_id(settings, f"edition-{edition_number}.member-{member_id}")


def signed_message_id(settings: Settings, ident: str) -> str:
    """`<ident.MAC@domain>`: deterministic for one `ident`, unguessable without the key."""
    mac = hmac.new(settings.secret_key.encode(), ident.encode(), hashlib.sha256).hexdigest()
    return f"<{ident}.{mac[:12]}@{_mail_domain(settings.mail_from)}>"


def _recipient(email: str, name: str | None) -> str | None:
    """The To value written directly, or None when the standard header must do it."""
    if not _PLAIN_ADDRESS.fullmatch(email):
        return None
    phrase = _phrase(name or "")
    return f"{phrase} <{email}>" if phrase else email


def _no_line_breaks(name: str, value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"line break in the {name} header value")
    return value


def qp_piece(text: str, *, last: bool = True) -> str:
    """Quoted-printable by binascii (the `email` package's encoder is pure Python). A piece
    that is not `last` ends with a soft line break: encoded pieces can then be joined and
    decode to the joined texts, every line staying within 76 characters."""
    if not text:
        return ""
    if last and not text.endswith("\n"):
        text += "\n"
    lines = binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii").split("\n")
    if not last:
        lines[-1] = _fit(lines[-1], 75) + "="  # room for the soft break
    if any(len(line) > 76 for line in lines):  # binascii can end a line at 77 ("=09")
        lines = [_fit(line, 76) for line in lines]
    return "\n".join(lines) + ("" if last else "\n")


def _fit(line: str, limit: int) -> str:
    """An encoded line cut by soft breaks into lines of at most `limit`, never in "=XX"."""
    out = []
    while len(line) > limit:
        cut = limit - 1
        while "=" in line[cut - 2 : cut]:
            cut -= 1
        out.append(line[:cut] + "=")
        line = line[cut:]
    out.append(line)
    return "\n".join(out)


def _text_part(subtype: str, encoded: str) -> MIMEPart:
    part = MIMEPart(policy=POLICY)
    part.set_raw("Content-Type", f'text/{subtype}; charset="utf-8"')
    part.set_raw("Content-Transfer-Encoding", "quoted-printable")
    part.set_payload(encoded)
    return part


def edition_message(
    settings: Settings,
    rendered: RenderedMail,
    member_email: str,
    member_name: str | None,
    edition_number: int,
    member_id: int,
    links: UnsubscribeLinks,
    *,
    subject: str | None = None,
    now: datetime | None = None,
    message_id: str | None = None,
    unsubscribe_mailto: bool = True,
) -> EmailMessage:
    """The member's message (multipart/alternative, text then HTML, UTF-8), with the
    one-click unsubscribe headers and the deterministic Message-ID; not signed (see
    `sign_message`). `subject` defaults to the rendered mail's (an `EditionMail`).

    A member's alert mail (`veille.newsletter.alerts`) is built here too, with its own
    `message_id` and without the `mailto:` unsubscribe, which would end the member's whole
    subscription rather than that one alert."""
    title = subject or str(getattr(rendered, "subject", "") or "") or settings.newsletter_name
    unsubscribe = _no_line_breaks("List-Unsubscribe", links.unsubscribe)
    if ">" in unsubscribe or " " in unsubscribe:
        raise ValueError("the unsubscribe URL cannot go in a List-Unsubscribe header")
    msg = EmailMessage(policy=POLICY)
    constant = _constant_headers(
        settings.newsletter_name, settings.mail_from, settings.base_url, title
    )
    msg.set_raw(*constant[0])  # From
    to = _recipient(member_email, _no_line_breaks("To", member_name or ""))
    if to is None:
        msg["To"] = Address(display_name=member_name or "", addr_spec=member_email)
    else:
        msg.set_raw("To", to)
    msg.set_raw(*constant[1])  # Subject
    msg.set_raw("Date", format_datetime(now or datetime.now(UTC)))
    msg.set_raw("Message-ID", message_id or message_id_for(settings, edition_number, member_id))
    msg.set_raw(*constant[2])  # List-Id
    if unsubscribe_mailto:
        mailto = f"mailto:{unsubscribe_address(settings, edition_number, member_id)}"
        msg.set_raw("List-Unsubscribe", f"<{unsubscribe}>,\n <{mailto}?subject=unsubscribe>")
    else:
        msg.set_raw("List-Unsubscribe", f"<{unsubscribe}>")
    msg.set_raw(*constant[3])  # List-Unsubscribe-Post
    msg.set_raw("MIME-Version", "1.0")
    boundary = f"==veille-{secrets.token_hex(12)}=="  # "==" never occurs in QP output
    msg.set_raw("Content-Type", f'multipart/alternative; boundary="{boundary}"')
    if isinstance(rendered, EditionMail) and rendered.text_qp and rendered.html_qp:
        text_qp, html_qp = rendered.text_qp, rendered.html_qp
    else:
        text_qp, html_qp = qp_piece(rendered.text), qp_piece(rendered.html)
    msg.set_payload([_text_part("plain", text_qp), _text_part("html", html_qp)])
    return msg


_NEWLINES = re.compile(r"\r\n|\r|\n")  # what the email generator splits bodies on
_BOUNDARY = re.compile(r'^multipart/[a-z]+;\s*boundary="([^"]+)"$', re.IGNORECASE)


def message_bytes(msg: EmailMessage, linesep: str = "\r\n") -> bytes:
    """The bytes `msg.as_bytes()` would give (with `linesep`), ~20x faster for a message of
    `edition_message`: its headers are pre-folded ASCII and its parts pre-encoded, so the
    generator's line-by-line work (~3 ms a message) is a join. Anything else goes through
    the generator. For senders: `smtp.sendmail(from, to, message_bytes(msg))`."""
    out: list[str] = []
    if _flatten(msg, out, linesep):
        return "".join(out).encode("ascii")
    return msg.as_bytes(policy=msg.policy.clone(linesep=linesep))


def _flatten(part: EmailMessage | MIMEPart, out: list[str], nl: str) -> bool:
    content_type = ""
    for name, value in part.raw_items():
        if not isinstance(value, str) or not value.isascii():
            return False  # a header object or 8-bit value: the policy must fold it
        if name.lower() == "content-type":
            content_type = value
        out.append(f"{name}: {nl.join(value.splitlines())}{nl}")
    out.append(nl)
    # `_payload` directly: get_payload() parses the Content-Transfer-Encoding header
    payload = part.get_payload() if part.is_multipart() else getattr(part, "_payload", None)
    if isinstance(payload, str):
        if not payload.isascii():
            return False
        if "\r" in payload:
            out.append(nl.join(_NEWLINES.split(payload)))
        else:
            out.append(payload.replace("\n", nl) if nl != "\n" else payload)
        return True
    found = _BOUNDARY.search(content_type)
    if not isinstance(payload, list) or found is None:
        return False
    if part.preamble is not None or part.epilogue is not None:
        return False
    boundary = found.group(1)
    for index, sub in enumerate(payload):
        out.append(f"--{boundary}{nl}" if index == 0 else f"{nl}--{boundary}{nl}")
        if not isinstance(sub, MIMEPart) or not _flatten(sub, out, nl):
            return False
    out.append(f"{nl}--{boundary}--{nl}")
    return True


# ----------------------------------------------------------------------------- DKIM


@lru_cache(maxsize=4)
def _private_key(path: str, mtime: float) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DkimError(f"DKIM key {path} cannot be read: {exc.strerror}.") from exc
    if b"PRIVATE KEY" not in data:
        raise DkimError(f"DKIM key {path} is not a PEM private key.")
    return data


def dkim_enabled(settings: Settings) -> bool:
    return bool(settings.dkim_private_key_file and settings.dkim_selector)


def sign_message(msg: EmailMessage, settings: Settings) -> EmailMessage:
    """Add a DKIM-Signature (relaxed/relaxed, rsa-sha256) over the list headers and the
    body, first in the header block; the message unchanged when DKIM is not configured.
    Sign last: any later change to a signed header or the body breaks the signature."""
    if not dkim_enabled(settings):
        return msg
    import dkim

    path = Path(str(settings.dkim_private_key_file))
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise DkimError(f"DKIM key {path} cannot be read: {exc.strerror}.") from exc
    key = _private_key(str(path), mtime)
    domain = settings.dkim_domain or _mail_domain(settings.mail_from)
    try:
        signature = dkim.sign(
            message_bytes(msg),
            settings.dkim_selector.encode("ascii"),
            domain.encode("ascii"),
            key,
            include_headers=[h.encode("ascii") for h in SIGNED_HEADERS],
            canonicalize=(b"relaxed", b"relaxed"),
        )
    except dkim.DKIMException as exc:
        raise DkimError(f"DKIM signing failed with the key {path}: {exc}.") from exc
    name, _, value = signature.decode("ascii").partition(":")
    folded = "\n".join(line for line in value.strip().splitlines())
    headers = list(msg.raw_items())
    for header in {h for h, _ in headers}:
        del msg[header]
    msg.set_raw(name.strip(), folded)
    for header, raw in headers:
        msg.set_raw(header, raw)
    return msg
