"""Archive filters: parsed from a query string, validated, and written back into links.

Filters live in the query string so every view is shareable and works without JavaScript.
Hostile or malformed values become a `QueryError` (HTTP 400), never a server error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from veille.errors import VeilleError
from veille.sources import THEME_IDS

MAX_Q_CHARS = 200
MAX_VALUES = 50
MAX_PAGE = 10_000
PER_PAGE = 20
PERIODS = ("semaine", "mois", "annee")
# `theme=none`: the articles no theme claims (off-topic), OR-combined with other themes.
# Without any `theme`, lists show on-topic articles only (docs/dedup.md).
NO_THEME = "none"
# `pertinence`: best match first (a search's default); without words to match it reads
# as `date`.
Sort = Literal["date", "score", "pertinence"]
SORTS = ("pertinence", "date", "score")


class QueryError(VeilleError):
    """A filter value is invalid (the message says which, in French, for the page)."""


@dataclass(frozen=True)
class ArchiveQuery:
    themes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # source keys
    date_from: date | None = None
    date_to: date | None = None
    period: str | None = None  # a preset that set date_from/date_to
    q: str = ""
    sort: Sort = "date"
    page: int = 1
    per_page: int = PER_PAGE
    # One entry per story (its representative); `group=none` lists every article.
    group: bool = True

    @property
    def off_topic(self) -> bool:
        """`theme=none` is among the themes: off-topic articles are listed too."""
        return NO_THEME in self.themes

    @property
    def default_sort(self) -> Sort:
        """Relevance for a search, newest first otherwise: what no `sort` parameter means."""
        return "pertinence" if self.q else "date"

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def is_filtered(self) -> bool:
        return bool(self.themes or self.sources or self.date_from or self.date_to or self.q)


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [v for v in params.get(name, ()) if v != ""]
    if len(values) > 1:
        raise QueryError(f"Le paramètre « {name} » est donné plusieurs fois.")
    return values[0] if values else None


def _many(params: Mapping[str, Sequence[str]], name: str) -> tuple[str, ...]:
    values: list[str] = []
    for raw in params.get(name, ()):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    if len(values) > MAX_VALUES:
        raise QueryError(f"Trop de valeurs pour « {name} ».")
    return tuple(dict.fromkeys(values))


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value[:10]) if len(value) <= 32 else None
    except ValueError:
        parsed = None
    if parsed is None or not (1990 <= parsed.year <= 2100):
        raise QueryError(f"La date « {name} » doit être au format AAAA-MM-JJ.")
    return parsed


def parse_query(params: Mapping[str, Sequence[str]], *, today: date) -> ArchiveQuery:
    """Validate query-string values (lists, as a multi-dict gives them)."""
    themes = _many(params, "theme")
    unknown = [t for t in themes if t not in THEME_IDS and t != NO_THEME]
    if unknown:
        raise QueryError(f"Thème inconnu : {unknown[0][:40]}.")
    sources = _many(params, "source")
    if any(len(s) > 64 for s in sources):
        raise QueryError("Identifiant de source trop long.")
    q = (_one(params, "q") or "").strip()
    if len(q) > MAX_Q_CHARS:
        raise QueryError(f"La recherche est limitée à {MAX_Q_CHARS} caractères.")
    sort = _one(params, "sort") or ("pertinence" if q else "date")
    if sort not in SORTS:
        raise QueryError("Le tri doit être « pertinence », « date » ou « score ».")
    if sort == "pertinence" and not q:
        sort = "date"  # nothing to be relevant to
    page_raw = _one(params, "page") or "1"
    if not page_raw.isdigit() or not 1 <= int(page_raw) <= MAX_PAGE:
        raise QueryError("Numéro de page invalide.")
    group = _one(params, "group") or "story"
    if group not in ("story", "none"):
        raise QueryError("Le regroupement doit être « story » ou « none ».")
    period = _one(params, "period")
    date_from = _date(_one(params, "from"), "from")
    date_to = _date(_one(params, "to"), "to")
    if period is not None:
        if period not in PERIODS:
            raise QueryError("Période inconnue (semaine, mois ou annee).")
        days = {"semaine": 7, "mois": 31, "annee": 366}[period]
        date_from, date_to = today - timedelta(days=days - 1), None
    if date_from and date_to and date_from > date_to:
        raise QueryError("La date de début est après la date de fin.")
    return ArchiveQuery(
        themes=themes,
        sources=sources,
        date_from=date_from,
        date_to=date_to,
        period=period,
        q=q,
        sort=sort,  # type: ignore[arg-type]
        page=int(page_raw),
        group=group == "story",
    )


def to_params(query: ArchiveQuery, **changes: object) -> list[tuple[str, str]]:
    """The query string of `query` with `changes` applied (page reset unless given)."""
    if "page" not in changes:
        changes["page"] = 1
    q = replace(query, **changes)  # type: ignore[arg-type]
    if ("sort" not in changes and query.sort == query.default_sort) or (
        q.sort == "pertinence" and not q.q
    ):
        q = replace(q, sort=q.default_sort)  # the default follows the search words
    out: list[tuple[str, str]] = [("theme", t) for t in q.themes]
    out += [("source", s) for s in q.sources]
    if q.period:
        out.append(("period", q.period))
    else:
        if q.date_from:
            out.append(("from", q.date_from.isoformat()))
        if q.date_to:
            out.append(("to", q.date_to.isoformat()))
    if q.q:
        out.append(("q", q.q))
    if q.sort != q.default_sort:
        out.append(("sort", q.sort))
    if not q.group:
        out.append(("group", "none"))
    if q.page != 1:
        out.append(("page", str(q.page)))
    return out


def toggled(values: Iterable[str], value: str) -> tuple[str, ...]:
    current = tuple(values)
    return tuple(v for v in current if v != value) if value in current else (*current, value)
