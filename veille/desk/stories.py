"""The desk decides stories, not articles: a decision on one article of a story applies to
every article of it, and the delegate corrects stories (take an article out, join two).

Why: one story reworded by three sources was three cards on the desk, decided three times.
A keep makes the article acted on the story's lead (`stories.lead_article_id`), so it is
the story's one representative: the archive's card and the edition's one item
(`newsletter.compose` keeps one kept article per story, the representative). Corrections
are stored (`articles.story_pinned`, the story ids themselves): the collector only ever
assigns a story to a new article, so nothing undoes them on the next cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from veille.db import curation as curation_db
from veille.db import stories as story_db
from veille.desk import curation
from veille.desk.curation import CurationError, Outcome, UnknownArticle

DECISION_STATES = {"keep": "kept", "discard": "discarded", "reset": "new"}


def _members_after(session: Session, article_id: int) -> tuple[int | None, list[int]]:
    """The article's story and its other articles, every one of them locked first in id
    order: two delegates acting at once on two articles of one story then wait for each
    other instead of each locking its own article and deadlocking on the other's."""
    story = story_db.story_of(session, article_id)
    if story is None:
        return None, []
    members = sorted(set(story_db.member_ids(session, story)) | {article_id})
    for member in members:
        curation_db.lock_article(session, member)
    return story, [i for i in members if i != article_id]


def decide(
    session: Session, article_id: int, state: str, *, actor: str, now: datetime
) -> list[Outcome]:
    """`curation.decide` on the article, then on the other articles of its story; the
    article acted on comes first. Keep: it becomes the story's lead; back to new: the
    representative rule applies again."""
    story, others = _members_after(session, article_id)
    outcomes = [curation.decide(session, article_id, state, actor=actor, now=now)]
    for other in others:
        outcomes.append(curation.decide(session, other, state, actor=actor, now=now))
    if story is not None:
        if state == "kept":
            story_db.set_lead(session, story, article_id)
        elif state == "new":
            story_db.set_lead(session, story, None)
    return outcomes


def star(
    session: Session, article_id: int, starred: bool, *, actor: str, now: datetime
) -> list[Outcome]:
    others = _members_after(session, article_id)[1]
    outcomes = [curation.star(session, article_id, starred, actor=actor, now=now)]
    for other in others:
        outcomes.append(curation.star(session, other, starred, actor=actor, now=now))
    return outcomes


def bulk(
    session: Session, article_ids: Sequence[int], action: str, *, actor: str, now: datetime
) -> list[Outcome]:
    """`curation.bulk`, story-wide: each story is decided once, by its first listed
    article (in id order, as `curation.bulk` locks)."""
    if action not in curation.BULK_ACTIONS:
        raise CurationError(f"Action groupée inconnue : {action[:20]}.")
    ids = sorted(set(article_ids))
    if not ids:
        raise CurationError("Aucun article sélectionné.")
    if len(ids) > curation.MAX_BULK:
        raise CurationError(f"Au plus {curation.MAX_BULK} articles à la fois.")
    done: set[int] = set()
    out: list[Outcome] = []
    for article_id in ids:
        if article_id in done:
            continue
        if action in ("star", "unstar"):
            found = star(session, article_id, action == "star", actor=actor, now=now)
        else:
            found = decide(session, article_id, DECISION_STATES[action], actor=actor, now=now)
        done.update(o.article_id for o in found)
        out.extend(found)
    return out


@dataclass(frozen=True)
class StoryChange:
    """What a correction did: the stories whose cards change, and the articles moved."""

    stories: tuple[int, ...]
    moved: tuple[int, ...]


def _known(session: Session, article_id: int) -> int:
    story = story_db.story_of(session, article_id)
    if story is None and not story_db.exists(session, article_id):
        raise UnknownArticle(f"Article {article_id} introuvable.")
    return story if story is not None else -1


def take_out(session: Session, article_id: int) -> StoryChange:
    """The article leaves its story for one of its own, for good."""
    _known(session, article_id)
    old, new = story_db.take_out(session, article_id)
    return StoryChange((old, new) if old != new else (old,), (article_id,))


def join(session: Session, article_id: int, other_article_id: int) -> StoryChange:
    """The story of `other_article_id` joins the story of `article_id` (which keeps its
    lead, if any)."""
    if article_id == other_article_id:
        raise CurationError("Un article ne peut pas rejoindre son propre sujet.")
    keep = _known(session, article_id)
    other = _known(session, other_article_id)
    if keep == -1 or other == -1:
        raise CurationError("Cet article n'a pas de sujet à joindre.")
    if keep == other:
        raise CurationError("Ces deux articles sont déjà dans le même sujet.")
    moved = story_db.join(session, keep, other)
    return StoryChange((keep, other), tuple(moved))


def lead(session: Session, article_id: int) -> StoryChange:
    """The article becomes its story's representative (the delegate's pick)."""
    story = _known(session, article_id)
    if story == -1:
        raise CurationError("Cet article n'a pas de sujet.")
    story_db.set_lead(session, story, article_id)
    return StoryChange((story,), ())
