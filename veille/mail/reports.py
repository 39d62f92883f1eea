"""Read what arrives at the bounce address: delivery reports, spam complaints, and mails to
the List-Unsubscribe mailto — plain data out, no database, no network.

- RFC 3464 delivery status notifications (multipart/report; report-type=delivery-status,
  as Postfix, Gmail, Exchange, Orange send them): `Action: failed` with `Status: 5.x.x` is
  a hard bounce, `4.x.x` or `Action: delayed` a soft one, `delivered`/`relayed` nothing;
- Exim's classic plain-text bounces (an `X-Failed-Recipients` header): hard, unless the
  status code in the text says 4.x.x;
- RFC 5965 feedback reports (multipart/report; report-type=feedback-report, from the
  feedback loops of Hotmail/Outlook, Orange, Yahoo...): `Feedback-Type: abuse` is a
  complaint;
- a mail sent to the `u…` VERP address of `List-Unsubscribe`: an unsubscribe request.

The delivery is found by its VERP token (`veille.mail.verp`): in the envelope headers
(`To`, `Delivered-To`, `X-Original-To`...), then in the report's fields (`Original-Mail-From`,
`Final-Recipient`...), then in the returned message's headers (its `Return-Path`, its
`List-Unsubscribe`). A forged token never matches. Anything else — an out-of-office reply,
spam, a malformed mail, a huge one — raises `NotAReport` with the reason, and is left in
the mailbox. Hostile input is bounded: size (`MAX_BYTES`), number of parts, text scanned.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from email import message_from_bytes
from email.errors import MessageError
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from veille.config import Settings
from veille.mail.verp import BOUNCE, UNSUBSCRIBE, Token, find_tokens

MAX_BYTES = 2_000_000  # a DSN returning a whole newsletter is ~100 kB
MAX_PARTS = 50
_ENVELOPE = (
    "To",
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "Original-Recipient",
    "Final-Recipient",
)
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_RETURNED = ("message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers")


# RFC 3463 permanent codes that say the address itself is dead: bad mailbox or domain
# (5.1.x), mailbox disabled (5.2.x but 5.2.2 "full"), Microsoft's 5.4.1 "recipient
# rejected" and 5.4.4 "unroutable", the common 5.5.0 "mailbox unavailable". Other 5.x.x —
# 5.7.x policy (a blocklist, DMARC, our DKIM), 5.6.x content, 5.3.x the remote system —
# are usually about the sender or the message, so they count as soft: one must not
# silence a member because our own configuration broke, while a lasting one still ends
# the mailing after `SOFT_LIMIT` reports.
_DEAD_ADDRESS = re.compile(r"5\.(1\.\d+|2\.[013-9]\d*|4\.[14]|5\.0)")


def severity(status_code: str | None) -> str:
    """hard or soft for an enhanced status code; None (a permanent failure without one,
    as Exim reports them) is hard."""
    if status_code is None:
        return "hard"
    if status_code.startswith("5") and _DEAD_ADDRESS.fullmatch(status_code):
        return "hard"
    return "soft"


class NotAReport(Exception):
    """The mail is not something we act on; `str()` says why (for the job's counts)."""


@dataclass(frozen=True)
class Bounce:
    """One refusal or complaint, as read from a report (or an SMTP reply at send time)."""

    kind: str  # hard | soft | complaint
    source: str  # dsn | arf | text | smtp
    status_code: str | None = None  # the enhanced status code, 5.1.1
    diagnostic: str = ""


@dataclass(frozen=True)
class Report:
    """What a mail asks: `bounce` (with `bounce` set) or `unsubscribe`, for `token`."""

    action: str  # bounce | unsubscribe
    token: Token
    bounce: Bounce | None = None
    # The report mail's identity (its Message-ID, else its bytes, hashed): the same mail
    # read twice — a crash between applying it and marking it done — has the same key.
    key: str = ""


def read_report(raw: bytes, settings: Settings) -> Report:
    """Classify one raw mail from the bounce mailbox; see the module docstring."""
    if len(raw) > MAX_BYTES:
        raise NotAReport("too large")
    try:
        msg = message_from_bytes(raw, policy=compat32)
        parts = _parts(msg)
        return replace(_classify(msg, parts, settings), key=_report_key(msg, raw))
    except NotAReport:
        raise
    except (
        MessageError,
        RecursionError,
        LookupError,
        ValueError,
        TypeError,
        AttributeError,
    ) as exc:
        raise NotAReport(f"unreadable ({type(exc).__name__})") from None


def _report_key(msg: Message, raw: bytes) -> str:
    """The Message-ID when the mail has one (a copy delivered twice keeps it, its Received
    lines do not), else the raw bytes: hashed, so its length is fixed whatever the sender
    wrote."""
    message_id = " ".join(str(msg.get("Message-ID", "") or "").split())
    seed = f"id:{message_id}".encode("utf-8", "replace") if message_id else b"raw:" + raw
    return hashlib.sha256(seed).hexdigest()


def _classify(msg: Message, parts: list[Message], settings: Settings) -> Report:
    envelope = _headers_text(msg, _ENVELOPE)
    content_type = msg.get_content_type()
    report_type = str(msg.get_param("report-type", "") or "").lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        bounce = _from_dsn(parts)
        return Report("bounce", _token(settings, envelope, parts), bounce)
    if content_type == "multipart/report" and report_type == "feedback-report":
        bounce = _from_arf(parts)
        return Report("bounce", _token(settings, envelope, parts), bounce)
    if msg.get("X-Failed-Recipients"):
        bounce = _from_text(msg, parts)
        return Report("bounce", _token(settings, envelope, parts), bounce)
    direct = find_tokens(settings, envelope)
    for token in direct:
        if token.purpose == UNSUBSCRIBE:
            return Report("unsubscribe", token)
    raise NotAReport("not a delivery report" if direct else "no VERP address")


# --- the three kinds of report ------------------------------------------------------------


def _from_dsn(parts: list[Message]) -> Bounce:
    """The worst per-recipient outcome of the delivery-status part(s)."""
    fields: list[Message] = []
    for part in parts:
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            fields.extend(_status_blocks(part))
    worst: Bounce | None = None
    for block in fields:
        action = str(block.get("Action", "")).strip().lower()
        code = enhanced_code(str(block.get("Status", "")))
        diagnostic = _clean(str(block.get("Diagnostic-Code", "")))
        if action == "failed":
            kind = severity(code)
        elif action == "delayed":
            kind = "soft"
        else:
            continue  # delivered, relayed, expanded: good news
        candidate = Bounce(kind, "dsn", code, diagnostic)
        if worst is None or (worst.kind == "soft" and kind == "hard"):
            worst = candidate
    if worst is None:
        raise NotAReport("delivery report without failure")
    return worst


def _from_arf(parts: list[Message]) -> Bounce:
    for part in parts:
        if part.get_content_type() != "message/feedback-report":
            continue
        report = _header_block(part)
        feedback = str(report.get("Feedback-Type", "")).strip().lower()
        if feedback != "abuse":
            raise NotAReport(f"feedback report of type {feedback or 'unknown'}")
        source = _clean(str(report.get("User-Agent", "") or report.get("Reporting-MTA", "")))
        return Bounce("complaint", "arf", None, f"spam complaint ({source or 'feedback loop'})")
    raise NotAReport("feedback report without its report part")


def _from_text(msg: Message, parts: list[Message]) -> Bounce:
    """Exim's plain-text bounce: permanent unless its text gives a 4.x.x code."""
    body = ""
    for part in parts:
        if part.get_content_type() == "text/plain":
            body = _text(part)
            break
    code = enhanced_code(body)
    failed = _clean(str(msg.get("X-Failed-Recipients", "")))
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    detail = next((line for line in lines if _STATUS.search(line) or "550" in line), "")
    return Bounce(severity(code), "text", code, _clean(f"{failed}: {detail}" if detail else failed))


# --- finding the delivery -----------------------------------------------------------------


def _token(settings: Settings, envelope: str, parts: list[Message]) -> Token:
    """The delivery a report is about: a bounce token first (envelope, then report fields,
    then the returned message), else the unsubscribe token of the returned message."""
    texts = [envelope]
    for part in parts:
        kind = part.get_content_type()
        if kind in ("message/delivery-status", "message/global-delivery-status"):
            texts.extend(_headers_text(block, None) for block in _status_blocks(part))
        elif kind == "message/feedback-report" or kind in _RETURNED:
            texts.append(_headers_text(_header_block(part), None))
    found = [token for text in texts for token in find_tokens(settings, text)]
    for purpose in (BOUNCE, UNSUBSCRIBE):
        for token in found:
            if token.purpose == purpose:
                return token
    raise NotAReport("report about a mail we did not send")


# --- bounded MIME helpers -------------------------------------------------------------------


def _parts(msg: Message) -> list[Message]:
    parts: list[Message] = []
    for part in msg.walk():
        parts.append(part)
        if len(parts) > MAX_PARTS:
            raise NotAReport("too many parts")
    return parts


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)][:MAX_PARTS]
    return _header_blocks(_text(part))


def _header_block(part: Message) -> Message:
    """The fields of a report part, or the headers of a returned message."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return HeaderParser(policy=compat32).parsestr(_text(part))


def _header_blocks(text: str) -> list[Message]:
    blocks = re.split(r"\r?\n\s*\r?\n", text)[:MAX_PARTS]
    return [HeaderParser(policy=compat32).parsestr(block.strip() + "\n") for block in blocks]


def _text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data[:200_000].decode(part.get_content_charset() or "utf-8", "replace")
    payload = part.get_payload()
    return payload[:200_000] if isinstance(payload, str) else ""


def _headers_text(msg: Message, names: tuple[str, ...] | None) -> str:
    items = msg.items() if names is None else [(n, v) for n in names for v in msg.get_all(n, [])]
    return "\n".join(f"{name}: {value}" for name, value in items[:200])


def enhanced_code(text: str) -> str | None:
    """The first RFC 3463 status code (5.1.1) in a reply or a report field."""
    found = _STATUS.search(text)
    return found.group(0) if found else None


def _clean(text: str) -> str:
    text = re.sub(r"^\s*(smtp|x-[a-z-]+)\s*;\s*", "", text, flags=re.IGNORECASE)
    return " ".join(text.split())[:500]
