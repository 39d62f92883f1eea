"""Build the one kind of mail the project sends: text + optional HTML alternative.

`email.policy.default` does the hard part: French accents in the subject and display names
become RFC 2047 encoded words, bodies are UTF-8 in quoted-printable (7-bit safe, readable in
a `.eml`), and header values carrying a line break are refused (no header injection).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid

# Headers the builder owns; `headers=` adds others (List-Unsubscribe, Reply-To, ...).
_RESERVED = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
}


def build_message(
    *,
    sender: str | Address,
    to: str | Address,
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
    domain: str | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A ready-to-send message; `domain` (for the Message-ID) defaults to the sender's.
    A caller that must resend under the same id (a resumed newsletter) gives `message_id`."""
    from_address = as_address(sender)
    msg = EmailMessage(policy=default)
    msg["From"] = from_address
    msg["To"] = as_address(to)
    msg["Subject"] = subject
    # "+0000", not formatdate()'s "-0000" (RFC 5322: "zone unknown").
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(
        domain=domain or from_address.domain or "localhost"
    )
    for name, value in (headers or {}).items():
        if name.lower() in _RESERVED:
            raise ValueError(f"build_message sets the {name} header itself")
        msg[name] = value
    msg.set_content(text, cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg


def as_address(value: str | Address) -> Address:
    """`"Name <a@b>"`, `"a@b"` or an `Address` → an `Address` (ValueError when unparseable)."""
    if isinstance(value, Address):
        return value
    parsed = default.header_factory("To", value)
    addresses: tuple[Address, ...] = tuple(getattr(parsed, "addresses", ()))
    if len(addresses) != 1 or not addresses[0].addr_spec or parsed.defects:
        raise ValueError(f"not a single e-mail address: {value!r}")
    return addresses[0]
