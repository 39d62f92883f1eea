"""What a bounce does to a member: the rules that protect the sending domain's reputation.

Mailing an address that refused our mail, or a person who reported it as spam, is what
gets a domain throttled or blocked by Gmail and Orange. So:

- a hard bounce (5.x.x, or a 5xx reply at send time for that very address) makes an active
  or paused member `bounced` at once;
- a spam complaint (ARF `Feedback-Type: abuse`) makes the member `complained`, whatever
  their status;
- soft bounces (4.x.x, "delayed") are recorded; `SOFT_LIMIT` of them within `SOFT_WINDOW`
  (since the member last confirmed) make the member `bounced`, with reason `soft`;
- a mail to the `List-Unsubscribe` mailto unsubscribes the member.

`bounced` and `complained` members are never mailed (only `active` ones are), and only a
new subscription confirmed by the member (a new double opt-in) makes them active again.
Every event is a `bounces` row (in the GDPR download, erased with the member) and a
member event, the trail shown on the desk.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from veille.db import bounces as bounce_db
from veille.db import members as member_db
from veille.db.tables import DeliveryRow, MemberRow
from veille.errors import MailError
from veille.mail.reports import Bounce, enhanced_code, severity
from veille.members.subscriptions import unsubscribe

SOFT_LIMIT = 3
SOFT_WINDOW = timedelta(days=15)
MAILABLE = ("active", "paused", "alerts")
# The VERP « edition number » of members' alert mails (`veille.newsletter.alerts`).
ALERT_MAILS = 0


def record(
    session: Session,
    edition_number: int,
    member_id: int,
    bounce: Bounce,
    now: datetime,
    report_key: str = "",
) -> str:
    """Apply a bounce to the member its VERP token named. Returns `recorded`, `duplicate`
    (the same report read again) or `unknown` (the member or the delivery is gone).

    The same report mail (`report_key`) is applied once per member, so a crash between
    applying a report and marking it done never counts one soft bounce twice — for an
    alert's mail too, which has no delivery row to compare with."""
    member = member_db.by_id(session, member_id)
    if member is None:
        return "unknown"
    if report_key and bounce_db.report_seen(session, member_id, report_key):
        return "duplicate"
    if edition_number == ALERT_MAILS:  # an alert's mail: no delivery row to match
        _apply(session, member, None, None, bounce, now, report_key)
        return "recorded"
    delivery = bounce_db.delivery_of(session, edition_number, member_id)
    if delivery is None:
        return "unknown"
    if bounce_db.exists(session, delivery.id, bounce.kind, bounce.status_code):
        return "duplicate"
    _apply(session, member, delivery.id, edition_number, bounce, now, report_key)
    return "recorded"


def refused_at_send(
    session: Session, delivery: DeliveryRow, email: str, error: MailError, now: datetime
) -> bool:
    """A 5xx reply refusing this recipient during the send is a bounce: hard when its
    enhanced code says the address is dead (5.1.1...), soft otherwise (5.7.1, a blocklist:
    about us, not them). A refusal of the whole message (a content filter, our own login
    or sender) is not about the address and changes nobody. True when recorded."""
    return refused_by_address(session, delivery.member_id, delivery.id, email, error, now)


def refused_by_address(
    session: Session,
    member_id: int,
    delivery_id: int | None,
    email: str,
    error: MailError,
    now: datetime,
) -> bool:
    """`refused_at_send` for any mail to a member (an alert has no delivery row)."""
    named = {address.lower() for address in error.recipients}
    if error.code is None or not 500 <= error.code < 600 or email.lower() not in named:
        return False
    member = member_db.by_id(session, member_id)
    if member is None:
        return False
    code = enhanced_code(str(error))
    bounce = Bounce(severity(code), "smtp", code or str(error.code), str(error)[:2000])
    _apply(session, member, delivery_id, None, bounce, now)
    return True


def unsubscribe_by_mail(session: Session, member_id: int, now: datetime) -> bool:
    """A mail to the List-Unsubscribe mailto: unsubscribe (True when it changed something)."""
    member = member_db.by_id(session, member_id)
    if member is None or member.status in ("unsubscribed", "complained"):
        return False
    return unsubscribe(session, member, now, how="mailto")


def _apply(
    session: Session,
    member: MemberRow,
    delivery_id: int | None,
    edition_number: int | None,
    bounce: Bounce,
    now: datetime,
    report_key: str = "",
) -> None:
    bounce_db.add(
        session,
        member_id=member.id,
        delivery_id=delivery_id,
        kind=bounce.kind,
        source=bounce.source,
        status_code=bounce.status_code,
        diagnostic=bounce.diagnostic,
        at=now,
        report_key=report_key,
    )
    detail = {
        "kind": bounce.kind,
        "source": bounce.source,
        "status_code": bounce.status_code,
        "diagnostic": bounce.diagnostic[:300],
        "edition": edition_number,
    }
    new_status = _new_status(session, member, bounce.kind, now)
    if new_status is not None:
        detail["status"] = new_status
        member.status = new_status
        member.updated_at = now
    event = "complaint" if bounce.kind == "complaint" else "bounce"
    member_db.add_event(session, member, event, now, detail)


def _new_status(session: Session, member: MemberRow, kind: str, now: datetime) -> str | None:
    if kind == "complaint":
        return "complained" if member.status != "complained" else None
    if member.status not in MAILABLE:
        return None
    if kind == "hard":
        return "bounced"
    since = max(now - SOFT_WINDOW, member.confirmed_at or now - SOFT_WINDOW)
    if bounce_db.count_since(session, member.id, "soft", since) >= SOFT_LIMIT:
        return "bounced"
    return None


def reasons(session: Session, members: list[MemberRow]) -> dict[int, str]:
    """hard | soft | complaint for each `bounced` or `complained` member listed."""
    ids = [m.id for m in members if m.status in ("bounced", "complained")]
    return bounce_db.latest_kinds(session, ids)
