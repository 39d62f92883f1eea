"""A source's last collection error in French, for the delegate: one sentence that says
what went wrong and what to do, with the collector's own message kept as the detail.

The collector writes its errors in English for the logs (`sources.last_error`, from
`FetchError`, `ParseError` and the worker); their wording is ours (fetcher.py, netguard.py,
feeds.py, pages.py, worker.py), so the kind is read back from it here, in one place, for
rows written before and after this module alike. `tests/test_source_errors.py` collects
each kind from a real hostile server, so a reworded message that stops matching fails there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STATUS = re.compile(r"\bHTTP (\d{3})\b")


@dataclass(frozen=True)
class SourceError:
    kind: str  # timeout, dns, refused, tls, network, http, too_large, redirects, robots, ...
    sentence: str  # French, for the delegate
    detail: str  # the collector's message, unchanged


# (kind, words of the collector's message that give it away), first match wins.
_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("robots", ("robots.txt",)),
    (
        "timeout",
        ("did not connect within", "did not answer within", "took longer than", "timed out"),
    ),
    (
        "dns",
        (
            "could not resolve the host name",
            "has no address",
            "name or service not known",
            "temporary failure in name resolution",
            "nodename nor servname",
        ),
    ),
    ("blocked", ("refused to fetch",)),
    ("tls", ("ssl", "certificate", "tls")),
    ("refused", ("connection refused", "errno 111")),
    ("redirects", ("redirect loop", "too many redirects", "redirect (")),
    ("too_large", ("larger than the",)),
    ("http", ("answered http",)),
    ("decode", ("is corrupt",)),
    ("empty", ("document is empty", "sitemap is empty")),
    ("html", ("an html page, not a feed",)),
    (
        "parse",
        (
            "not a feed",
            "could not be read as a feed",
            "neither xml nor",
            "not a json feed",
            "not a sitemap",
            "not readable xml",
            "larger than 50 mb",
        ),
    ),
    ("network", ("could not talk to", "connection reset", "server disconnected")),
    ("internal", ("internal error",)),
)

_SENTENCES = {
    "robots": "Le fichier robots.txt du site interdit cette adresse aux robots : la source "
    "n'est pas collectée tant que le site ne l'autorise pas.",
    "timeout": "Le site n'a pas répondu à temps : il est lent ou en panne. La collecte réessaiera.",
    "dns": "Le nom du site est introuvable (DNS) : vérifiez l'adresse de la source, le site "
    "a peut-être changé de nom.",
    "blocked": "Adresse refusée : la veille ne collecte que des sites publics en http ou https.",
    "tls": "La connexion sécurisée (HTTPS) a échoué : le certificat du site est invalide ou "
    "expiré.",
    "refused": "Le site refuse la connexion : le serveur est arrêté ou l'adresse est erronée.",
    "redirects": "Le site renvoie d'une adresse à l'autre sans fin (boucle de "
    "redirections) : vérifiez l'adresse de la source.",
    "too_large": "La réponse du site est trop volumineuse pour être collectée.",
    "decode": "La réponse du site est illisible (données corrompues).",
    "empty": "Le site a renvoyé un document vide.",
    "html": "Cette adresse est une page web, pas un flux : ajoutez la source comme page "
    "(kind: page) ou donnez l'adresse de son flux RSS ou Atom.",
    "parse": "Le document reçu n'est pas un flux RSS, Atom ou JSON lisible, ni un plan de "
    "site : vérifiez l'adresse de la source.",
    "network": "La connexion au site a échoué (réseau). La collecte réessaiera.",
    "internal": "Erreur interne de la veille pendant la collecte de cette source : "
    "consultez le journal du serveur.",
    "other": "La collecte de cette source a échoué.",
}


def http_sentence(status: int) -> str:
    """What an HTTP error status means for the delegate."""
    if status == 404:
        return "L'adresse n'existe plus sur le site (erreur 404) : vérifiez-la."
    if status == 410:
        return "Le site a supprimé cette adresse (erreur 410) : la source est à retirer."
    if status in (401, 403):
        return f"Le site refuse l'accès à la veille (erreur {status})."
    if status == 429:
        return "Le site demande de ralentir (erreur 429) : la collecte reprendra plus tard."
    if 500 <= status < 600:
        return f"Le site est en panne (erreur {status}) : la collecte réessaiera."
    if 300 <= status < 400:
        return f"Le site renvoie vers une adresse qu'il ne donne pas (erreur {status})."
    return f"Le site a répondu par une erreur (HTTP {status})."


def kind_of(message: str) -> str:
    lowered = message.lower()
    for kind, clues in _KINDS:
        if any(clue in lowered for clue in clues):
            return kind
    return "other"


def describe(message: str | None, http_status: int | None = None) -> SourceError | None:
    """The French reading of a stored error; None when the source has none."""
    if not message:
        return None
    kind = kind_of(message)
    if kind == "other" and http_status is not None and http_status >= 400:
        kind = "http"  # a status stored beside a message that does not name it
    if kind == "http":
        found = _STATUS.search(message)
        status = int(found.group(1)) if found else http_status
        if status is not None:
            return SourceError(kind, http_sentence(status), message)
    return SourceError(kind, _SENTENCES[kind], message)


def sentence(message: str | None, http_status: int | None = None) -> str:
    """Only the sentence ("" without an error): for tables and templates."""
    found = describe(message, http_status)
    return found.sentence if found else ""
