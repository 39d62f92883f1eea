"""Render the demo site's documents: feeds in every format, listing pages, article pages.

Pure functions of the catalog, the base URL and "now": the server renders everything once
at start, so bytes (and ETags) stay stable while it runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from veille.demo.catalog import TRACKING_QUERY, DemoArticle, DemoSource
from veille.frenchformat import PARIS

_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
    "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

def published_at(article: DemoArticle, now: datetime) -> datetime:
    return now - timedelta(hours=article.age_hours)


def french_date(dt: datetime) -> str:
    local = dt.astimezone(PARIS)
    return (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"
        f" à {local.hour} h {local.minute:02d}"
    )


def e(text: str) -> str:
    return escape(text, quote=True)


def body_html(article: DemoArticle) -> str:
    return "".join(f"<p>{e(p)}</p>" for p in article.paragraphs)


def _page(title: str, head_extra: str, body: str, base: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n{head_extra}"
        f'<link rel="stylesheet" href="{base}/static/site.css">\n</head>\n<body>\n{body}\n'
        "</body>\n</html>\n"
    )


def _site_nav(base: str, src: DemoSource | None) -> str:
    links = [(f"{base}/", "Accueil du bouquet")]
    if src is not None:
        links.append((f"{base}{src.home_path}", src.name))
        if src.format != "page":
            links.append((f"{base}{src.feed_path}", "S'abonner au flux"))
    links += [(f"{base}/a-propos.html", "À propos"), (f"{base}/contact.html", "Contact")]
    items = "".join(f'<li><a href="{u}">{e(t)}</a></li>' for u, t in links)
    return f'<nav class="principale" aria-label="Navigation"><ul>{items}</ul></nav>'


def _footer(base: str) -> str:
    return (
        '<footer class="pied"><ul>'
        f'<li><a href="{base}/mentions-legales.html">Mentions légales</a></li>'
        f'<li><a href="{base}/accessibilite.html">Accessibilité : partiellement conforme</a></li>'
        f'<li><a href="{base}/plan-du-site.html">Plan du site</a></li>'
        f'<li><a href="{base}/contact.html">Nous écrire</a></li>'
        "</ul><p>Site de démonstration de veille — textes écrits pour le projet, "
        "lieux et organismes fictifs.</p></footer>"
    )


def _alternate(base: str, src: DemoSource) -> str:
    types = {"atom": "application/atom+xml", "json": "application/feed+json"}
    if src.format in ("page", "sitemap", "broken"):
        return ""
    mime = types.get(src.format, "application/rss+xml")
    return (
        f'<link rel="alternate" type="{mime}" title="{e(src.name)}" href="{base}{src.feed_path}">\n'
    )


def article_page(
    article: DemoArticle, src: DemoSource, related: list[DemoArticle], base: str, now: datetime
) -> str:
    url = base + article.path
    when = published_at(article, now)
    head = (
        f'<link rel="canonical" href="{url}">\n'
        f'<meta name="description" content="{e(article.lede)}">\n'
        f'<meta name="author" content="{e(article.author)}">\n'
        f'<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{e(article.title)}">\n'
        f'<meta property="og:site_name" content="{e(src.name)}">\n'
        f'<meta property="og:url" content="{url}">\n'
        f'<meta property="article:published_time" content="{when.isoformat()}">\n'
        + _alternate(base, src)
    )
    aside = "".join(f'<li><a href="{base}{r.path}">{e(r.title)}</a></li>' for r in related)
    body = (
        f'<header class="bandeau"><p class="marque"><a href="{base}{src.home_path}">'
        f"{e(src.name)}</a></p>{_site_nav(base, src)}</header>\n"
        '<div class="conteneur"><main>\n<article>\n'
        f"<h1>{e(article.title)}</h1>\n"
        f'<p class="meta">Publié le <time datetime="{when.isoformat()}">{french_date(when)}'
        f'</time> par <span class="auteur">{e(article.author)}</span> — {e(article.place)}</p>\n'
        f'<p class="chapo"><strong>{e(article.lede)}</strong></p>\n'
        f"{body_html(article)}\n"
        '<p class="partage">Partager : <a href="#">courriel</a> · <a href="#">imprimer</a></p>\n'
        "</article>\n</main>\n"
        f'<aside class="connexes"><h2>À lire aussi</h2><ul>{aside}</ul>'
        "<h2>Newsletter</h2><p>Recevez chaque semaine notre sélection.</p></aside>\n"
        f"</div>\n{_footer(base)}"
    )
    return _page(f"{article.title} — {src.name}", head, body, base)


def _item_link(article: DemoArticle, src: DemoSource, base: str) -> str:
    url = base + article.path
    return f"{url}?{TRACKING_QUERY}" if src.key in article.tracked_in else url


def rss(src: DemoSource, items: list[DemoArticle], base: str, now: datetime) -> str:
    full = src.format != "rss-summary"
    parts = []
    for a in items:
        link = _item_link(a, src, base)
        own = a.source == src.key
        guid = (
            f'<guid isPermaLink="true">{e(link)}</guid>'
            if own and src.key == "fil-donnees"
            else f'<guid isPermaLink="false">{src.key}:{a.slug}</guid>'
        )
        content = f"<content:encoded><![CDATA[{body_html(a)}]]></content:encoded>" if full else ""
        parts.append(
            f"<item><title>{e(a.title)}</title><link>{e(link)}</link>{guid}"
            f"<pubDate>{format_datetime(published_at(a, now), usegmt=True)}</pubDate>"
            f"<dc:creator>{e(a.author)}</dc:creator>"
            f"<description>{e(a.lede)}</description>{content}</item>"
        )
    title = e(src.name)
    if src.format == "rss-malformed":
        # Ill-formed on purpose: a bare ampersand, an HTML entity XML does not know, and a
        # document cut before its closing tags. feedparser still reads the entries.
        title = f"{src.name} — politique & données"
        parts[1] = parts[1].replace("<description>", "<description>Brève&nbsp;: ", 1)
    doc = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n'
        f"<channel><title>{title}</title><link>{base}{src.home_path}</link>"
        f'<atom:link href="{base}{src.feed_path}" rel="self" type="application/rss+xml"/>'
        f"<description>{e(src.description)}</description><language>fr</language>"
        f"<lastBuildDate>{format_datetime(now, usegmt=True)}</lastBuildDate><ttl>30</ttl>\n"
        + "\n".join(parts)
    )
    if src.format == "rss-malformed":
        return doc + "\n<item><title>Article tronqué"
    return doc + "\n</channel></rss>\n"


def atom(src: DemoSource, items: list[DemoArticle], base: str, now: datetime) -> str:
    entries = []
    for a in items:
        when = published_at(a, now).isoformat()
        entries.append(
            f"<entry><title>{e(a.title)}</title>"
            f'<link rel="alternate" type="text/html" href="{e(_item_link(a, src, base))}"/>'
            f"<id>tag:demo.veille,2024:{src.key}/{a.slug}</id>"
            f"<published>{when}</published><updated>{when}</updated>"
            f"<author><name>{e(a.author)}</name></author>"
            f'<summary type="text">{e(a.lede)}</summary>'
            f'<content type="html">{e(body_html(a))}</content></entry>'
        )
    updated = published_at(items[0], now).isoformat() if items else now.isoformat()
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">\n'
        f"<title>{e(src.name)}</title><subtitle>{e(src.description)}</subtitle>"
        f'<link rel="self" href="{base}{src.feed_path}"/>'
        f'<link rel="alternate" type="text/html" href="{base}{src.home_path}"/>'
        f"<id>tag:demo.veille,2024:{src.key}</id><updated>{updated}</updated>\n"
        + "\n".join(entries)
        + "\n</feed>\n"
    )


def json_feed(src: DemoSource, items: list[DemoArticle], base: str, now: datetime) -> str:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": src.name,
        "home_page_url": base + src.home_path,
        "feed_url": base + src.feed_path,
        "description": src.description,
        "language": "fr",
        "items": [
            {
                "id": f"{src.key}-{a.slug}",
                "url": _item_link(a, src, base),
                "title": a.title,
                "summary": a.lede,
                "content_html": body_html(a),
                "date_published": published_at(a, now).isoformat(),
                "authors": [{"name": a.author}],
                "language": "fr",
            }
            for a in items
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1)


def sitemap(src: DemoSource, items: list[DemoArticle], base: str, now: datetime) -> str:
    urls = [
        f"<url><loc>{base}{src.home_path}</loc><lastmod>{now.isoformat()}</lastmod>"
        "<changefreq>hourly</changefreq></url>"
    ]
    for a in items:
        when = published_at(a, now).isoformat()
        urls.append(
            f"<url><loc>{e(base + a.path)}</loc><lastmod>{when}</lastmod><news:news>"
            f"<news:publication><news:name>{e(src.name)}</news:name>"
            "<news:language>fr</news:language></news:publication>"
            f"<news:publication_date>{when}</news:publication_date>"
            f"<news:title>{e(a.title)}</news:title></news:news></url>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
        + "\n".join(urls)
        + "\n</urlset>\n"
    )


def listing_page(
    src: DemoSource, items: list[DemoArticle], base: str, now: datetime, *, cards: bool
) -> str:
    """A source's home or news listing: article links among navigation boilerplate.

    `cards` renders the `ul.liste-actus` cards the page source's CSS selector targets.
    """
    rows = []
    for a in items:
        when = published_at(a, now)
        link = f"{base}{a.path}" if not cards else a.path  # relative links on the page source
        if cards:
            rows.append(
                f'<li><article class="carte"><h2><a href="{link}">{e(a.title)}</a></h2>'
                f'<p><time datetime="{when.isoformat()}">{french_date(when)}</time></p>'
                f'<p>{e(a.lede)}</p><a class="suite" href="{link}">Lire la suite</a>'
                "</article></li>"
            )
        else:
            rows.append(f'<li><h3><a href="{link}">{e(a.title)}</a></h3><p>{e(a.lede)}</p></li>')
    cls = "liste-actus" if cards else "derniers"
    extra = ""
    if cards:
        extra = (
            f'<nav class="secondaire"><a href="{base}/{src.prefix}/qui-sommes-nous.html">'
            f'Qui sommes-nous ?</a> · <a href="{base}/{src.prefix}/adherer.html">Adhérer</a>'
            f' · <a href="{base}/{src.prefix}/actualites/">Actualités</a></nav>'
        )
    body = (
        f'<header class="bandeau"><p class="marque">{e(src.name)}</p>'
        f"{_site_nav(base, src)}{extra}</header>\n"
        f"<main><h1>{'Actualités' if cards else e(src.name)}</h1>"
        f'<p>{e(src.description)}</p><ul class="{cls}">{"".join(rows)}</ul>'
        '<p class="pagination"><a href="?page=1">1</a></p></main>\n'
        f"{_footer(base)}"
    )
    return _page(src.name, _alternate(base, src), body, base)


def index_page(sources: list[DemoSource], base: str) -> str:
    main = next(s for s in sources if s.format == "rss")
    rows = "".join(
        f'<li><a href="{base}{s.home_path}">{e(s.name)}</a> — {e(s.description)}</li>'
        for s in sources
    )
    body = (
        f'<header class="bandeau"><p class="marque">Bouquet de démonstration</p>'
        f"{_site_nav(base, None)}</header>\n"
        "<main><h1>Sources de démonstration</h1>"
        "<p>Ce site local rassemble des sources fictives pour essayer la veille sans "
        f"connexion.</p><ul>{rows}</ul></main>\n{_footer(base)}"
    )
    return _page("Bouquet de démonstration", _alternate(base, main), body, base)


def plain_page(title: str, text: str, base: str) -> str:
    body = (
        f'<header class="bandeau">{_site_nav(base, None)}</header>'
        f"<main><h1>{e(title)}</h1><p>{e(text)}</p></main>{_footer(base)}"
    )
    return _page(title, "", body, base)


def robots(base: str, sitemap_path: str) -> str:
    return (
        "# Robots du site de démonstration : tout est permis sauf l'administration.\n"
        "User-agent: *\nAllow: /\nDisallow: /admin/\n\n"
        f"Sitemap: {base}{sitemap_path}\n"
    )


def utc_now_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
