"""An edition as members read it: a plain view of the edition (sanitised once), then one mail
per member with only the sections of their themes.

Speed matters (10,000 members in well under 20 s): a member's mail depends on their theme set
(at most 7 with 3 themes) and on three small values (greeting name, preferences and
unsubscribe links). So each theme set is rendered and CSS-inlined once, with random
placeholder tokens where those values go; a member's mail is then three string
substitutions (HTML-escaped in the HTML part, raw in the text part). The tokens carry a
per-renderer nonce, so no article text can forge one.
"""

from __future__ import annotations

import html as html_lib
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

import nh3
from lxml import html as lxml_html
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy.orm import Session

from veille import frenchformat
from veille.collect.clean import html_to_text, sanitize_html
from veille.config import Settings
from veille.db import editions as edition_db
from veille.db.tables import EditionItemRow, EditionRow
from veille.mail.render import email_env, inline_css
from veille.newsletter import greeting
from veille.newsletter.message import (
    EditionMail,
    edition_message,
    message_bytes,
    message_id_for,
    qp_piece,
    sign_message,
)
from veille.sources import THEME_IDS

__all__ = [
    "EditionMail",
    "EditionView",
    "ItemView",
    "MailLinks",
    "Renderer",
    "SectionView",
    "edition_message",
    "edition_view",
    "message_bytes",
    "message_id_for",
    "render_for",
    "sign_message",
    "view_of",
]

TEMPLATE = "edition"
_TAG_LIKE = re.compile(r"<[a-zA-Z/!?]")
_WEB_SCHEMES = ("http", "https")
_BLOCKS = frozenset(
    {"p", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "table", "div"}
)


@dataclass(frozen=True)
class ItemView:
    title: str
    url: str  # http(s) only; "" when the stored URL had another scheme
    source: str
    summary: str
    comment: str
    date: str  # "23 novembre 2026", "" when unknown
    published_at: datetime | None
    item_id: int = 0  # the edition item's id: what a click link (`newsletter.clicks`) names


@dataclass(frozen=True)
class SectionView:
    theme: str
    label: str
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class EditionView:
    """What every reader of the edition sees, texts already made safe: `edito_html` is
    sanitised HTML, every other string is plain text (escape it when writing HTML)."""

    number: int
    title: str
    edito_html: str
    edito_text: str
    sections: tuple[SectionView, ...]
    period: str  # "du 16 au 23 novembre 2026"
    period_start: datetime
    period_end: datetime
    status: str
    sent_at: datetime | None
    sent_date: str  # "lundi 23 novembre 2026", "" when not sent
    theme_labels: Mapping[str, str]
    greeting: str = ""  # the wording with its placeholders; "" when the greeting is off

    def sections_for(self, themes: Iterable[str]) -> tuple[SectionView, ...]:
        wanted = set(themes)
        return tuple(s for s in self.sections if s.theme in wanted and s.items)

    @property
    def subject(self) -> str:
        return self.title or f"Lettre de veille n° {self.number}"


class MailLinks(Protocol):
    """The member's own links (veille.members.mails.MemberLinks fits)."""

    @property
    def preferences(self) -> str: ...

    @property
    def unsubscribe(self) -> str: ...


# ----------------------------------------------------------------------------- the view


def plain(value: str | None, *, keep_lines: bool = False) -> str:
    """Desk and collected texts are plain text; markup found in them is junk from a source
    (or an attack): tags go, script and style bodies with them. Escaping is the
    template's job."""
    text = value or ""
    for _ in range(3):  # `&lt;script&gt;` unescaped once becomes a tag: clean again
        if not _TAG_LIKE.search(text):
            break
        text = html_lib.unescape(nh3.clean(text, tags=set()))
    if keep_lines:
        lines = (" ".join(line.split()) for line in text.splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return " ".join(text.split())


def web_url(url: str | None) -> str:
    value = (url or "").strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in _WEB_SCHEMES or not parts.netloc or _TAG_LIKE.search(value):
        return ""
    return value


_MARKDOWN = MarkdownIt("commonmark", {"html": True, "breaks": True})


def edito_html(markdown: str) -> str:
    """Markdown (inline HTML allowed, as delegates expect), then the archive's sanitiser:
    its allow-list of tags, no attributes but href/src/alt, http/https/mailto links,
    scripts dropped with their content."""
    if not (markdown or "").strip():
        return ""
    return sanitize_html(_MARKDOWN.render(markdown), base_url=None)


def edito_text(html: str) -> str:
    """The edito for the text part: links written out, list items marked."""
    if not html:
        return ""
    root = lxml_html.fragment_fromstring(html, create_parent="div")
    for link in root.iter("a"):
        href = link.get("href", "")
        label = link.text_content().strip()
        if href and label not in (href, href.removeprefix("mailto:")):
            link.tail = f" ({href})" + (link.tail or "")
    for item in root.iter("li"):
        item.text = "– " + (item.text or "")
    # One chunk per top-level block (paragraph, list, heading, quote), a blank line between
    # them as the delegate typed them; inline runs between blocks make a chunk of their own.
    chunks: list[str] = [html_lib.escape(root.text or "")]
    for child in root:
        piece = lxml_html.tostring(child, encoding="unicode", with_tail=False)
        if isinstance(child.tag, str) and child.tag in _BLOCKS:
            chunks += [piece, ""]
        else:
            chunks[-1] += piece
        chunks[-1] += html_lib.escape(child.tail or "")
    # what the delegate typed as `<tag>` was text in the HTML; in text it is junk
    texts = (plain(html_to_text(chunk), keep_lines=True) for chunk in chunks)
    return "\n\n".join(t for t in texts if t)


def _item(row: EditionItemRow) -> ItemView:
    return ItemView(
        title=plain(row.title) or "(sans titre)",
        url=web_url(row.url),
        source=plain(row.source_name),
        summary=plain(row.summary, keep_lines=True),
        comment=plain(row.comment, keep_lines=True),
        date=frenchformat.day_date(row.published_at),
        published_at=row.published_at,
        item_id=row.id or 0,
    )


def view_of(
    edition: EditionRow, items: Sequence[EditionItemRow], theme_labels: Mapping[str, str]
) -> EditionView:
    """Sections in the edition's `section_order` (themes it forgot come after, in the
    usual order); items by position; empty sections dropped."""
    by_theme: dict[str, list[EditionItemRow]] = {}
    for row in items:
        by_theme.setdefault(row.theme, []).append(row)
    order: list[str] = []
    for theme in [*(edition.section_order or []), *THEME_IDS, *sorted(by_theme)]:
        if theme in by_theme and theme not in order:
            order.append(theme)
    sections = tuple(
        SectionView(
            theme=theme,
            label=theme_labels.get(theme, theme),
            items=tuple(
                _item(r) for r in sorted(by_theme[theme], key=lambda r: (r.position, r.id))
            ),
        )
        for theme in order
    )
    edito = edito_html(edition.edito)
    return EditionView(
        number=edition.number,
        title=plain(edition.title),
        edito_html=edito,
        edito_text=edito_text(edito),
        sections=sections,
        period=frenchformat.period(edition.period_start, edition.period_end),
        period_start=edition.period_start,
        period_end=edition.period_end,
        status=edition.status,
        sent_at=edition.sent_at,
        sent_date=frenchformat.full_date(edition.sent_at),
        theme_labels=dict(theme_labels),
        greeting=_greeting_of(edition),
    )


def _greeting_of(edition: EditionRow) -> str:
    if edition.greeting_on is False:
        return ""
    return greeting.DEFAULT if edition.greeting is None else edition.greeting


def edition_view(
    session: Session, edition: EditionRow, theme_labels: Mapping[str, str]
) -> EditionView:
    return view_of(edition, edition_db.items_of(session, edition.id), theme_labels)


# ----------------------------------------------------------------------------- the mails


class _Template:
    """One part (HTML or text) of a theme set's mail, cut at the placeholder tokens: the
    fixed pieces are kept both as text and already quoted-printable encoded, each encoded
    piece but the last ending with a soft line break, so a member's part is a join of
    the pieces with their (small, separately encoded) values."""

    def __init__(self, document: str, tokens: re.Pattern[str]) -> None:
        parts = tokens.split(document)
        self.pieces: tuple[str, ...] = tuple(parts[0::2])
        self.slots: tuple[str, ...] = tuple(parts[1::2])
        last = len(self.pieces) - 1
        self.encoded: tuple[str, ...] = tuple(
            qp_piece(piece, last=i == last) for i, piece in enumerate(self.pieces)
        )

    def fill(self, values: Mapping[str, str], encoded: Mapping[str, str]) -> tuple[str, str]:
        text = [self.pieces[0]]
        qp = [self.encoded[0]]
        for slot, piece, piece_qp in zip(
            self.slots, self.pieces[1:], self.encoded[1:], strict=True
        ):
            text += (values[slot], piece)
            qp += (encoded[slot], piece_qp)
        return "".join(text), "".join(qp)


@dataclass(frozen=True)
class _Prepared:
    html: _Template
    text: _Template
    subject: str


class Renderer:
    """Renders each distinct theme set once; `render` is then joins of ready pieces."""

    def __init__(self, view: EditionView, settings: Settings, *, track: bool = False) -> None:
        """`track`: the letters members get (not previews nor test sends) carry click
        links (`newsletter.clicks`), when VEILLE_CLICK_COUNTS allows."""
        if track:
            from veille.newsletter.clicks import tracked_view

            view = tracked_view(view, settings)
        self.view = view
        self.brand = settings.newsletter_name
        self.web_url = f"{settings.base_url.rstrip('/')}/editions/{view.number}"
        nonce = secrets.token_hex(8)
        # one slot per greeting placeholder and « was there a space before it »
        self._names = {
            (placeholder, spaced): f"veillename{n}{int(spaced)}{nonce}"
            for n, placeholder in enumerate((greeting.FIRST_NAME, greeting.FULL_NAME))
            for spaced in (False, True)
        }
        self._preferences = f"veillepreferences{nonce}"
        self._unsubscribe = f"veilleunsubscribe{nonce}"
        slots = [*self._names.values(), self._preferences, self._unsubscribe]
        self._tokens = re.compile(f"({'|'.join(slots)})")
        self._cache: dict[frozenset[str], _Prepared | None] = {}

    def render(
        self, member_themes: Iterable[str], links: MailLinks, name: str | None
    ) -> EditionMail | None:
        """The member's mail, or None when none of their themes has an item."""
        key = frozenset(member_themes)
        if key not in self._cache:
            self._cache[key] = self._prepare(key)
        prepared = self._cache[key]
        if prepared is None:
            return None
        text_values = {
            **{
                token: greeting.slot_value(placeholder, spaced, name)
                for (placeholder, spaced), token in self._names.items()
            },
            self._preferences: links.preferences,
            self._unsubscribe: links.unsubscribe,
        }
        html_values = {token: html_lib.escape(value) for token, value in text_values.items()}
        html, html_qp = prepared.html.fill(html_values, _encoded(html_values))
        text, text_qp = prepared.text.fill(text_values, _encoded(text_values))
        return EditionMail(
            html=html, text=text, subject=prepared.subject, html_qp=html_qp, text_qp=text_qp
        )

    def _prepare(self, themes: frozenset[str]) -> _Prepared | None:
        view = self.view
        sections = view.sections_for(themes)
        if not sections:
            return None
        ordered = [t for t in THEME_IDS if t in themes] + sorted(themes - set(THEME_IDS))
        context = {
            "subject": view.subject,
            "brand": self.brand,
            "view": view,
            "sections": sections,
            "edito_html": Markup(view.edito_html),  # sanitised by edito_html()
            "theme_names": [view.theme_labels.get(t, t) for t in ordered],
            "web_url": self.web_url,
            "greeting": greeting.fill(view.greeting, None, lambda p, s: self._names[(p, s)]),
            "preferences_url": self._preferences,
            "unsubscribe_url": self._unsubscribe,
        }
        env = email_env()
        html = inline_css(env.get_template(f"{TEMPLATE}.html").render(**context))
        text = env.get_template(f"{TEMPLATE}.txt").render(**context)
        return _Prepared(
            html=_Template(html, self._tokens),
            text=_Template(text, self._tokens),
            subject=view.subject,
        )


def _encoded(values: Mapping[str, str]) -> dict[str, str]:
    return {token: qp_piece(value, last=False) for token, value in values.items()}


def render_for(
    view: EditionView,
    themes: Iterable[str],
    links: MailLinks,
    name: str | None,
    settings: Settings,
) -> EditionMail | None:
    """One member's mail without a cache (previews, a test send)."""
    return Renderer(view, settings).render(themes, links, name)
