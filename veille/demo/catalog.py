"""The demo site's content, loaded from the packaged data files in `veille/demo/content/`.

Articles are written as data (title, lede, themes, age in articles.yaml) and each original
article has its own body, written for it (bodies/<source>.yaml, keyed by slug): unrelated
articles share no paragraphs, as in real news, so story grouping has nothing spurious to
latch onto. Near-copies reword their original's body. Everything is deterministic: the
same files give the same site, byte for byte, for a given "now", which is what lets tests
assert exact counts and duplicate groups.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

THEME_IDS = ("open_data", "ia", "donnees_interet_general")

# Query string added when an article is relisted by another source's feed, so the
# collector's canonicalisation has tracking parameters to strip.
TRACKING_QUERY = "utm_source=rss&utm_medium=flux&utm_campaign=veille-hebdo"

# Light rewording applied to a near-copy's body: a syndicating site edits the wire text.
_REWORDINGS = (
    (" a annoncé ", " vient d'annoncer "),
    (" indique ", " précise "),
    (" explique ", " détaille "),
    (" également ", " aussi "),
    (" cependant ", " toutefois "),
    (" plusieurs ", " de nombreux "),
    (" désormais ", " dorénavant "),
    (" rappelle ", " souligne "),
    (" pendant ", " durant "),
    (" selon ", " d'après "),
    (" près de ", " environ "),
    (" assure ", " affirme "),
    (" reconnaît ", " admet "),
    (" prévoit ", " envisage "),
    (" a refusé de ", " n'a pas voulu "),
    (" ont découvert ", " ont trouvé "),
    (" devenus inaccessibles", " devenus indisponibles"),
    (" la commune ", " la municipalité "),
    (" les habitants ", " les administrés "),
    (" le premier jour", " le jour même"),
    (" lorsqu'", " quand "),
    (" souvent ", " fréquemment "),
    (" quelques ", " certains "),
)


@dataclass(frozen=True)
class DemoSource:
    """One source of the demo site: how it publishes and where."""

    key: str
    name: str
    prefix: str  # first path segment of everything this source serves
    format: str  # rss | rss-summary | rss-malformed | atom | json | page | sitemap | broken
    weight: float
    interval: int
    tags: tuple[str, ...]
    description: str

    @property
    def kind(self) -> str:
        """The feeds.yaml kind a delegate would declare for this source."""
        if self.format in ("page", "sitemap"):
            return self.format
        return "feed"

    @property
    def home_path(self) -> str:
        return f"/{self.prefix}/"

    @property
    def feed_path(self) -> str:
        """Path of what feeds.yaml points to: the feed, the listing page or the sitemap."""
        return {
            "atom": f"/{self.prefix}/atom.xml",
            "json": f"/{self.prefix}/feed.json",
            "page": f"/{self.prefix}/actualites/",
            "sitemap": f"/{self.prefix}/sitemap-news.xml",
        }.get(self.format, f"/{self.prefix}/rss.xml")

    @property
    def selector(self) -> str | None:
        return "ul.liste-actus h2 a" if self.format == "page" else None


@dataclass(frozen=True)
class DemoArticle:
    """One article of the demo site, with the labels and duplicate links tests rely on.

    `path` is the canonical path (the page's rel=canonical, relative to the site's base
    URL). `listed_in` names every source whose feed lists it (its own first);
    `tracked_in` those that list it with utm_* parameters; `near_copy_of` is the canonical
    path of the article a syndicated, reworded copy was made from.
    """

    slug: str
    path: str
    source: str
    title: str
    lede: str
    themes: tuple[str, ...]
    age_hours: int
    author: str
    place: str
    paragraphs: tuple[str, ...]
    listed_in: tuple[str, ...]
    tracked_in: tuple[str, ...] = ()
    near_copy_of: str | None = None

    @property
    def off_topic(self) -> bool:
        return not self.themes


def _read(name: str) -> Any:
    text = resources.files("veille.demo").joinpath("content", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def themes_yaml_text() -> str:
    """The `themes:` block shared by the demo's feeds.yaml and the repository's feeds.yaml."""
    return (
        resources.files("veille.demo")
        .joinpath("content", "themes.yaml")
        .read_text(encoding="utf-8")
    )


@cache
def demo_sources() -> tuple[DemoSource, ...]:
    return tuple(
        DemoSource(
            key=row["key"],
            name=row["name"],
            prefix=row.get("prefix", row["key"]),
            format=row["format"],
            weight=float(row.get("weight", 1.0)),
            interval=int(row.get("interval", 60)),
            tags=tuple(row.get("tags", ())),
            description=row.get("description", ""),
        )
        for row in _read("sources.yaml")
    )


def source_by_key() -> dict[str, DemoSource]:
    return {s.key: s for s in demo_sources()}


@cache
def _bodies() -> dict[str, tuple[str, ...]]:
    """Every original article's paragraphs, by slug, from the files in content/bodies/."""
    folder = resources.files("veille.demo").joinpath("content", "bodies")
    out: dict[str, tuple[str, ...]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data: dict[str, list[str]] = yaml.safe_load(entry.read_text(encoding="utf-8"))
        for slug, paragraphs in data.items():
            if slug in out:
                raise ValueError(f"bodies/{entry.name}: {slug}: body defined twice")
            out[slug] = tuple(p.strip() for p in paragraphs)
    return out


def _reword(text: str) -> str:
    for old, new in _REWORDINGS:
        text = text.replace(old, new)
    return text


@cache
def demo_manifest_tuple() -> tuple[DemoArticle, ...]:
    sources = source_by_key()
    rows: list[dict[str, Any]] = _read("articles.yaml")
    originals: dict[str, DemoArticle] = {}
    bodies = _bodies()
    authors: list[str] = _read("authors.yaml")
    out: list[DemoArticle] = []
    for row in rows:
        src = sources[row["source"]]
        slug = row["slug"]
        path = f"/{src.prefix}/articles/{slug}.html"
        if "copy_of" in row:
            orig = originals[row["copy_of"]]
            body = [_reword(p) for p in orig.paragraphs]
            article = DemoArticle(
                slug=slug,
                path=path,
                source=src.key,
                title=row["title"],
                lede=row["lede"],
                themes=orig.themes,
                age_hours=int(row["hours"]),
                author=row.get("author", "Rédaction des Dépêches"),
                place=orig.place,
                paragraphs=tuple(body),
                listed_in=(src.key,),
                near_copy_of=orig.path,
            )
        else:
            themes = tuple(row.get("themes") or ())
            for t in themes:
                if t not in THEME_IDS:
                    raise ValueError(f"articles.yaml: {slug}: unknown theme {t!r}")
            if slug not in bodies:
                raise ValueError(f"articles.yaml: {slug}: no body in content/bodies/")
            also = tuple(row.get("also_in") or ())
            article = DemoArticle(
                slug=slug,
                path=path,
                source=src.key,
                title=row["title"],
                lede=row["lede"],
                themes=themes,
                age_hours=int(row["hours"]),
                author=row.get("author") or authors[zlib.crc32(slug.encode()) % len(authors)],
                place=row["lieu"],
                paragraphs=bodies[slug],
                listed_in=(src.key, *also),
                tracked_in=also,
            )
            originals[slug] = article
        out.append(article)
    return tuple(out)


def demo_manifest() -> list[DemoArticle]:
    """Every article of the demo site, in file order, with intended themes and duplicates."""
    return list(demo_manifest_tuple())


def articles_listed_in(source_key: str) -> list[DemoArticle]:
    """The articles a source's feed, page or sitemap lists, newest first."""
    items = [a for a in demo_manifest_tuple() if source_key in a.listed_in]
    return sorted(items, key=lambda a: (a.age_hours, a.slug))


def article_by_path() -> dict[str, DemoArticle]:
    return {a.path: a for a in demo_manifest_tuple()}
