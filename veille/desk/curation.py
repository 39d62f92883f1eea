"""The delegate's actions on one article of the inbox: keep / discard / back to new, star,
edit the title, summary and comment, add or remove themes. Each action locks the article,
bumps the curation version and writes one audit row naming the actor.

Concurrency (two delegates on the same article):
- decisions, stars and themes are set operations (« kept », « starred », « ia present »):
  replaying them commutes, the last one wins and nothing is lost;
- text edits carry the version the editor started from. When the stored version moved
  meanwhile, the audit rows of the versions in between say which fields changed: an edit
  of *other* fields is merged; an edit of the *same* field (to a different text) raises
  `ConflictError` with the current text, so the second delegate sees it instead of
  silently overwriting it.

Undo is the client re-posting the previous values (documented in docs/desk.md); for
themes, `clear` forgets the delegate's label and puts back the model's decision recorded
in the audit row of the first label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from veille.classify import score as scoring
from veille.classify.certainty import strongest
from veille.db import clicks as click_db
from veille.db import curation as curation_db
from veille.db import themes as theme_db
from veille.db.editions import audit
from veille.db.tables import ArticleRow, CurationRow
from veille.errors import ConflictError, VeilleError
from veille.newsletter.summary import extractive_summary
from veille.sources import THEME_IDS

STATES = ("new", "kept", "discarded")
FIELD_LIMITS = {"title": 500, "summary": 3000, "comment": 3000}
FIELD_LABELS = {"title": "titre", "summary": "résumé", "comment": "commentaire"}
MAX_BULK = 500
# Articles whose `editor` score component follows a new decision on their source: the
# recent ones, which the inbox ranks; older ones catch up at the next reclassification.
RESCORE_WINDOW = timedelta(days=31)
BULK_ACTIONS = ("keep", "discard", "reset", "star", "unstar")


class CurationError(VeilleError):
    """A desk action was refused: unknown article, state, field or theme, text too long."""


class UnknownArticle(CurationError):
    """No stored article has this id."""


@dataclass(frozen=True)
class Outcome:
    article_id: int
    source_id: int
    version: int
    changed: bool


def _article(session: Session, article_id: int) -> ArticleRow:
    article = curation_db.lock_article(session, article_id)
    if article is None:
        raise UnknownArticle(f"L'article {article_id} n'existe pas.")
    return article


def _bump(row: CurationRow, actor: str, now: datetime) -> int:
    row.version = (row.version or 0) + 1
    row.updated_at, row.updated_by = now, actor
    return row.version


def _log(
    session: Session, action: str, article_id: int, actor: str, now: datetime, **detail: Any
) -> None:
    audit(
        session,
        actor=actor,
        action=f"curation.{action}",
        object_type="article",
        object_id=article_id,
        at=now,
        detail=detail,
    )


def decide(session: Session, article_id: int, state: str, *, actor: str, now: datetime) -> Outcome:
    """Keep, discard, or put back to new (`articles.curation`, which the score reads).
    The caller refreshes the source's scores afterwards (`refresh_editor_scores`), in its
    own transaction."""
    if state not in STATES:
        raise CurationError(f"État inconnu : {state[:20]} (new, kept ou discarded).")
    article = _article(session, article_id)
    row = curation_db.curation_row(session, article_id, now)
    before = article.curation or "new"
    if before == state:
        return Outcome(article_id, article.source_id, row.version, False)
    article.curation = state
    version = _bump(row, actor, now)
    _log(session, "decide", article_id, actor, now, before=before, after=state, version=version)
    session.flush()
    return Outcome(article_id, article.source_id, version, True)


def star(session: Session, article_id: int, starred: bool, *, actor: str, now: datetime) -> Outcome:
    article = _article(session, article_id)
    row = curation_db.curation_row(session, article_id, now)
    if bool(row.starred) == starred:
        return Outcome(article_id, article.source_id, row.version, False)
    row.starred = starred
    version = _bump(row, actor, now)
    _log(session, "star", article_id, actor, now, starred=starred, version=version)
    session.flush()
    return Outcome(article_id, article.source_id, version, True)


def bulk(
    session: Session, article_ids: Sequence[int], action: str, *, actor: str, now: datetime
) -> list[Outcome]:
    """One action on many articles, locked in id order (two bulk runs cannot deadlock)."""
    if action not in BULK_ACTIONS:
        raise CurationError(f"Action groupée inconnue : {action[:20]}.")
    ids = sorted(set(article_ids))
    if not ids:
        raise CurationError("Aucun article sélectionné.")
    if len(ids) > MAX_BULK:
        raise CurationError(f"Au plus {MAX_BULK} articles à la fois.")
    out = []
    for article_id in ids:
        if action in ("star", "unstar"):
            out.append(star(session, article_id, action == "star", actor=actor, now=now))
        else:
            state = {"keep": "kept", "discard": "discarded", "reset": "new"}[action]
            out.append(decide(session, article_id, state, actor=actor, now=now))
    return out


def refresh_editor_scores(session: Session, source_ids: Iterable[int], now: datetime) -> int:
    """Recompute the `editor` score component (the delegate's decisions on the source and
    the letter items of it members read) of
    the sources' recent articles. Run in its own transaction after the decisions commit:
    it updates many rows in id order and holds no other lock, so it cannot deadlock with a
    desk action. Returns the number of articles rescored."""
    ids = sorted(set(source_ids))
    counts = curation_db.decision_counts(session, ids)
    read = click_db.read_items_by_source(session, ids)
    done = 0
    for row in curation_db.recent_of_sources(session, ids, now - RESCORE_WINDOW):
        components = dict(row.score_components or {})
        if "editor" not in components:
            continue
        kept, discarded = counts.get(row.source_id, (0, 0))
        value, why = scoring.editor_component(kept, discarded, read.get(row.source_id, 0))
        row.score, row.score_components = scoring.with_component(components, "editor", value, why)
        done += 1
    session.flush()
    return done


def _clean(name: str, value: object) -> str | None:
    if name not in FIELD_LIMITS:
        raise CurationError(f"Champ inconnu : {name[:30]} (title, summary ou comment).")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise CurationError(f"Le champ « {FIELD_LABELS[name]} » doit être un texte.")
    text = " ".join(value.split()) if name == "title" else value.replace("\r\n", "\n").strip()
    if len(text) > FIELD_LIMITS[name]:
        raise CurationError(
            f"Le champ « {FIELD_LABELS[name]} » est limité à {FIELD_LIMITS[name]} caractères."
        )
    return text or None


def shown_value(article: ArticleRow, row: CurationRow, name: str) -> str:
    """What the desk shows for a field: the edit, else the original title, the automatic
    summary, no comment."""
    stored: str | None = getattr(row, name)
    if stored:
        return stored
    if name == "title":
        return article.title or ""
    if name == "summary":
        return extractive_summary(article.title or "", article.text or article.summary or "")
    return ""


def edit(
    session: Session,
    article_id: int,
    fields: Mapping[str, object],
    expected_version: int | None,
    *,
    actor: str,
    now: datetime,
) -> Outcome:
    """Set the edited title, summary and/or comment (an empty text, or the original title,
    goes back to the original / automatic one). `expected_version`: the version the editor
    started from (None: overwrite without checking)."""
    if not fields:
        raise CurationError("Aucun champ à modifier.")
    clean = {name: _clean(name, value) for name, value in fields.items()}
    article = _article(session, article_id)
    row = curation_db.curation_row(session, article_id, now)
    if clean.get("title") is not None and clean["title"] == " ".join(article.title.split()):
        clean["title"] = None  # the original title again: not an edit
    changed = {name: value for name, value in clean.items() if getattr(row, name) != value}
    if not changed:
        return Outcome(article_id, article.source_id, row.version, False)
    if expected_version is not None and expected_version != row.version:
        touched: set[str] = set()
        for earlier in curation_db.edits_after(session, article_id, expected_version):
            touched.update((earlier.detail or {}).get("fields", {}))
        clashes = sorted(name for name in changed if name in touched)
        if clashes:
            names = ", ".join(FIELD_LABELS.get(n, n) for n in clashes)
            raise ConflictError(
                f"L'article {article_id} a été modifié entre-temps ({names}) : "
                "relisez la version enregistrée avant de remplacer.",
                version=row.version,
                current={name: shown_value(article, row, name) for name in clashes},
            )
    before = {name: getattr(row, name) for name in changed}
    for name, value in changed.items():
        setattr(row, name, value)
    version = _bump(row, actor, now)
    _log(session, "edit", article_id, actor, now, fields=changed, before=before, version=version)
    session.flush()
    return Outcome(article_id, article.source_id, version, True)


def _model_view(session: Session, article_id: int, theme: str) -> tuple[float, str] | None:
    """The theme row as it was before the delegate first labelled it (from the audit log);
    None when it was absent. Raises LookupError when no record says."""
    for change in curation_db.theme_changes(session, article_id):
        detail = change.detail or {}
        labels_before = detail.get("labels_before", {})
        if theme in labels_before and labels_before[theme] is None:
            value = detail.get("before", {}).get(theme)
            return (float(value[0]), str(value[1])) if value else None
    raise LookupError(theme)


def _rescore_confidence(session: Session, article: ArticleRow) -> None:
    components = dict(article.score_components or {})
    if "confidence" not in components:
        return
    themes = curation_db.themes_of(session, [article.id]).get(article.id, {})
    value, why = scoring.confidence_component(
        max((p for p, _ in themes.values()), default=0.0),
        strongest(themes, theme_db.active_thresholds(session)),
    )
    article.score, article.score_components = scoring.with_component(
        components, "confidence", value, why
    )


def set_themes(
    session: Session,
    article_id: int,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    clear: Sequence[str] = (),
    actor: str,
    now: datetime,
) -> Outcome:
    """Add or remove themes as editor labels (they override the model at once, survive
    reclassification and train the next model); `clear` forgets a label (undo)."""
    wanted = [*add, *remove, *clear]
    unknown = [t for t in wanted if t not in THEME_IDS]
    if unknown:
        raise CurationError(f"Thème inconnu : {str(unknown[0])[:40]}.")
    if len(set(wanted)) != len(wanted):
        raise CurationError("Un même thème est demandé deux fois.")
    if not wanted:
        raise CurationError("Aucun thème à changer.")
    article = _article(session, article_id)
    row = curation_db.curation_row(session, article_id, now)
    labels = curation_db.labels_of(session, [article_id]).get(article_id, {})
    current = curation_db.themes_of(session, [article_id]).get(article_id, {})
    before: dict[str, list[Any] | None] = {}
    labels_before: dict[str, bool | None] = {}
    for theme, present in [(t, True) for t in add] + [(t, False) for t in remove]:
        if labels.get(theme) is present:
            continue
        value = current.get(theme)
        before[theme] = list(value) if value else None
        labels_before[theme] = labels.get(theme)
        theme_db.set_editor_label(session, article_id, theme, present, actor)
    for theme in clear:
        if theme not in labels:
            continue
        value = current.get(theme)
        before[theme] = list(value) if value else None
        labels_before[theme] = labels[theme]
        try:
            restored = _model_view(session, article_id, theme)
        except LookupError:  # labelled before the desk kept records: the next
            restored = current.get(theme)  # reclassification gives the model's view
        curation_db.delete_label(session, article_id, theme)
        curation_db.set_theme_row(session, article_id, theme, restored)
    if not before:
        return Outcome(article_id, article.source_id, row.version, False)
    _rescore_confidence(session, article)
    version = _bump(row, actor, now)
    _log(
        session,
        "themes",
        article_id,
        actor,
        now,
        add=[t for t in add if t in before],
        remove=[t for t in remove if t in before],
        clear=[t for t in clear if t in before],
        before=before,
        labels_before=labels_before,
        version=version,
    )
    session.flush()
    return Outcome(article_id, article.source_id, version, True)
