"""ORM tables. The Alembic migrations are the source of truth for the schema; these classes
mirror them (a test compares the two). The tables a nothing-due collector reads are Core
`Table`s in `db/schema.py` (no ORM to import for them); `SourceRow` maps its table there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from veille.db.schema import CYCLES, METADATA, SOURCES, UTCDateTime, utcnow


class Base(DeclarativeBase):
    metadata = METADATA

    @classmethod
    def core(cls) -> Table:
        """The mapped table, for Core statements on hot paths (no unit of work)."""
        return cls.metadata.tables[cls.__tablename__]


class SourceRow(Base):
    """A source from feeds.yaml plus its fetch health and scheduling state."""

    __tablename__ = "sources"  # what data_version.watch reads of a changed row
    __table__ = SOURCES

    id: Mapped[int]
    key: Mapped[str]
    name: Mapped[str]
    url: Mapped[str]
    kind: Mapped[str]
    weight: Mapped[float]
    interval: Mapped[int]
    tags: Mapped[list[str]]
    selector: Mapped[str | None]
    enabled: Mapped[bool]
    in_config: Mapped[bool]
    feed_title: Mapped[str | None]
    etag: Mapped[str | None]
    last_modified: Mapped[str | None]
    last_status: Mapped[str | None]
    last_http_status: Mapped[int | None]
    last_error: Mapped[str | None]
    last_warning: Mapped[str | None]
    consecutive_failures: Mapped[int]
    last_fetched_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_new_article_at: Mapped[datetime | None]
    next_fetch_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None]
    lease_until: Mapped[datetime | None]


class StoryRow(Base):
    """A cluster of near-duplicate articles: one news item covered by several sources."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The member the delegate chose to represent the story (veille.db.stories).
    lead_article_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ArticleRow(Base):
    """One article, stored once whatever the number of feeds that list it."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)  # canonical URL
    url_key: Mapped[str] = mapped_column(String(768), unique=True)
    original_url: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    guid: Mapped[str | None] = mapped_column(Text, nullable=True)
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    image: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    extract_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(40), default="")
    fingerprint: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), nullable=True
    )
    # The delegate placed it in its story: nothing automatic moves it (veille.db.stories).
    # Server default only, so code written before migration 0010s still inserts rows.
    story_pinned: Mapped[bool] = mapped_column(Boolean, server_default=false())
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    score_components: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    curation: Mapped[str] = mapped_column(String(16), default="new")

    source: Mapped[SourceRow] = relationship()
    themes: Mapped[list[ArticleThemeRow]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_articles_published_at", "published_at"),
        Index("ix_articles_story_id", "story_id"),
        Index("ix_articles_fetched_at", "fetched_at"),
        Index("ix_articles_content_hash", "content_hash"),
        Index("ix_articles_source_curation", "source_id", "curation"),  # decisions: 0014cu
    )


class ArticleLinkRow(Base):
    """Every (source, URL key) under which an article was seen.

    Lets `decide` skip known entries without fetching the page again, counts how many
    sources listed an article, and maps a feed link to an article whose canonical URL differs.
    """

    __tablename__ = "article_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    url_key: Mapped[str] = mapped_column(String(768))
    guid: Mapped[str | None] = mapped_column(Text, nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("source_id", "url_key", name="uq_article_links_source_url"),
        Index("ix_article_links_url_key", "url_key"),
        Index("ix_article_links_article_id", "article_id"),
    )


class ArticleThemeRow(Base):
    """A theme carried by an article, with where the decision came from."""

    __tablename__ = "article_themes"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[str] = mapped_column(String(64), primary_key=True)
    probability: Mapped[float] = mapped_column(Float, default=1.0)
    origin: Mapped[str] = mapped_column(String(16), default="model")

    article: Mapped[ArticleRow] = relationship(back_populates="themes")

    __table_args__ = (Index("ix_article_themes_theme", "theme"),)


class CycleRow(Base):
    """One collection cycle and its summary, for `veille sources list` and operations."""

    __tablename__ = "cycles"
    __table__ = CYCLES  # Core in `db/schema.py`: a cycle of 304s records itself without the ORM

    id: Mapped[int]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any]]


class ModelVersionRow(Base):
    """A trained theme model: its blob, size of training data and cross-validated figures."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    training_size: Mapped[int] = mapped_column(Integer, default=0)
    editor_labels: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class EditorLabelRow(Base):
    """A theme set (present) or removed (not present) by the delegate: it overrides the
    model for that article and becomes training data."""

    __tablename__ = "editor_labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    theme: Mapped[str] = mapped_column(String(64))
    present: Mapped[bool] = mapped_column(Boolean)
    author: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("article_id", "theme", name="uq_editor_labels_article_theme"),
        Index("ix_editor_labels_created_at", "created_at"),
    )


class MemberRow(Base):
    """A subscriber: personal data under the GDPR, with the proof of their consent.

    `themes` is None for "all themes" (so a theme added later reaches them too);
    `email_key` (lower-cased) makes the address unique whatever its case;
    `token_salt` is mixed into every signed link, so changing it revokes old links.
    """

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    themes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consent_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    consent_wording: Mapped[str | None] = mapped_column(String(32), nullable=True)
    consent_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token_salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the one re-consent mail of the 3-year rule went out; any action clears it.
    reconsent_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_members_status", "status"),
        Index("ix_members_last_activity_at", "last_activity_at"),
    )


class MemberEventRow(Base):
    """What happened to a subscription and how (the trail shown in a GDPR data download);
    erased with the member."""

    __tablename__ = "member_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_member_events_member_id", "member_id"),)


class MemberSessionRow(Base):
    """A member's archive session; the cookie carries a random value whose SHA-256 is `id`,
    so logging out (deleting the row) kills every copy of the cookie. Erased with the
    member."""

    __tablename__ = "member_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_member_sessions_member_id", "member_id"),)


class UserRow(Base):
    """A desk account (delegate or admin); the password is an argon2id hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="delegate")
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DeskSessionRow(Base):
    """A server-side desk session; the cookie carries a random id whose SHA-256 is `id`, so
    a leaked database does not yield usable cookies; revoked by deleting the row."""

    __tablename__ = "desk_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_desk_sessions_user_id", "user_id"),)


class CurationRow(Base):
    """The delegate's edits of an article on the desk (the keep/discard decision itself is
    `articles.curation`, which the value score reads). `version` grows with every change,
    so two desks editing the same article detect each other instead of overwriting."""

    __tablename__ = "curations"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    starred: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(320), nullable=True)


class EditionRow(Base):
    """One newsletter issue: draft → approved → sending → sent (or paused)."""

    __tablename__ = "editions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    edito: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised at render
    # The one greeting (veille.newsletter.greeting), copied from the previous edition.
    greeting: Mapped[str] = mapped_column(Text, server_default="Bonjour {prénom},")
    greeting_on: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    status: Mapped[str] = mapped_column(String(16), default="draft")
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    section_order: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sending_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_editions_status", "status"),)


class EditionItemRow(Base):
    """An article in an edition, under one theme's section, with its own position and the
    texts the delegate wrote for the newsletter (copied from the desk, editable here)."""

    __tablename__ = "edition_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), nullable=True
    )
    theme: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    source_name: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("edition_id", "article_id", name="uq_edition_items_edition_article"),
        Index("ix_edition_items_edition_id", "edition_id"),
    )


class DeliveryRow(Base):
    """One edition to one member. Written (`pending`) before any SMTP call and claimed
    (`sending`) just before it, finalised (`sent`, `failed`) right after: a resumed send
    skips what is final, so nobody gets an edition twice. `skipped` = no matching item."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("edition_id", "member_id", name="uq_deliveries_edition_member"),
        Index("ix_deliveries_edition_status", "edition_id", "status"),
    )


class AuditRow(Base):
    """Who did what and when on the desk (edition status changes, curation, members)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)


class BounceRow(Base):
    """A mail that came back: a refusal (`hard`, `soft`) or a spam complaint, tied to the
    delivery its VERP address named. Personal data: in the GDPR download, erased with the
    member (the delivery link goes if the delivery does)."""

    __tablename__ = "bounces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # hard | soft | complaint
    source: Mapped[str] = mapped_column(String(16))  # dsn | arf | text | smtp
    status_code: Mapped[str | None] = mapped_column(String(16), nullable=True)  # 5.1.1
    diagnostic: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # sha256 of the report mail (veille.mail.reports.Report.key); None for refusals at send.
    report_key: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        Index("ix_bounces_member_received", "member_id", "received_at"),
        Index("ix_bounces_delivery_id", "delivery_id"),
        Index("ix_bounces_member_report", "member_id", "report_key"),
    )


# Tables kept in their own modules (this one is at the size limit: counters; alerts and
# rate counters beside their queries; `schema.py` for the ones a nothing-due check reads),
# imported here so `Base.metadata` is whole for Alembic and `create_all`.
from veille.db import alerts as _alerts  # noqa: E402, F401
from veille.db import rate_limits as _rate_limits  # noqa: E402, F401
from veille.db.counter_tables import DataVersionRow, EditionClickRow  # noqa: E402, F401
