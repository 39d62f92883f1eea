"""The demo site's content, loaded from the packaged data files in `veille/demo/content/`.

Articles are written as data (title, lede, themes, age) and their bodies are assembled from
per-topic paragraph pools, so the text reads like real news while staying maintainable.
Everything is deterministic: the same files give the same site, byte for byte, for a given
"now", which is what lets tests assert exact counts and duplicate groups.
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

THEME_IDS = ("open_data", "ia", "donnees_interet_general")

# Which paragraph pool a theme draws from when it is an article's secondary theme.
_THEME_POOL = {"open_data": "open_data", "ia": "ia", "donnees_interet_general": "dig"}

# Query string added when an article is relisted by another source's feed, so the
# collector's canonicalisation has tracking parameters to strip.
TRACKING_QUERY = "utm_source=rss&utm_medium=flux&utm_campaign=veille-hebdo"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀÂÉÈÊÎÔÛÇ«])")

_SENTENCE_START = re.compile(r"(^|[.!?] )([a-zàâéèêîôûç])")
_ANAPHORA = re.compile(
    r"(Il|Elle|Ils|Elles|C'est|Ce|Cet|Cette|Ces|Celui|Celle|Leur|Leurs|Son|Sa|Ses|Lui|Eux|"
    r"Mais|Pourtant|Toutefois|Encore|Un forum|Un tel|Une partie|Le document|Le montant|Parmi|"
    r"Un travail|Chaque mairie|Des parents|Les premiers retours)\b"
)

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


def _fill(text: str, seed: int, place: str, pools: dict[str, Any]) -> str:
    orgs: list[str] = pools["organismes"]
    people: list[str] = pools["personnes"]
    filled = text.format(
        lieu=place,
        organisme=orgs[seed % len(orgs)],
        personne=people[(seed // 7) % len(people)],
        n=12 + seed % 80,
    )
    # "{organisme} a choisi…" starts a sentence with "la Métropole…": capitalise it.
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), filled)


def _pool_index(pool: str, position: int, size: int) -> int:
    """Map the n-th draw from a pool to a sentence, in a new order on each lap.

    Draws walk a seeded permutation of the pool, so neighbouring articles of one topic
    share nothing, and each lap uses a fresh permutation so that no two articles get the
    same run of sentences.
    """
    lap, offset = divmod(position, size)
    return _lap_order(pool, lap, size)[offset]


@cache
def _lap_order(pool: str, lap: int, size: int) -> tuple[int, ...]:
    order = list(range(size))
    random.Random(f"{pool}:{lap}").shuffle(order)
    return tuple(order)


def _draw(pool: str, cursors: dict[str, int], k: int) -> list[str]:
    sentences = _sentences(pool)
    out = []
    for _ in range(k):
        pos = cursors.get(pool, 0)
        cursors[pool] = pos + 1
        out.append(sentences[_pool_index(pool, pos, len(sentences))])
    return out


def _compose_body(
    slug: str, topic: str, themes: tuple[str, ...], place: str, cursors: dict[str, int]
) -> list[str]:
    """Build 3 to 6 paragraphs of two or three sentences drawn round-robin from the pools.

    Drawing sentences rather than whole paragraphs keeps distinct articles of one topic
    far apart in shingle space, so near-duplicate detection can tell them from the
    syndicated copies.
    """
    pools = _read_paragraphs()
    seed = zlib.crc32(slug.encode("utf-8"))
    count = 3 + seed % 4
    secondary = [_THEME_POOL[t] for t in themes if _THEME_POOL[t] != topic][:2]
    # At most a quarter of a pool per article keeps any two articles' overlap small.
    budget = max(6, len(_sentences(topic)) // 4)
    own = count - len(secondary)
    sizes = [2 + (seed >> (3 + i)) % 2 for i in range(own)]
    while sum(sizes) > budget and max(sizes) > 1:
        sizes[sizes.index(max(sizes))] -= 1
    paragraphs: list[list[str]] = [_draw(topic, cursors, k) for k in sizes]
    for j, pool_name in enumerate(secondary):
        paragraphs.insert(1 + j, _draw(pool_name, cursors, 2))
    return [
        _fill(" ".join(dict.fromkeys(sents)), seed + i * 31, place, pools)
        for i, sents in enumerate(paragraphs)
    ]


@cache
def _sentences(pool: str) -> tuple[str, ...]:
    paragraphs: list[str] = _read_paragraphs()["paragraphes"][pool]
    out: list[str] = []
    for p in paragraphs:
        units: list[str] = []
        for sentence in _SENTENCE_END.split(p.strip()):
            # A sentence that refers back ("Il…", "Cette…") stays with the one before it.
            if units and _ANAPHORA.match(sentence):
                units[-1] += " " + sentence
            elif sentence:
                units.append(sentence)
        out.extend(units)
    return tuple(out)


@cache
def _read_paragraphs() -> dict[str, Any]:
    data: dict[str, Any] = _read("paragraphs.yaml")
    return data


def _reword(text: str) -> str:
    for old, new in _REWORDINGS:
        text = text.replace(old, new)
    return text


@cache
def demo_manifest_tuple() -> tuple[DemoArticle, ...]:
    sources = source_by_key()
    rows: list[dict[str, Any]] = _read("articles.yaml")
    originals: dict[str, DemoArticle] = {}
    cursors: dict[str, int] = {}
    authors: list[str] = _read_paragraphs()["auteurs"]
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
                paragraphs=tuple(_compose_body(slug, row["topic"], themes, row["lieu"], cursors)),
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
