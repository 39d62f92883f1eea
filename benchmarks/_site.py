"""The benchmark's synthetic web: 100 sites on 127.0.0.2–127.0.0.101, served by one process.

Two halves, both deterministic from a seed:

* `plan(seed)`: which articles exist, on which host, and which feed lists which article
  under which URL variant (clean, `?xtor=RSS-1` in the site's own category feeds,
  `?utm_source=rss&utm_medium=flux` when another site relists it). Cheap; the driver uses
  it to write feeds.yaml and to count the distinct URLs a naive script would fetch.
* `render(plan)`: the bodies — ~100 KB French-ish article pages (inline CSS/JS, nav,
  sidebars, a few KB of article text, comments, footer) and ~100 KB RSS/Atom feeds.

`serve()` answers from precomputed responses (plain and gzip) on an asyncio event loop with
one listening socket per address, keep-alive, ETag/Last-Modified and 304s, so that the
server costs as little CPU as possible next to the measured collector. Run it alone with
`python benchmarks/_site.py serve` and measure it with `python benchmarks/collect.py
--server-only`.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from itertools import accumulate

HOSTS = tuple(f"127.0.0.{i}" for i in range(2, 102))
OWN_IN_CATEGORY = 10  # own-site articles in each category feed (the main feed lists all)
BASE_DATE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
UTM = "utm_source=rss&utm_medium=flux"
XTOR = "xtor=RSS-1"

# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Shape:
    """How big the web is: `FULL` is the collection benchmark's, `SMALL` a small deployment
    (9 well-behaved feeds, 189 articles: what one association member might follow)."""

    name: str
    hosts: int
    feeds_per_host: int
    entries_per_feed: int
    articles: int


FULL = Shape("full", hosts=100, feeds_per_host=5, entries_per_feed=50, articles=2000)
SMALL = Shape("small", hosts=9, feeds_per_host=1, entries_per_feed=30, articles=189)
SHAPES = {s.name: s for s in (FULL, SMALL)}


@dataclass(frozen=True)
class Article:
    index: int
    host: str
    path: str
    title: str
    published: datetime


@dataclass(frozen=True)
class Feed:
    host: str
    path: str
    key: str
    atom: bool
    entries: tuple[tuple[int, str], ...]  # (article index, query string or "")


@dataclass(frozen=True)
class Plan:
    seed: int
    port: int
    articles: tuple[Article, ...]
    feeds: tuple[Feed, ...]
    shape: Shape = FULL

    @property
    def hosts(self) -> tuple[str, ...]:
        return HOSTS[: self.shape.hosts]

    def article_url(self, index: int, query: str = "") -> str:
        a = self.articles[index]
        url = f"http://{a.host}:{self.port}{a.path}"
        return f"{url}?{query}" if query else url

    def feed_url(self, feed: Feed) -> str:
        return f"http://{feed.host}:{self.port}{feed.path}"

    def distinct_entry_urls(self) -> int:
        """Article URLs as exact strings across all feeds: what a naive script fetches."""
        return len({(i, q) for f in self.feeds for i, q in f.entries})


_SUBJECTS = (
    "données ouvertes",
    "open data",
    "intelligence artificielle",
    "portail de données",
    "budget participatif",
    "transport public",
    "qualité de l'air",
    "gestion des déchets",
    "éclairage public",
    "cadastre solaire",
    "réseau d'eau",
    "marchés publics",
    "état civil",
    "données de mobilité",
    "algorithme public",
    "plan vélo",
    "données énergétiques",
    "sobriété numérique",
    "archives municipales",
    "adressage",
)
_TOWNS = (
    "Valcourt",
    "Brévalle",
    "Arvigne",
    "Loriol-sur-Lèze",
    "Sainte-Ombre",
    "Hautmont-le-Vieux",
    "Merlimont-Bas",
    "Castelroux",
    "Pontarlieu",
    "Givreuil",
    "Saint-Aubrac",
    "Roncevaux-la-Neuve",
    "Fontmorte",
    "Bellerive-des-Prés",
    "Montaubrel",
    "Chaudefeuille",
)
_VERBS = (
    "publie",
    "ouvre",
    "lance",
    "présente",
    "met à jour",
    "expérimente",
    "évalue",
    "documente",
    "mutualise",
    "généralise",
)


def plan(seed: int = 2026, port: int = 8080, shape: Shape = FULL) -> Plan:
    rng = random.Random(seed)
    hosts = HOSTS[: shape.hosts]
    articles = []
    for i in range(shape.articles):
        host = hosts[i % len(hosts)]
        subject = rng.choice(_SUBJECTS)
        town = rng.choice(_TOWNS)
        title = f"{town} {rng.choice(_VERBS)} {subject} : {rng.choice(_NOUNS)} n° {i}"
        slug = f"{i:04d}-{_slug(town)}-{_slug(subject)}"
        published = BASE_DATE - timedelta(minutes=7 * i + rng.randrange(7))
        articles.append(Article(i, host, f"/actualites/2026/11/{slug}.html", title, published))
    by_host: dict[str, list[int]] = {h: [] for h in hosts}
    for a in articles:
        by_host[a.host].append(a.index)
    feeds = []
    for h_i, host in enumerate(hosts):
        own = by_host[host]
        for j in range(shape.feeds_per_host):
            mine = own if j == 0 else rng.sample(own, OWN_IN_CATEGORY)
            entries = [(i, "" if j == 0 else XTOR) for i in mine]
            relist = rng.sample(range(shape.articles), min(80, shape.articles))
            others = [i for i in relist if articles[i].host != host]
            entries += [(i, UTM) for i in others[: shape.entries_per_feed - len(entries)]]
            entries.sort(key=lambda e: articles[e[0]].published, reverse=True)
            feeds.append(
                Feed(
                    host=host,
                    path=f"/flux/{'principal' if j == 0 else f'rubrique-{j}'}.xml",
                    key=f"site-{h_i:03d}-{j}",
                    atom=(h_i * shape.feeds_per_host + j) % 5 == 4,
                    entries=tuple(entries),
                )
            )
    return Plan(seed, port, tuple(articles), tuple(feeds), shape)


def _slug(text: str) -> str:
    out = []
    for ch in text.lower():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif ch in "éèêë":
            out.append("e")
        elif ch in "àâ":
            out.append("a")
        else:
            out.append("-")
    return "-".join(part for part in "".join(out).split("-") if part)


# --------------------------------------------------------------------------- text

_NOUN_WORDS = [
    "la",
    "commune",
    "la",
    "métropole",
    "le",
    "département",
    "la",
    "région",
    "l'agglomération",
    "le",
    "syndicat",
    "l'association",
    "le",
    "conseil",
    "la",
    "délégation",
    "le",
    "service",
    "la",
    "direction",
    "l'équipe",
    "le",
    "portail",
    "le",
    "jeu",
    "de",
    "données",
    "le",
    "catalogue",
    "la",
    "plateforme",
    "le",
    "référentiel",
    "l'inventaire",
    "le",
    "tableau",
    "de",
    "bord",
    "la",
    "licence",
    "le",
    "format",
    "le",
    "schéma",
    "l'interface",
    "le",
    "registre",
    "le",
    "rapport",
    "la",
    "consultation",
    "la",
    "feuille",
    "de",
    "route",
    "le",
    "comité",
    "le",
    "réseau",
    "la",
    "convention",
    "le",
    "marché",
    "le",
    "projet",
    "le",
    "budget",
    "la",
    "carte",
    "l'outil",
    "le",
    "modèle",
    "le",
    "service",
    "public",
    "la",
    "donnée",
    "l'algorithme",
    "la",
    "mission",
]
_NOUNS = tuple(" ".join(_NOUN_WORDS[i : i + 2]) for i in range(0, len(_NOUN_WORDS) - 1, 2))
_ADJ = (
    "ouvert",
    "public",
    "local",
    "territorial",
    "numérique",
    "réutilisable",
    "partagé",
    "annuel",
    "national",
    "européen",
    "accessible",
    "interopérable",
    "documenté",
    "mis à jour",
    "expérimental",
)
_LINK = (
    "afin de",
    "pour",
    "grâce à",
    "malgré",
    "avant",
    "après",
    "avec",
    "selon",
    "dans le cadre de",
    "en lien avec",
)
_EXTRA = (
    "les habitants",
    "les agents",
    "les élus",
    "les chercheurs",
    "les associations",
    "les entreprises locales",
    "la presse",
    "les usagers",
)


_SYLLABLES = [
    "ma",
    "ri",
    "on",
    "té",
    "que",
    "lon",
    "dra",
    "ver",
    "sil",
    "an",
    "ment",
    "tion",
    "bé",
    "ca",
    "dé",
    "fi",
    "ga",
    "li",
    "mo",
    "nu",
    "pa",
    "ro",
    "sa",
    "tu",
    "va",
    "cor",
    "pli",
    "mar",
    "gen",
    "sté",
    "bran",
    "clo",
    "dou",
    "fer",
    "gra",
    "jou",
    "lar",
    "mou",
    "nor",
    "pon",
    "quar",
    "ran",
    "sur",
    "tor",
    "vil",
]
_FUNCTION = [
    "le",
    "la",
    "les",
    "des",
    "de",
    "du",
    "un",
    "une",
    "et",
    "à",
    "pour",
    "sur",
    "dans",
    "par",
    "avec",
    "qui",
    "que",
    "est",
    "sont",
    "a",
    "ont",
    "en",
    "au",
    "aux",
    "ce",
    "cette",
    "ses",
    "leur",
    "plus",
    "ne",
    "pas",
    "se",
    "son",
    "sa",
]


def _lexicon(size: int = 6000) -> tuple[str, ...]:
    """Pseudo-French content words; real news vocabularies are this large or larger."""
    rng = random.Random("lexicon")
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(_SYLLABLES) for _ in range(rng.randrange(2, 5)))] = None
    return tuple(words)


_LEXICON = _lexicon()
# Zipf-like weights (exponent 0.8): a few common words shared by every article, a long tail.
_CUM_WEIGHTS = tuple(accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(_LEXICON))))


def topic_words(rng: random.Random, n: int = 30) -> list[str]:
    return rng.sample(_LEXICON, n)


def sentence(rng: random.Random, topic: str | list[str]) -> str:
    """12–24 words: function words, common words and the article's own topic words."""
    own = [topic] if isinstance(topic, str) else topic
    n = rng.randrange(12, 25)
    common = rng.choices(_LEXICON, cum_weights=_CUM_WEIGHTS, k=n)
    out = []
    for i in range(n):
        r = rng.random()
        if r < 0.4:
            out.append(rng.choice(_FUNCTION))
        elif r < 0.8:
            out.append(common[i])
        else:
            out.append(rng.choice(own))
    if rng.random() < 0.3:
        out += ["en", str(rng.randrange(2015, 2027))]
    return " ".join(out).capitalize() + "."


def paragraph(rng: random.Random, topic: str | list[str], n: int) -> str:
    return " ".join(sentence(rng, topic) for _ in range(n))


# --------------------------------------------------------------------------- rendering

_CSS_RULE = ".c{n} {{ margin: {a}px {b}px; padding: {b}px; color: #{c:06x}; font-size: {d}px; }}\n"


def _site_chrome(rng: random.Random, host: str, site_name: str) -> tuple[str, str, str, str]:
    """Head assets, navigation, sidebar and footer of one site (shared by its pages)."""
    css = "".join(
        _CSS_RULE.format(
            n=n,
            a=rng.randrange(20),
            b=rng.randrange(20),
            c=rng.randrange(1 << 24),
            d=rng.randrange(10, 30),
        )
        for n in range(300)
    )
    js = "".join(
        f"function f{n}(e){{var x=document.querySelectorAll('.c{n}');for(var i=0;i<x.length;i++)"
        f"{{x[i].dataset.v='{rng.randrange(10**6)}';}}return e;}}\n"
        for n in range(200)
    )
    head = f"<style>{css}</style><script>{js}</script>"
    menu = "".join(
        f'<li><a href="/rubrique/{_slug(s)}/">{escape(s.capitalize())}</a><ul>'
        + "".join(
            f'<li><a href="/rubrique/{_slug(s)}/{k}">{escape(t)}</a></li>'
            for k, t in enumerate(_TOWNS[:8])
        )
        + "</ul></li>"
        for s in _SUBJECTS
    )
    nav = (
        f'<header class="site-header"><a class="logo" href="/">{escape(site_name)}</a>'
        f'<nav class="menu"><ul>{menu}</ul></nav>'
        '<form class="search" action="/recherche"><input name="q" placeholder="Rechercher">'
        "<button>OK</button></form></header>"
    )
    most_read = "".join(
        f'<li><a href="/actualites/populaire-{k}.html">'
        f"{escape(paragraph(rng, 'open data', 1))}</a></li>"
        for k in range(25)
    )
    agenda = "".join(
        f"<li><time>{k + 1} décembre</time> {escape(sentence(rng, 'la donnée publique'))}</li>"
        for k in range(15)
    )
    sidebar = (
        '<aside class="sidebar"><section class="most-read"><h3>Les plus lus</h3>'
        f'<ol>{most_read}</ol></section><section class="agenda"><h3>Agenda</h3>'
        f'<ul>{agenda}</ul></section><section class="newsletter"><h3>Lettre d\'information</h3>'
        "<p>Recevez chaque semaine l'essentiel de l'actualité.</p><form><input name=email>"
        "<button>S'inscrire</button></form></section></aside>"
    )
    links = "".join(
        f'<li><a href="/pages/{k}">{escape(rng.choice(_NOUNS).capitalize())}</a></li>'
        for k in range(60)
    )
    footer = (
        f'<footer class="site-footer"><ul class="links">{links}</ul>'
        f"<p>{escape(paragraph(rng, 'les données', 4))}</p>"
        f"<p>© 2026 {escape(site_name)} — mentions légales — accessibilité : partiellement "
        "conforme — gestion des cookies</p></footer>"
    )
    return head, nav, sidebar, footer


def _article_page(
    rng: random.Random, p: Plan, a: Article, chrome: tuple[str, str, str, str], site_name: str
) -> tuple[str, str]:
    """(page HTML, the text the feed carries for it)."""
    head, nav, sidebar, footer = chrome
    topic = [*topic_words(rng), *a.title.split(" : ")[0].split()]
    paras = [paragraph(rng, topic, rng.randrange(4, 7)) for _ in range(rng.randrange(7, 11))]
    body = "".join(f"<p>{escape(x)}</p>" for x in paras[:3])
    body += f"<h2>{escape(sentence(rng, topic)[:-1])}</h2>"
    body += "".join(f"<p>{escape(x)}</p>" for x in paras[3:])
    related = "".join(
        f'<li><a href="{p.article_url(k)}">{escape(p.articles[k].title)}</a></li>'
        for k in rng.sample(range(len(p.articles)), 12)
    )
    comments = "".join(
        f'<li class="comment"><p class="who">Lecteur {rng.randrange(1000)} — il y a '
        f"{rng.randrange(2, 50)} min</p><p>{escape(paragraph(rng, topic, 2))}</p>"
        '<a href="#repondre">Répondre</a></li>'
        for _ in range(rng.randrange(50, 70))
    )
    canonical = p.article_url(a.index)
    date = a.published.isoformat()
    html = (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(a.title)} | {escape(site_name)}</title>"
        f'<link rel="canonical" href="{canonical}">'
        f'<meta property="og:title" content="{escape(a.title)}">'
        f'<meta property="og:site_name" content="{escape(site_name)}">'
        f'<meta property="article:published_time" content="{date}">'
        f'<meta name="description" content="{escape(paras[0][:200])}">'
        f'{head}</head><body>{nav}<div class="layout"><main>'
        '<nav class="breadcrumb"><a href="/">Accueil</a> › '
        '<a href="/actualites/">Actualités</a></nav>'
        f'<article class="post"><h1>{escape(a.title)}</h1><p class="byline">Par la rédaction, '
        f'<time datetime="{date}">{a.published:%d/%m/%Y}</time></p>'
        f'<div class="post-content">{body}</div></article>'
        '<div class="share"><a href="#">Partager</a> <a href="#">Imprimer</a></div>'
        f'<section class="related"><h3>À lire aussi</h3><ul>{related}</ul></section>'
        f'<section class="comments"><h3>Commentaires</h3><ol>{comments}</ol></section>'
        f"</main>{sidebar}</div>{footer}</body></html>"
    )
    return html, " ".join(paras[:4])


def _rss(p: Plan, f: Feed, texts: list[str], site_name: str) -> str:
    items = []
    for i, query in f.entries:
        a = p.articles[i]
        link = p.article_url(i, query)
        text = texts[i]
        items.append(
            f"<item><title>{escape(a.title)}</title><link>{escape(link)}</link>"
            f'<guid isPermaLink="false">{f.key}-{i}</guid>'
            f"<pubDate>{format_datetime(a.published)}</pubDate><dc:creator>Rédaction</dc:creator>"
            f"<description>{escape(text[:500])}</description>"
            f"<content:encoded><![CDATA[<p>{escape(text[:1000])}</p>]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{escape(site_name)}</title><link>http://{f.host}:{p.port}/</link>"
        f"<description>Actualités de {escape(site_name)}</description><language>fr</language>"
        + "".join(items)
        + "</channel></rss>"
    )


def _atom(p: Plan, f: Feed, texts: list[str], site_name: str) -> str:
    entries = []
    for i, query in f.entries:
        a = p.articles[i]
        when = a.published.isoformat()
        text = texts[i]
        entries.append(
            f"<entry><title>{escape(a.title)}</title>"
            f'<link rel="alternate" type="text/html" href="{escape(p.article_url(i, query))}"/>'
            f"<id>tag:{f.host},2026:{f.key}-{i}</id><published>{when}</published>"
            f"<updated>{when}</updated><author><name>Rédaction</name></author>"
            f'<summary type="html">{escape(text[:500])}</summary>'
            f'<content type="html">{escape("<p>" + escape(text[:1000]) + "</p>")}</content></entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        f'xml:lang="fr"><title>{escape(site_name)}</title>'
        f'<link href="http://{f.host}:{p.port}/"/><id>tag:{f.host},2026:{f.key}</id>'
        f"<updated>{BASE_DATE.isoformat()}</updated>" + "".join(entries) + "</feed>"
    )


@dataclass(frozen=True)
class Resource:
    content_type: str
    body: bytes


def render(p: Plan) -> dict[tuple[str, str], Resource]:
    """Every (host, path) of the synthetic web and its body."""
    out: dict[tuple[str, str], Resource] = {}
    chrome = {}
    names = {}
    for n, host in enumerate(p.hosts):
        names[host] = f"Le Journal des Territoires n° {n}"
        chrome[host] = _site_chrome(random.Random(f"{p.seed}-site-{n}"), host, names[host])
        out[(host, "/robots.txt")] = Resource(
            "text/plain; charset=utf-8", b"User-agent: *\nDisallow: /admin/\n"
        )
    texts: list[str] = []
    for a in p.articles:
        rng = random.Random(f"{p.seed}-article-{a.index}")
        html, text = _article_page(rng, p, a, chrome[a.host], names[a.host])
        texts.append(text)
        out[(a.host, a.path)] = Resource("text/html; charset=utf-8", html.encode())
    for f in p.feeds:
        if f.atom:
            out[(f.host, f.path)] = Resource(
                "application/atom+xml; charset=utf-8", _atom(p, f, texts, names[f.host]).encode()
            )
        else:
            out[(f.host, f.path)] = Resource(
                "application/rss+xml; charset=utf-8", _rss(p, f, texts, names[f.host]).encode()
            )
    return out


# --------------------------------------------------------------------------- server

_LAST_MODIFIED = format_datetime(BASE_DATE, usegmt=True)
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n"


@dataclass(frozen=True)
class _Prepared:
    etag: str
    plain: bytes  # header + body
    gzipped: bytes
    not_modified: bytes


def _prepare(res: Resource) -> _Prepared:
    etag = '"' + hashlib.blake2b(res.body, digest_size=8).hexdigest() + '"'
    common = (
        f"Content-Type: {res.content_type}\r\nETag: {etag}\r\n"
        f"Last-Modified: {_LAST_MODIFIED}\r\nVary: Accept-Encoding\r\n"
    )
    zipped = gzip.compress(res.body, compresslevel=6, mtime=0)
    return _Prepared(
        etag=etag,
        plain=f"HTTP/1.1 200 OK\r\n{common}Content-Length: {len(res.body)}\r\n\r\n".encode()
        + res.body,
        gzipped=(
            f"HTTP/1.1 200 OK\r\n{common}Content-Encoding: gzip\r\n"
            f"Content-Length: {len(zipped)}\r\n\r\n"
        ).encode()
        + zipped,
        not_modified=f"HTTP/1.1 304 Not Modified\r\n{common}\r\n".encode(),
    )


class _Http(asyncio.Protocol):
    """Minimal HTTP/1.1 keep-alive server over precomputed answers (GET only)."""

    def __init__(self, table: dict[tuple[str, str], _Prepared], host: str) -> None:
        self.table = table
        self.host = host
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            head, _, self.buf = self.buf.partition(b"\r\n\r\n")
            self._answer(head)

    def _answer(self, head: bytes) -> None:
        assert self.transport is not None
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        target = parts[1] if len(parts) > 1 else "/"
        if target.startswith("http://"):
            target = "/" + target.split("/", 3)[-1]
        path = target.split("?", 1)[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        close = headers.get("connection", "").lower() == "close"
        entry = self.table.get((self.host, path))
        if entry is None:
            self.transport.write(_NOT_FOUND)
        elif headers.get("if-none-match") == entry.etag or (
            "if-none-match" not in headers and headers.get("if-modified-since") == _LAST_MODIFIED
        ):
            self.transport.write(entry.not_modified)
        elif "gzip" in headers.get("accept-encoding", ""):
            self.transport.write(entry.gzipped)
        else:
            self.transport.write(entry.plain)
        if close:
            self.transport.close()


async def _serve(p: Plan) -> None:
    table = {key: _prepare(res) for key, res in render(p).items()}
    loop = asyncio.get_running_loop()
    servers = []
    for host in p.hosts:
        servers.append(
            await loop.create_server(
                lambda h=host: _Http(table, h),  # type: ignore[misc]
                host,
                p.port,
                backlog=1024,
                reuse_address=True,
            )
        )
    size = sum(len(v.plain) for v in table.values())
    print(f"READY {len(table)} resources, {size / 1e6:.0f} MB", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str]) -> None:
    """`_site.py serve SEED PORT [SHAPE]`: render the site and serve it until killed."""
    if len(argv) not in (4, 5) or argv[1] != "serve":
        raise SystemExit("usage: _site.py serve SEED PORT [full|small]")
    shape = SHAPES[argv[4] if len(argv) == 5 else "full"]
    asyncio.run(_serve(plan(int(argv[2]), int(argv[3]), shape)))


if __name__ == "__main__":
    main(sys.argv)
