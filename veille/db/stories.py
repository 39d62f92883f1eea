"""Stories as the unit people see: which member represents a story, and the delegate's
corrections (take an article out, join two stories, pick the representative).

The archive lists one entry per story by testing `fulltext.DUPLICATE_BIT`, set on every
member but the representative. The bit is stored, not computed per request, so the
grouped archive stays an index walk at 1M articles; it is kept here, whenever what decides
it changes: a story gains a member (collection), scores change (classification,
rescoring), the delegate corrects a story. Rule (`representative`): the delegate's pick
when it is still a member, else the best value score (unscored last), then the earliest
published, then the heaviest source, then the lowest id. An article without a story is its
own story: its bit stays clear.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from veille.db.fulltext import DUPLICATE_BIT, SEARCH
from veille.db.reads import read
from veille.db.tables import ArticleLinkRow, ArticleRow, SourceRow, StoryRow

CHUNK = 500


@dataclass(frozen=True)
class Member:
    article_id: int
    story_id: int
    score: float | None
    published: datetime | None
    weight: float
    mask: int


def _key(m: Member) -> tuple[bool, float, float, float, int]:
    when = m.published.timestamp() if m.published is not None else float("inf")
    return (m.score is None, -(m.score or 0.0), when, -m.weight, m.article_id)


def representative(members: Sequence[Member], lead: int | None = None) -> int:
    """The article id that represents `members` (one story): see the module docstring."""
    if lead is not None and any(m.article_id == lead for m in members):
        return lead
    return min(members, key=_key).article_id


def _members(session: Session, story_ids: Sequence[int]) -> dict[int, list[Member]]:
    a = SEARCH.c
    rows = session.execute(
        select(a.id, a.story_id, a.score, a.published_or_fetched, SourceRow.weight, a.theme_mask)
        .select_from(SEARCH.join(SourceRow, SourceRow.id == a.source_id))
        .where(a.story_id.in_(list(story_ids)))
    )
    out: dict[int, list[Member]] = {}
    for ident, story, score, when, weight, mask in rows:
        out.setdefault(int(story), []).append(
            Member(int(ident), int(story), score, when, float(weight or 0.0), int(mask or 0))
        )
    return out


def _ranked(session: Session, story_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """For stories of several members: the members whose bit must be set, and cleared."""
    leads = dict(
        session.execute(
            select(StoryRow.id, StoryRow.lead_article_id).where(StoryRow.id.in_(story_ids))
        ).all()
    )
    set_ids: list[int] = []
    clear_ids: list[int] = []
    for story, members in _members(session, story_ids).items():
        rep = representative(members, leads.get(story))
        for m in members:
            duplicate = bool(m.mask & DUPLICATE_BIT)
            if m.article_id == rep and duplicate:
                clear_ids.append(m.article_id)
            elif m.article_id != rep and not duplicate:
                set_ids.append(m.article_id)
    return set_ids, clear_ids


def refresh(session: Session, story_ids: Iterable[int]) -> int:
    """Set the representative bit of every member of `story_ids`; returns rows changed.

    Only rows whose bit changes are written, so calling it after each transaction costs a
    read of the stories' members (an indexed lookup on `story_id`). A story of one member
    (most stories: an article that no other source wrote about) needs no ranking: its
    member represents it, so only the stories of several members are read in full."""
    ids = sorted({int(s) for s in story_ids if s is not None})
    changed = 0
    if ids:
        session.flush()  # scores and members written through the ORM must be seen
    a = SEARCH.c
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        masks: dict[int, list[tuple[int, int]]] = {}
        for ident, story, bits in session.execute(
            select(a.id, a.story_id, a.theme_mask).where(a.story_id.in_(chunk))
        ):
            masks.setdefault(int(story), []).append((int(ident), int(bits or 0)))
        clear_ids = [
            members[0][0]
            for members in masks.values()
            if len(members) == 1 and members[0][1] & DUPLICATE_BIT
        ]
        several = [story for story, members in masks.items() if len(members) > 1]
        set_ids, cleared = _ranked(session, several) if several else ([], [])
        clear_ids += cleared
        mask = SEARCH.c.theme_mask
        if set_ids:
            session.execute(
                update(SEARCH)
                .where(SEARCH.c.id.in_(set_ids))
                .values(theme_mask=mask.op("|")(DUPLICATE_BIT))
            )
        if clear_ids:
            session.execute(
                update(SEARCH)
                .where(SEARCH.c.id.in_(clear_ids))
                .values(theme_mask=mask.op("&")(~DUPLICATE_BIT))
            )
        changed += len(set_ids) + len(clear_ids)
    return changed


def refresh_of_articles(session: Session, article_ids: Iterable[int]) -> int:
    """`refresh` for the stories of `article_ids` (after their scores changed)."""
    ids = sorted(set(article_ids))
    stories: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        stories.update(
            s
            for s in session.scalars(
                select(ArticleRow.story_id).where(ArticleRow.id.in_(ids[start : start + CHUNK]))
            )
            if s is not None
        )
    return refresh(session, stories)


def story_of(session: Session, article_id: int) -> int | None:
    return session.scalar(select(ArticleRow.story_id).where(ArticleRow.id == article_id))


def exists(session: Session, article_id: int) -> bool:
    return session.scalar(select(ArticleRow.id).where(ArticleRow.id == article_id)) is not None


def member_ids(session: Session, story_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ArticleRow.id).where(ArticleRow.story_id == story_id).order_by(ArticleRow.id)
        )
    )


def members_of(session: Session, story_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(article id, story id) of every member of these stories."""
    ids = sorted(set(story_ids))
    out: list[tuple[int, int]] = []
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(ArticleRow.id, ArticleRow.story_id).where(
                ArticleRow.story_id.in_(ids[start : start + CHUNK])
            )
        )
        out.extend((int(a), int(s)) for a, s in rows if s is not None)
    return out


def take_out(session: Session, article_id: int) -> tuple[int, int]:
    """Move the article into a story of its own, pinned so no cycle merges it back.
    Returns (old story, new story). An article alone in its story stays where it is."""
    old = story_of(session, article_id)
    if old is not None and member_ids(session, old) == [article_id]:
        session.execute(
            update(ArticleRow).where(ArticleRow.id == article_id).values(story_pinned=True)
        )
        return old, old
    new = StoryRow()
    session.add(new)
    session.flush()
    session.execute(
        update(ArticleRow)
        .where(ArticleRow.id == article_id)
        .values(story_id=new.id, story_pinned=True)
    )
    if old is not None:
        session.execute(
            update(StoryRow)
            .where(StoryRow.id == old, StoryRow.lead_article_id == article_id)
            .values(lead_article_id=None)
        )
    refresh(session, [s for s in (old, new.id) if s is not None])
    return (old if old is not None else new.id), new.id


def join(session: Session, keep: int, other: int) -> list[int]:
    """Move every member of story `other` into story `keep` (pinned); returns the moved
    article ids. The kept story's representative is chosen again over all members."""
    moved = member_ids(session, other)
    if keep == other or not moved:
        return []
    session.execute(
        update(ArticleRow)
        .where(ArticleRow.story_id == other)
        .values(story_id=keep, story_pinned=True)
    )
    session.execute(update(ArticleRow).where(ArticleRow.story_id == keep).values(story_pinned=True))
    refresh(session, [keep])
    return moved


def set_lead(session: Session, story_id: int, article_id: int | None) -> None:
    """The delegate's representative for the story (None: back to the rule)."""
    session.execute(
        update(StoryRow).where(StoryRow.id == story_id).values(lead_article_id=article_id)
    )
    refresh(session, [story_id])


@dataclass(frozen=True)
class Other:
    """Another article of a story, for « aussi couvert par »."""

    id: int
    story_id: int
    source_key: str
    source_name: str
    url: str
    title: str


# `others` and `carriers`' statements, built once (the story ids bound at each call): every
# archive listing runs both for its cards, and building them cost more Python than SQLite
# spent answering them.
_OTHERS = (
    select(
        ArticleRow.id,
        ArticleRow.story_id,
        SourceRow.key,
        SourceRow.name,
        ArticleRow.url,
        ArticleRow.title,
    )
    .join(SourceRow, SourceRow.id == ArticleRow.source_id)
    .where(ArticleRow.story_id.in_(bindparam("stories", expanding=True)))
    .order_by(ArticleRow.story_id, ArticleRow.id)
)
_CARRIERS = (
    select(ArticleRow.story_id, SourceRow.key, SourceRow.name)
    .join(ArticleLinkRow, ArticleLinkRow.article_id == ArticleRow.id)
    .join(SourceRow, SourceRow.id == ArticleLinkRow.source_id)
    .where(ArticleRow.story_id.in_(bindparam("stories", expanding=True)))
    .distinct()
)


def others(
    session: Session, story_ids: Sequence[int], *, limit: int = 20
) -> dict[int, list[Other]]:
    """Members of each story, oldest first (at most `limit` per story: a story picked up by
    fifty outlets lists the first twenty), keyed by story id."""
    out: dict[int, list[Other]] = {}
    ids = sorted(set(story_ids))
    for start in range(0, len(ids), CHUNK):
        rows = read(session, _OTHERS, {"stories": ids[start : start + CHUNK]})
        for ident, story, key, name, url, title in rows:
            if story is None:
                continue
            found = out.setdefault(story, [])
            if len(found) <= limit:
                found.append(Other(ident, story, key, name, url, title))
    return out


def carriers(session: Session, story_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Every source that listed each story, `{story: {source key: name}}`: the sources of
    its articles and those that only listed one of them again (a merged duplicate has no
    article of its own, so `others` cannot name it). The archive's card names them all, so
    its « aussi couvert par N sources » agrees with the score's coverage."""
    out: dict[int, dict[str, str]] = {}
    ids = sorted(set(story_ids))
    for start in range(0, len(ids), CHUNK):
        for story, key, name in read(session, _CARRIERS, {"stories": ids[start : start + CHUNK]}):
            if story is not None:
                out.setdefault(int(story), {})[str(key)] = str(name)
    return out
