"""An edition as someone would get it before it is sent: as a given member (only their
themes, their own signed links), or as the desk's test message to oneself (every theme,
placeholder links, no delivery written).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy.orm import Session

from veille.config import Settings
from veille.db import editions as edition_db
from veille.db import members as member_db
from veille.db.tables import EditionRow
from veille.errors import MemberError
from veille.mail.render import RenderedMail
from veille.mail.sender import make_sender
from veille.members.mails import MemberLinks, links_for
from veille.members.subscriptions import normalise_email, themes_of
from veille.newsletter.editions import EditionError
from veille.newsletter.render import Renderer, edition_message, edition_view
from veille.sources import THEME_IDS


def placeholder_links(settings: Settings) -> MemberLinks:
    """For previews and tests: where a member's own signed links would go."""
    base = settings.base_url.rstrip("/")
    return MemberLinks(
        confirm=f"{base}/abonnement",
        preferences=f"{base}/abonnement",
        unsubscribe=f"{base}/abonnement",
    )


@dataclass(frozen=True)
class Preview:
    rendered: RenderedMail | None  # None: no item in the member's themes, no mail for them
    themes: tuple[str, ...]
    who: str


def preview_of(
    session: Session,
    settings: Settings,
    theme_labels: Mapping[str, str],
    edition: EditionRow,
    email: str,
    clock: Callable[[], datetime],
) -> Preview:
    """The edition as the member with `email` would get it (all themes when empty)."""
    view = edition_view(session, edition, theme_labels)
    renderer = Renderer(view, settings)
    if not email:
        rendered = renderer.render(THEME_IDS, placeholder_links(settings), "")
        return Preview(rendered, THEME_IDS, "")
    try:
        address = normalise_email(email)
    except MemberError as exc:
        raise EditionError(str(exc)) from exc
    member = member_db.by_email(session, address)
    if member is None:
        raise EditionError(f"Aucun membre n’a l’adresse « {email} ».")
    themes = themes_of(member)
    rendered = renderer.render(themes, links_for(settings, member, clock), member.name)
    return Preview(rendered, themes, member.email)


def test_message_for(
    session: Session,
    settings: Settings,
    theme_labels: Mapping[str, str],
    edition: EditionRow,
    email: str,
) -> EmailMessage:
    """The edition with every theme, to `email`, subject marked « [TEST] »; no delivery
    row is written (a test is not a send), and a fresh Message-ID each time (the real
    ones are deterministic per member, and mail systems drop a Message-ID seen before)."""
    view = edition_view(session, edition, theme_labels)
    links = placeholder_links(settings)
    rendered = Renderer(view, settings).render(THEME_IDS, links, "")
    if rendered is None:
        raise EditionError(
            f"L’édition n° {edition.number} n’a aucun article : rien à envoyer en test."
        )
    message = edition_message(
        settings,
        rendered,
        email,
        "",
        edition.number,
        0,
        links,
        subject=f"[TEST] {rendered.subject}",
    )
    del message["Message-ID"]
    message["Message-ID"] = make_msgid(
        domain=settings.mail_from.rpartition("@")[2].strip("> ") or None
    )
    return message


def send_test_message(
    session: Session,
    settings: Settings,
    theme_labels: Mapping[str, str],
    edition: EditionRow,
    *,
    to: str,
    now: datetime,
) -> None:
    """Mail the test message to `to` (the desk user), then log it in the edition's audit
    trail; a MailError leaves no log line (the caller's transaction rolls back)."""
    message = test_message_for(session, settings, theme_labels, edition, to)
    with make_sender(settings) as sender:
        sender.send(message)
    edition_db.audit(
        session,
        actor=to,
        action="edition.test",
        object_type="edition",
        object_id=edition.number,
        at=now,
        detail={"to": to},
    )
