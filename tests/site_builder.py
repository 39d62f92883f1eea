"""A small French news site for pipeline tests, written for the project: article pages,
RSS/Atom feeds that list them (with tracking parameters and relistings), a listing page
and a sitemap, mounted on a `HostileServer` next to its badly behaved routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from tests.hostile_server import Exchange, HostileServer, static

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

PARAGRAPHS = [
    "La métropole a présenté mardi son nouveau portail de données ouvertes, qui rassemble "
    "plus de trois cents jeux de données sur les transports, l'énergie et l'urbanisme.",
    "Les élus ont voté une délibération qui impose la publication des budgets et des "
    "subventions dans un format réutilisable, mis à jour chaque trimestre.",
    "Selon le vice-président chargé du numérique, l'objectif est de permettre aux "
    "associations, aux chercheurs et aux entreprises locales de s'approprier ces informations.",
    "Le service informatique a travaillé six mois avec les directions métiers pour "
    "documenter chaque fichier, préciser les licences et désigner un référent par thème.",
    "Une première rencontre avec les réutilisateurs est prévue au printemps, afin de "
    "recueillir leurs besoins et de prioriser les prochaines publications.",
]


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    age_hours: int


def article_html(base: str, page: Page, *, canonical: bool = True) -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in page.paragraphs)
    when = (NOW - timedelta(hours=page.age_hours)).isoformat()
    canon = f'<link rel="canonical" href="{base}/articles/{page.slug}">' if canonical else ""
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>{escape(page.title)} | Le Courrier des territoires</title>{canon}
<meta property="article:published_time" content="{when}"></head>
<body><header><nav><a href="/">Accueil</a>
<a href="/rubrique/numerique">Numérique</a></nav></header>
<main><article><h1>{escape(page.title)}</h1><p class="date">{when}</p>{body}</article></main>
<aside><h2>À lire aussi</h2><ul><li><a href="/articles/autre">Un autre sujet</a></li></ul></aside>
<footer><p>© Le Courrier des territoires — mentions légales</p></footer></body></html>""".encode()


def rss(base: str, title: str, items: list[tuple[str, Page]], *, ttl: int | None = None) -> bytes:
    entries = "".join(
        f"<item><title>{escape(p.title)}</title><link>{escape(link)}</link>"
        f'<guid isPermaLink="false">{escape(p.slug)}</guid>'
        f"<pubDate>{format_datetime(NOW - timedelta(hours=p.age_hours))}</pubDate>"
        f"<description>{escape(p.paragraphs[0])}</description></item>"
        for link, p in items
    )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{base}/</link>{ttl_tag}{entries}</channel></rss>"
    ).encode()


def make_pages() -> list[Page]:
    subjects = [
        "Lyonnaise des données : la métropole ouvre son portail",
        "Budget participatif : les résultats publiés en open data",
        "Transports : les horaires de bus disponibles en temps réel",
        "Cadastre solaire : une carte interactive pour les habitants",
        "Qualité de l'air : les capteurs citoyens versés au portail",
        "Marchés publics : les données essentielles enfin complètes",
    ]
    pages = []
    for i, title in enumerate(subjects):
        rotated = tuple(PARAGRAPHS[i % 5 :] + PARAGRAPHS[: i % 5])
        lead = (
            f"{title}. Article numéro {i} de la série consacrée à l'ouverture des données locales."
        )
        pages.append(Page(f"sujet-{i}", title, (lead, *rotated), age_hours=3 + 5 * i))
    return pages


def mount_site(server: HostileServer) -> list[Page]:
    """Register the site's routes; return its pages."""
    base = server.base_url
    pages = make_pages()
    for page in pages:
        server.route(
            f"/articles/{page.slug}",
            static(article_html(base, page), content_type="text/html; charset=utf-8"),
        )
    a = [(f"{base}/articles/{p.slug}", p) for p in pages[:4]]
    # Feed B relists two of A's articles with tracking parameters, plus one of its own.
    b = [
        (f"{base}/articles/{pages[1].slug}?utm_source=rss&utm_medium=flux", pages[1]),
        (f"{base}/articles/{pages[2].slug}?xtor=RSS-3", pages[2]),
        (f"{base}/articles/{pages[4].slug}", pages[4]),
    ]
    server.route(
        "/feeds/a.xml", static(rss(base, "Flux A", a, ttl=120), content_type="application/rss+xml")
    )
    server.route("/feeds/b.xml", static(rss(base, "Flux B", b), content_type="application/rss+xml"))
    listing = (
        '<!doctype html><html lang="fr"><body><nav><a href="/">Accueil</a>'
        '<a href="/contact">Contact</a></nav><main><ul class="news">'
        f'<li><h3><a href="/articles/{pages[5].slug}">{escape(pages[5].title)}</a></h3></li>'
        f'<li><h3><a href="/articles/{pages[0].slug}">{escape(pages[0].title)}</a></h3></li>'
        '</ul></main><footer><a href="/mentions-legales">Mentions légales</a></footer>'
        "</body></html>"
    ).encode()
    server.route("/actualites/", static(listing, content_type="text/html; charset=utf-8"))
    return pages


def feeds_yaml(base: str, extra: str = "") -> str:
    return f"""themes:
  - id: open_data
    label: Open data
    keywords: [données ouvertes, open data]
sources:
  - key: flux-a
    name: Flux A
    url: {base}/feeds/a.xml
  - key: flux-b
    name: Flux B
    url: {base}/feeds/b.xml
  - key: annonces
    name: Annonces
    url: {base}/actualites/
    kind: page
    selector: "ul.news h3 a"
{extra}"""


class ConditionalFeed:
    """A feed with an ETag and Last-Modified that answers 304 to a matching validator;
    `publish()` changes its body (and so its validators)."""

    def __init__(self, items: list[tuple[str, Page]], base: str) -> None:
        self.items, self.base, self.version = items, base, 1

    def publish(self, items: list[tuple[str, Page]]) -> None:
        self.items, self.version = items, self.version + 1

    def __call__(self, ex: Exchange) -> None:
        etag = f'"v{self.version}"'
        modified = f"Mon, 23 Nov 2026 0{self.version}:00:00 GMT"
        validators = {"ETag": etag, "Last-Modified": modified}
        if ex.headers.get("If-None-Match") == etag:
            ex.reply(304, b"", {**validators, "Cache-Control": "max-age=7200"})
        else:
            body = rss(self.base, "Flux conditionnel", self.items)
            ex.reply(200, body, validators, content_type="application/rss+xml")


def mount_conditional_feeds(server: HostileServer, feeds: list[ConditionalFeed]) -> str:
    """Serve each feed at /cond/N.xml; the feeds.yaml that follows them (keys flux-N)."""
    for n, feed in enumerate(feeds):
        server.route(f"/cond/{n}.xml", feed)
    return "themes: []\nsources:\n" + "".join(
        f"  - key: flux-{n}\n    name: Flux {n}\n    url: {server.base_url}/cond/{n}.xml\n"
        for n in range(len(feeds))
    )
