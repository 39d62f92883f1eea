"""Outgoing mail, shared by member confirmation mails and the newsletter.

`build_message()` makes the message, `make_sender(settings)` picks SMTP or `.eml` files from
`VEILLE_SMTP_URL`, and every sender has the same `send(msg)` / `close()` interface, so the
callers (and their per-recipient progress) never know which one they got.
"""

from veille.mail.message import as_address, build_message
from veille.mail.sender import FileSender, Sender, SmtpSender, Throttle, make_sender
from veille.mail.transport import Transport, parse_transport

__all__ = [
    "FileSender",
    "Sender",
    "SmtpSender",
    "Throttle",
    "Transport",
    "as_address",
    "build_message",
    "make_sender",
    "parse_transport",
]
