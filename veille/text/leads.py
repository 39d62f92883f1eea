"""The lead of a news text as a scraper gives it: what comes before its first sentence (a
byline, the page's dates, a breadcrumb, a wire's dateline: `body_of`), a headline's label
(`TITLE_LABEL`), and the days its opening cites (`cited_days`). Story grouping reads the
lead's names, figures and days after these (`collect.storykeys`, docs/dedup.md).
"""

from __future__ import annotations

import re

# What a scraper keeps before an article's first sentence: a byline (« Par Hélène
# Carrasco »), the page's dates (« Publié le 13/10/2026 à 18h05 Mis à jour le … »), a « Lire
# aussi » link, a share button, a live page's « Suivez notre direct », a release's header
# (« Communiqué de presse — Paris, le 3 décembre »), a site's breadcrumb (« Accueil >
# Actualités > Vie municipale »), each on its own line; a wire's or a release's dateline
# (« PARIS, 24 nov (ATP) - », « MONTCALVY (Haute-Lisère), 6 oct (FD) - », « RENNES (AFP) - »,
# « Brussels, 1 December 2026 - »); a label, a note or a live entry's time before a dash
# (« ENTRETIEN - », « Rectificatif - », « (Actualisé avec revendication) - », « 11h52 - »).
# They are no part of the lead: its names and figures are the event's.
_MONTH_WORD = r"[A-Za-zéû]{3,9}\.?"
_RESIDUE = re.compile(
    r"(?:\s*(?:(?:Par|By)\s+[A-ZÀ-Þ][^\n.!?:]{0,90}"
    r"|(?:Publi[ée]e?|Mise? à jour|Modifi[ée]e?|Actualis[ée]e?)\s+le\b[^\n]{0,100}"
    r"|Lire aussi\b[^\n]{0,160}|Partager\b[^\n]{0,60}|Suivez (?:notre|le) direct\b[^\n]{0,40}"
    r"|Communiqu[ée] de presse\b[^\n]{0,100}|[^\n>.!?]{1,40}(?:\s[>›]\s[^\n>.!?]{1,40}){2,6}"
    rf"|[A-ZÀ-Þ][\w'’ -]{{1,40}}?,\s*(?:le\s+)?\d{{1,2}}(?:er)?\s+{_MONTH_WORD}(?:\s+\d{{4}})?"
    # a short line that ends no sentence: a masthead, a rubric, a date, a label
    r"|[^\n]{0,99}[^\n\s.!?…»:;,]"
    r")[ \t]*\n"
    rf"|\s*[A-ZÀ-Þ][\w'’ -]{{1,40}}?(?:\s*\([^()\n]{{1,30}}\))?,\s*(?:le\s+)?\d{{1,2}}(?:er)?"
    rf"\s+{_MONTH_WORD}"
    r"(?:\s+\d{4})?(?:\s*\([^()\n]{1,20}\))?\s*[-–—]\s+"
    r"|\s*[A-ZÀ-Þ][A-ZÀ-Þ' -]{1,40}\([^()\n]{1,20}\)\s*[-–—]\s+"
    r"|\s*(?:[A-ZÀ-Þ]{4,}|Rectificatif|Erratum|\([^()\n]{1,60}\)|\d{1,2}h\d\d)\s*[-–—]\s+)+"
)
# A headline's label before a dash or colon (« EN DIRECT - Cyberattaque au département… »,
# « VIDÉO. », « Exclusif : »): no part of the headline, whose first word is then read as a
# sentence's first word (a common noun capitalised, not a name).
TITLE_LABEL = re.compile(
    r"^\s*(?:en direct|direct|live|vid[ée]o|exclusif|exclusivit[ée]|entretien|interview|info"
    r"|alerte|urgent|flash|tribune|[ée]dito|br[èe]ve|photos?|podcast|infographie|document"
    r"|r[ée]cit|enqu[êe]te|analyse|d[ée]cryptage|reportage)\s*(?:[-–—:|.]\s+|\s[-–—]\s*)",
    re.IGNORECASE,
)

# An opinion piece's or an interview's label: at the head of its title (« Éditorial — … »,
# « Tribune : « … » », « Point de vue – … ») or, in capitals, on the line that opens its text
# (« ENTRETIEN — Un mois après sa prise de fonctions… », « TRIBUNE. »). Such a piece
# comments or questions an event; the news of that event is another item (the pairs'
# guide, docs/dedup.md).
_COMMENTARY_LABELS = (
    "[ée]ditorial|[ée]dito|tribune|opinion|point de vue|chronique|billet|carte blanche"
    "|entretien|interview"
)
_COMMENTARY_TITLE = re.compile(
    rf"^\s*(?:grand\s+)?(?:{_COMMENTARY_LABELS})\s*(?:[-–—:|.]\s|\s[-–—])", re.IGNORECASE
)
# The same labels, in capitals only (« [ÉE]DITORIAL »): a text's first line in lower case
# is a sentence, not a label.
_COMMENTARY_LINE = re.compile(
    rf"^[ \t]*(?:GRAND\s+)?(?:{_COMMENTARY_LABELS.upper()})[ \t]*(?:[-–—:|.]|$)",
    re.MULTILINE,
)


def commentary(title: str, text: str) -> bool:
    """Is the article an opinion piece or an interview by its label (`_COMMENTARY_TITLE`),
    in its title or before its first sentence (what `body_of` leaves out)?"""
    if _COMMENTARY_TITLE.match(title):
        return True
    text = text.lstrip()
    residue = _RESIDUE.match(text)
    return residue is not None and _COMMENTARY_LINE.search(text, 0, residue.end()) is not None


# A social network's page title that names only the post's author (« Post de Sandrine
# Maupas », « Publication d'Odile Franceschi »): no headline. The post tells its news in its
# first sentence, after the author's signature line (« Sandrine Maupas · Cheffe de projet à la
# DINUM », a header line `body_of` leaves out); the author is a person, who ties two
# articles by the text's names but tells no events apart.
_AUTHOR_TITLE = re.compile(
    r"^\s*(?:[Pp]ost|[Pp]ublication|[Mm]essage)\s+(?:de\s+|d['’]\s*)"
    r"(?P<author>[A-ZÀ-Þ][\w'’.-]*(?:\s+(?:(?:de|du|le|la)\s+)?[A-ZÀ-Þ][\w'’.-]*){0,3})\s*$"
)


def post_author(title: str) -> str:
    """The author a post's title names when it names nothing else (`_AUTHOR_TITLE`), or
    ""."""
    author = _AUTHOR_TITLE.match(title)
    return author.group("author") if author else ""


# A post's signature line, its first line: the author's name (two to four capitalised words),
# a middle dot and the role (« Théo Baradel · Vice-président de Rocheval Métropole, délégué
# au numérique »). A masthead (« LA LETTRE DATA PUBLIQUE · n° 213 ») is in capitals, a
# publication's line gives a date or a number (« Insee Première · Paru le 05/11/2026 »): no
# figure in a role.
_SIGNATURE = re.compile(
    r"\A\s*[A-ZÀ-Þ][a-zà-ÿ'’.-]+(?:[ \t]+(?:(?:de|du|le|la)[ \t]+)?[A-ZÀ-Þ][a-zà-ÿ'’.-]+){1,3}"
    r"[ \t]+·[ \t]+(?P<role>[^\n\d·]{3,150})\n"
)


def post_role(text: str) -> str:
    """The role a post's signature line gives its author (`_SIGNATURE`: « Maire de
    Frémontel »), or "": whatever the post's title (« Fier de ce vote », « Message du maire
    aux habitants »), the body it speaks for is named there, not by its site (a social
    network's)."""
    signature = _SIGNATURE.match(text)
    return signature.group("role").strip() if signature else ""


def headline_of(title: str) -> str:
    """The headline a title gives: its label left out (`TITLE_LABEL`), nothing when it only
    names a post's author (`post_author`)."""
    return "" if _AUTHOR_TITLE.match(title) else TITLE_LABEL.sub("", title)


# fmt: off
_MONTHS = [
    "janvier", "fevrier", "mars", "avril", "mai", "juin",
    "juillet", "aout", "septembre", "octobre", "novembre", "decembre",
]
# fmt: on
_DAY = re.compile(r"\b(\d{1,2})(?:er)?\s+(" + "|".join(_MONTHS) + r")\b")
# A weekday without its date (« lancé mercredi ») is no cited day: resolved to the last such
# day before the publication it tied distinct stories of one week on both unseen sets
# (docs/dedup.md, « Recall on unseen writing »). It is read apart (`cited_weekdays`) and
# dates an earlier article's event only when the lead tells that article's subjects
# (`stories._cites_the_weekday`). « lundi prochain », « chaque mardi », « mardi 3 mars » (a
# date: `_DAY`) are none.
_WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
_WEEKDAY = re.compile(r"(?<!chaque )\b(" + "|".join(_WEEKDAYS) + r")\b(?!\s+(?:prochain|\d))")


def cited_days(folded: str) -> set[tuple[int, int]]:
    """(day, month)… that the folded text (`french.story_fold`) cites: « le 1er octobre » →
    (1, 10)."""
    return {(int(day), _MONTHS.index(month) + 1) for day, month in _DAY.findall(folded)}


def cited_weekdays(folded: str) -> set[int]:
    """The weekdays (Monday 0) the folded text cites: « a publié lundi » → 0."""
    return {_WEEKDAYS.index(w) for w in _WEEKDAY.findall(folded)} if folded else set()


def body_of(text: str, title: str = "") -> str:
    """The text from its first sentence: a scraper's byline, dates and a wire's dateline
    left out (`_RESIDUE`), and `title` when the text opens on it as a sentence of its own
    (`_past_title`)."""
    text = text.strip()
    residue = _RESIDUE.match(text)
    body = text[residue.end() :].strip() if residue else text
    return _past_title(body, title) if title else body


# What follows a title the text repeats as its first sentence: an end punctuation, the
# title's or the text's (« Nouveau chapitre » then « Nouveau chapitre ! Je rejoins… »), or a
# line's end (« Le bus prend la route\nÀ partir du… »).
_TITLE_END = re.compile(r"(?:\s*[.!?…]+)?(?:(?<=[.!?…])\s+|[ \t]*\n\s*)")


def _past_title(body: str, title: str) -> str:
    """`body` without its first sentence when that sentence is the title itself: a post's
    page is titled by its first line (« Nouveau chapitre ! Je rejoins aujourd'hui Montaigrel
    Métropole… »), a scraped page may open on its headline. The lead is then the sentence
    after it, where the names are; a title that only opens a longer first sentence (« La
    CNIL publie son rapport annuel 2025 : 17 000 plaintes… ») stays in it."""
    title = " ".join(title.split())
    if not title or body[: len(title)].casefold() != title.casefold():
        return body  # nearly every text: one comparison
    repeated = _TITLE_END.match(body, len(title))
    if repeated is None or repeated.end() == len(body):
        return body
    return body[repeated.end() :]
