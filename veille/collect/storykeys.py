"""The keys of an article that tell one event from another of the same topic, beyond
shared words: the names of bodies and places, the figures and years, the days cited and the
follow-up words of its title and first sentence (`StoryKeys`). `stories.same_story` decides
on them; the story index finds candidates by their names (docs/dedup.md, « Measured on
pairs »).

Only the title and first sentence are parsed word by word; the rest of the text is searched
once for capitalised words, so that a long article costs about as much as its lead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from veille.text.english import in_french, is_english, is_term, law_names
from veille.text.figures import ATTRIBUTE, DATE_FIGURES, read_figures
from veille.text.french import stem, story_fold, story_words
from veille.text.leads import body_of, cited_days, headline_of, post_author
from veille.text.urls import registrable_domain, web_names

# Capitalised words that name a kind of body or a common thing, not one body: they neither
# tell two events apart nor tie them together. Then the labels a headline starts with
# (« Rectificatif : … », « Vidéo : … »), the formats and laws of the field (« au
# format GTFS », « le RGPD ») and the feasts of the calendar (« depuis la Toussaint »):
# they name no place and no body. « Bruxelles » in the news is the EU's institutions (« Bruxelles
# consulte sur… »), the Commission under another name.
_GENERIC_TEXT = """
ville villes commune communes collectivite collectivites metropole communaute agglomeration agglo
region regions departement departements conseil commission mairie prefecture prefectures
ministere ministre
etat gouvernement republique france francais francaise europe europeen europeenne european
union agence ia ai api data open day licence ouverte europa
rectificatif erratum correction actualise actualisation exclusif video infographie interview
portrait tribune edito editorial direct alerte breve urgent flash communique
gtfs netex siri json csv xml pdf rss dcat wms wfs rgpd gdpr
toussaint noel paques pentecote ascension
bruxelles brussels
"""
GENERIC_NAMES = frozenset(_GENERIC_TEXT.split())
# A sentence ends after « . », « ! », « ? », or a closing quotation that follows one: a
# quotation inside a sentence (« à haut risque » au sens de l'article 6) ends nothing.
# A post ends a sentence on an emoji as on a full stop (« nous avons lancé Ludre Data 🚀 Une
# plateforme… »): the next sentence's first word is no name.
_EMOJI = "\u2600-\u27bf\U0001f300-\U0001faff"
_SENTENCE_END = re.compile(rf"(?:(?<=[.!?{_EMOJI}])|(?<=[.!?]»)|(?<=[.!?][\s\u202f]»))\s+|\n+")
_TOKEN = re.compile(r"[^\W_][\w'’.-]*[^\W_]|[^\W_]")
_PIECE = re.compile(r"[-'’.]")
_ELIDED = re.compile(r"^(?:[ldjmnst]|qu|jusqu|lorsqu|puisqu)['’](?=\w)", re.IGNORECASE)
_HEADLINE_PLACE = re.compile(r"\s*[^\s:]+\s*:")
_CAPITALISED = re.compile(r"(?<!\w)[A-ZÀ-ÖØ-ÞŒ]\w+")
# « Après le Haut-Vercel, le Val-Mordane… », « Comme Valmont, … »: a fronted clause that
# names another body to compare, not the subject; it is read as if absent (« d'après
# l'Insee, » names a source: it stays).
_OF = r"d(?:u|e la|e l['’]|es|e)"
_REFERENCE = re.compile(
    rf"(?<![dD]['’])\b(?:apr[eè]s|comme|à l['’]instar {_OF}|à la suite {_OF})"
    r"\s[^,.;:!?()«»]{0,60},",
    re.IGNORECASE,
)
# « Dix jours après son lancement », « il y a deux semaines », « compte déjà », « premier
# bilan »: the lead tells what came of an earlier event, so a day or more after an article
# on that event it is a follow-up (the pairs' follow-ups; coverage within a day says
# « déjà » too, hence the day).
_FOLLOW_UP = re.compile(
    r"\b(?:[\w-]+\s+(?:jours?|semaines?|mois)\s+apr[eè]s"
    r"|il y a\s+[\w-]+\s+(?:jours?|semaines?|mois)"
    r"|d[ée]j[àa]|premiers?\s+(?:bilan|r[ée]sultats|chiffres))\b",
    re.IGNORECASE,
)
# What a lead says happened, in kinds of act that never tell one another's event: a vote,
# an appointment, an annual report or barometer, a guide or recommendations, a call for
# projects, its winners, a sanction, an attack, services restored. Matched on the folded
# title and first sentence (`story_fold`); an act the lead does not name is no evidence.
_ACT_WORDS = {
    "vote": r"vote|votee?s?|adopt\w*|approuv\w*|feu vert|delibere",
    "appointment": r"nomm\w*|nomination|designe\w*|recrut\w*|devient|prend ses fonctions",
    "report": r"rapport annuel|barometre|observatoire|panorama",
    "guide": r"guides?|recommandations?|lignes? directrices|mode d.emploi|guidelines",
    "call": r"appels? a (?:projets|candidatures|manifestation)|candidatures?|candidater",
    "winners": r"laureat\w*",
    "sanction": r"sanction\w*|amendes?|inflige\w*",
    "attack": r"cyberattaque|rancongiciel|piratage|pirates",
    "restored": r"reprennent|retabli\w*|reprise",
}
_ACT = re.compile("|".join(rf"\b(?P<{k}>{v})\b" for k, v in _ACT_WORDS.items()))
_PARENTHESIS = re.compile(r"\([^()]{0,80}\)")  # « Montbrial (Haute-Arvenne) », « (CNIL) »
_QUOTE = re.compile(r"[«»“”\"]")
# A segment of a sentence: between quotation marks or dashes (« Insee Focus n° 412 – Selon
# l'enquête… »: the word after a dash is capitalised anyway).
# A headline asks and answers in one line (« Martine Obert, première femme élue maire ?
# Verdict au conseil de samedi », « ChatGPT interdit ? Ce que dit la circulaire »): after
# its « ? » or « ! » a sentence starts, whose capitalised first word is no name. (A body's
# sentences are already cut there, `_SENTENCE_END`.)
_SEGMENT = re.compile(r"[«»“”\"]|\s[–—]\s|(?<=[?!])\s+")
_QUOTED = re.compile(r"«[^«»]{0,400}»|“[^“”]{0,400}”")
# A body's own page: it speaks of itself as « la Ville », « la Métropole », « le
# Département » (capitalised, no name after it: the press writes « la Métropole de
# Lisandre »), or in the first person (« notre portail », « nos équipes »), outside quotes;
# or its site's name says what kind of body it is (« vernasse-agglo.fr », « mairie-x.fr »).
_KINDS = (
    "Ville|Mairie|Commune|Métropole|Agglomération|Agglo|Communauté|Département|Région"
    "|Collectivité|Intercommunalité|Préfecture"
)
_SELF = re.compile(
    rf"(?:\b[Ll][ae]\s+|\b[Ll]['’])(?:{_KINDS})\b(?!-|\s+(?:de|du|des|d['’])\b|\s+[A-ZÀ-Þ])"
    r"|\b(?:[Nn]otre|[Nn]os|[Nn]ous)\b"
)
_SITE_KINDS = frozenset(
    {"ville", "mairie", "commune", "metropole", "agglo", "agglomeration", "communaute", "cc"}
    | {"cu", "departement", "region", "prefecture"}
)
# A title that says it corrects or updates an earlier article of its site (« Rectificatif :
# … », « (mis à jour) »): one more version of that article's story, not a later event.
_REVISION = re.compile(
    r"\b(?:rectificatif|erratum|correctif|actualis[ée]e?|mis(?:e)? à jour|update[d]?)\b",
    re.IGNORECASE,
)
_ARTICLES = frozenset({"le", "la", "les", "l", "du", "des", "de", "d", "au", "aux"})
# A demonym is its place: « Montbrialais » → « montbrial », « Castelmoinais » and
# « Castelmoine » → « castelmoin ». Names are compared in this canonical form.
_DEMONYM = re.compile(r"(?:ais|aise|aises|ien|ienne|iens|iennes|ois|oise|oises)$")


def canonical_name(folded: str) -> str:
    """A folded name without a demonym ending or a final « e », so that a place, its
    feminine and its inhabitants meet (« Haute » / « Haut », « Vernassiens » / « Vernasse »)."""
    bare = _DEMONYM.sub("", folded)
    if len(bare) < 4:
        bare = folded
    return bare[:-1] if bare.endswith("e") and len(bare) > 4 else bare


@dataclass(frozen=True)
class StoryKeys:
    """What tells one event from another of the same topic, beyond shared words: the
    names of bodies and places (capitalised words) and the figures of the title and lead.
    Names are folded and canonical (`canonical_name`)."""

    # Every capitalised word of the title and text; when the lead names nobody (a body's
    # own page: « La Ville publie… »), the words of its site's name too (`site_names`).
    mentioned: frozenset[str]
    lead_names: frozenset[str]  # of the title and first sentence, people included
    lead_years: frozenset[str]
    lead_figures: frozenset[str]  # amounts and counts, not years nor days of a month
    # The lead's names that say whose event it is: no people (« Claire Dumoulin »), no
    # parenthesis (« Montbrial (Haute-Arvenne) »), no « après X, » clause.
    subjects: frozenset[str] = frozenset()
    # The words of the site's name when the lead names nobody (`site_names`): a body's own
    # page rarely names the body, its site does.
    site: frozenset[str] = frozenset()
    # (day, month) the lead cites (« voté le 19 mars »), and whether it tells what came of
    # an earlier event (« dix jours après », « déjà »): see `hours_apart`.
    lead_days: frozenset[tuple[int, int]] = frozenset()
    follow_up: bool = False
    # The site the article was published on (its registrable domain: one site tells one
    # event once, `stories.hours_apart`), and whether its title says it corrects or updates
    # an earlier article (« Rectificatif : … », « (actualisé) »).
    host: str = ""
    revision: bool = False
    # The subjects are the words of the site's name of a body's own page (`own_page`): one
    # body, named when any of them is (« territoires-numeriques.org » by « l'Institut
    # Territoires numériques »).
    own: bool = False
    # The kinds of act the lead tells (`_ACT_WORDS`: vote, appointment, report…).
    acts: frozenset[str] = frozenset()
    # The lead is in English (more English function words than French ones).
    english: bool = False
    # The figures of the opening (`_opening_figures`: « 84 jeux », « 150 000 euros »): two
    # articles that write the same one tell the same event's numbers.
    figures: frozenset[str] = frozenset()
    # The capitalised words of the opening (title and `OPENING_CHARS`), acronyms of bodies
    # spelled out and sites named: what the story index looks candidates up by besides the
    # lead's names (a trade weekly names the body after a sentence of context).
    opening: frozenset[str] = frozenset()


NO_KEYS = StoryKeys(frozenset(), frozenset(), frozenset(), frozenset())


def _segments(sentence: str) -> list[str]:
    """A sentence cut at quotation marks: a quotation's first word is capitalised anyway."""
    return [part for part in _SEGMENT.split(_REFERENCE.sub(" ", sentence)) if part.strip()]


def _capitalised(token: str) -> tuple[bool, str]:
    """(elided, word) of a token: « L'Assemblée » → (True, « Assemblée »)."""
    elided = _ELIDED.match(token)
    return elided is not None, token[elided.end() :] if elided else token


def _is_name(word: str) -> bool:
    return word[:1].isupper() and any(
        len(p) >= 2 and story_fold(p) not in GENERIC_NAMES for p in _PIECE.split(word)
    )


def _folded_pieces(word: str) -> list[str]:
    """The name pieces of a capitalised word; a code with figures (« CO2 », « 5G ») names
    nothing."""
    return [
        canonical_name(f)
        for f in (
            story_fold(p)
            for p in _PIECE.split(word)
            if len(p) >= 2 and p[0].isupper() and not any(c.isdigit() for c in p)
        )
        if f not in GENERIC_NAMES
    ]


# « rue Gambetta », « place du Marché »: a street is an address inside a place, a detail a
# rewrite adds or leaves out, like a quoted person; it ties two articles but tells no
# events apart.
_STREETS = frozenset(
    {"rue", "place", "avenue", "boulevard", "quai", "allée", "allee", "impasse", "cours"}
    | {"square"}
)


def _addresses(tokens: list[tuple[bool, str]]) -> set[str]:
    """The names of streets in tokens: the capitalised word after « rue », « place du »…"""
    out: set[str] = set()
    for i, (_, word) in enumerate(tokens):
        if word.lower() not in _STREETS:
            continue
        j = i + 1
        while j < len(tokens) and j - i <= 3 and tokens[j][1].lower() in _ARTICLES:
            j += 1
        if j < len(tokens) and _is_name(tokens[j][1]):
            out.update(_folded_pieces(tokens[j][1]))
    return out


_PARTICLES = frozenset({"Le", "La", "De", "Du", "Des", "Van", "Von", "Di", "Da"})


def _people(tokens: list[tuple[bool, str]]) -> set[str]:
    """Names of two capitalised words in a row, neither first in its segment nor after an
    article: « a lancé Claire Dumoulin », « le maire, Jean-Luc Pradier » (not « La Rochelle »,
    not « Selon OpenDataFrance »)."""
    named = [
        i > 0 and not elided and _is_name(word) and story_fold(word) not in _ARTICLES
        for i, (elided, word) in enumerate(tokens)
    ]
    named.append(False)  # past the end
    out: set[str] = set()
    for i in range(1, len(tokens) - 1):
        pair = named[i] and named[i + 1] and not named[i - 1] and not named[i + 2]
        if pair and story_fold(tokens[i - 1][1]) not in _ARTICLES:
            out.update(_folded_pieces(tokens[i][1]) + _folded_pieces(tokens[i + 1][1]))
        # « le maire, Yannick Le Floc'h », « Anne de La Tour »: a particle between the names
        particle = i + 2 < len(tokens) and tokens[i + 1][1] in _PARTICLES
        person = particle and named[i] and named[i + 2] and not named[i - 1]
        if person and not named[i + 3] and story_fold(tokens[i - 1][1]) not in _ARTICLES:
            out.update(_folded_pieces(tokens[i][1]) + _folded_pieces(tokens[i + 2][1]))
    return out


# « l'Assemblée départementale », « le Conseil régional »: a kind of body followed by its
# level names no body — the text's or site's body, written generically (its own page says
# « l'Assemblée départementale » where the press writes « le conseil départemental des
# Monts-d'Argens »). « l'Assemblée nationale » is one body: « national » is no level here.
_LEVELS = re.compile(
    r"(?:departement|region|municip|communautaire|metropolit|intercommun|plenier|permanent)"
)
# A word written in lower case (not a site's name: « data.montcalvy.fr »).
_LOWER_WORD = re.compile(r"(?<![\w.@/-])[a-zà-öø-ÿœ][a-zà-öø-ÿœ-]+(?![\w-]*\.[a-z])")


def common_words(opening: str) -> frozenset[str]:
    """The words `opening` writes in lower case, folded and stemmed: a capitalised word of
    the lead among them is a common noun (« Données : l'opposition vote… » then « la
    stratégie de la donnée »; a product's « Montcalvy Données »), not a name."""
    return frozenset(stem(w) for w in story_fold(" ".join(_LOWER_WORD.findall(opening))).split())


def _names(
    sentences: list[str], text: str, common: frozenset[str] = frozenset()
) -> tuple[set[str], set[str], set[str]]:
    """(names, people among them, names only in parentheses) of sentences: capitalised
    words, folded and canonical. A segment's first word is capitalised anyway: it counts
    when it is elided (« L'Assemblée »), when it heads a « Lieu : … » headline and `text`
    never writes it in lower case (« Vidéoprotection : … » then « la vidéoprotection » is
    a common noun), or when the same word is capitalised elsewhere. Two names in a row
    (« Claire Dumoulin », not « La Rochelle ») are a person: they tie two articles but tell
    no events apart. A piece the opening writes in lower case (`common`, `common_words`)
    and a kind of body before its level (« l'Assemblée départementale ») name nothing."""
    found: set[str] = set()
    initial: set[str] = set()
    people: set[str] = set()
    bracketed: set[str] = set()
    for n, sentence in enumerate(sentences):
        if "(" in sentence:
            sentence = _NAMED_ACRONYM.sub(r"\g<acronym>", sentence)
        for inner in _PARENTHESIS.findall(sentence):
            bracketed.update(p for w in _TOKEN.findall(inner) for p in _folded_pieces(w))
        for k, segment in enumerate(_segments(_PARENTHESIS.sub(" ", sentence))):
            headline = n == 0 and k == 0 and _HEADLINE_PLACE.match(segment) is not None
            tokens = [_capitalised(t) for t in _TOKEN.findall(segment)]
            people.update(_people(tokens) | _addresses(tokens))
            for i, (elided, word) in enumerate(tokens):
                pieces = _folded_pieces(word)
                if not pieces:
                    continue
                after = tokens[i + 1][1] if i + 1 < len(tokens) else ""
                if after[:1].islower() and _LEVELS.match(story_fold(after)):
                    continue
                common_noun = any(stem(p) in common for p in pieces)
                if common_noun and i > 0 and not elided and _is_name(tokens[i - 1][1]):
                    continue  # « Montcalvy Données », a brand: its common noun names nothing
                if i > 0 or elided or (headline and not common_noun and word.lower() not in text):
                    found.update(pieces)
                else:
                    initial.update(pieces)
                if i == 0 and not elided and headline and word not in text:
                    # A headline's « Lieu : » the text never names again may be a rubric
                    # (« Mobilités : », « Cyberattaque : »): it ties, it tells no event apart.
                    people.update(pieces)
    names = found | (initial & found)
    return names, people & names, bracketed - names


def _author_names(title: str) -> set[str]:
    """The names of the author a post's title gives instead of a headline (« Post de
    Sandrine Maupas »: `leads.post_author`): a person, who ties but tells no events apart."""
    return {p for w in _TOKEN.findall(post_author(title)) for p in _folded_pieces(w)}


def site_names(host: str) -> frozenset[str]:
    """The words of a site's name (« montbrial.fr » → « montbrial »; « data.gouv.fr » →
    « data », generic): what a body's own page names without writing it."""
    return _site_words(registrable_domain(host) if host else "")


def _site_words(domain: str) -> frozenset[str]:
    words = (story_fold(w) for w in re.split(r"[-_]", domain.split(".", 1)[0]))
    return frozenset(canonical_name(w) for w in words if len(w) >= 4 and w not in GENERIC_NAMES)


def own_page(domain: str, lead: str) -> bool:
    """Is `lead` (title and first sentence) on the site `domain` a body's own page? It
    speaks of itself (« la Ville publie », « notre portail »: `_SELF`, quotations left
    out), or its site's name says what kind of body it is (« lisandre-metropole.fr »)."""
    if _SELF.search(_QUOTED.sub(" ", lead)):
        return True
    return any(story_fold(w) in _SITE_KINDS for w in re.split(r"[-_]", domain.split(".", 1)[0]))


# The opening a story's figures are read in (`StoryKeys.figures`): a lead and what
# follows it, wherever the writer put the number (« 84 jeux de données », third sentence).
OPENING_CHARS = 500


def _opening_figures(title: str, body: str, english: bool = False) -> frozenset[str]:
    """The figures of two digits or more (or scaled: « 5 millions ») of the title and the
    body's opening (`OPENING_CHARS`), as values: no years, no dates nor times, no
    population nor duration."""
    opening = DATE_FIGURES.sub(" ", f"{title}\n{body[:OPENING_CHARS]}")
    out = set()
    for value, end, scaled in read_figures(opening, english)[1]:
        if ATTRIBUTE.match(opening, end):
            continue
        if scaled or sum(c.isdigit() for c in value) >= 2:
            out.add(value)
    return frozenset(out)


# A body's name written out (« la Commission nationale de l'informatique et des libertés »)
# is also its acronym (« CNIL »): the initials of a capitalised word and the words after it,
# function words left out, read in the opening only.
_SKIPPED = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "et", "en", "pour", "aux"})
_LINK = r"(?:[ \t]+(?:(?:de|du|des|la|le|les|et|en|pour|aux)[ \t]+|[ld]['’][ \t]*)*)"
# A capitalised word (no article) and up to seven words after it, in one clause.
_SPELLED = re.compile(
    r"\b(?!(?:De|Du|Des|La|Le|Les|Et|En|Pour|Aux|Un|Une)\b)[A-ZÀ-Þ][\w-]*"
    rf"(?:{_LINK}[^\W\d_][\w-]*){{2,7}}"
)


# « l'Institut national de l'information géographique et forestière (IGN) »: a body spelled
# out with its acronym after it is that acronym, one name (`_names`), not its words
# (« Institut » would be read as another body than the press's « l'IGN »).
_NAMED_ACRONYM = re.compile(
    rf"(?:{_SPELLED.pattern})\s*\((?P<acronym>[A-ZÀ-Þ][A-ZÀ-Þ0-9&-]{{1,9}})\)"
)

_ACRONYM_LETTERS = 6  # « CNIL », « INSEE », « DINUM », « ANSSI »…


def _acronyms(opening: str) -> set[str]:
    """The acronyms a spelled-out name of `opening` stands for (« Institut national de la
    statistique et des études économiques » → insee): runs of three to six initials from
    a capitalised word on, within a clause, articles and « de », « et »… left out."""
    out: set[str] = set()
    for match in _SPELLED.finditer(opening):
        words = re.findall(r"[^\W\d_][\w-]*", match.group())
        initials = "".join(
            w[0].lower() if w.isascii() else story_fold(w[0])
            for w in words
            if w.lower() not in _SKIPPED
        )
        longest = min(len(initials), _ACRONYM_LETTERS)
        out.update(canonical_name(initials[:n]) for n in range(3, longest + 1))
    return out


def _capitalised_names(text: str) -> set[str]:
    """The capitalised words of `text`, folded and canonical, the field's common nouns
    left out (`GENERIC_NAMES`)."""
    folded = {story_fold(w) for w in _CAPITALISED.findall(text)}
    return {canonical_name(w) for w in folded - GENERIC_NAMES}


def story_keys(title: str, text: str, host: str = "") -> StoryKeys:
    """The keys of an article published on `host`. Only the title and first sentence are
    parsed word by word; the rest of the text is searched once for capitalised words
    (`mentioned`), so that a long article costs about as much as its lead.

    A body's own page whose lead names nobody (`own_page`: « La Ville publie… » on
    montbrial.fr) has its site's name as subject: it is that body's event, so the
    subjects veto keeps two towns' own pages apart (`stories.same_story`, against another
    own page only); a news site's nameless lead (national news naming only « l'État »)
    keeps no subject."""
    body = body_of(text)
    raw_title, title = title, law_names(headline_of(title))
    first, *rest = _SENTENCE_END.split(body, maxsplit=1)
    first = law_names(first)
    lead = [title, first]
    lead_text = f"{title}\n{first}"
    # The days of the opening: a trade weekly's long article tells the event in its second
    # sentence (« Le contrat qu'elle a attribué le 1er octobre… »), after a sentence of context.
    days = cited_days(story_fold(f"{title}\n{body[:OPENING_CHARS]}"))
    # « après X, » clauses are left out of the lead only: searching the whole text for
    # them would cost more than all the rest (2 ms for 10 KB).
    whole = "\n".join([_REFERENCE.sub(" ", lead_text), *rest])
    # Laws (`law_names`) and sites named are read in the opening only: each is one more
    # search, and an article names what it is about early.
    opening_text = law_names(f"{title}\n{body[:OPENING_CHARS]}")
    web = web_names(opening_text)
    opening = _capitalised_names(_REFERENCE.sub(" ", opening_text)) | web
    opening |= _acronyms(opening_text)
    if post_author(raw_title):  # a post's signature line names its author's body
        opening |= _capitalised_names(text[: len(text) - len(body)])
    mentioned = opening | _capitalised_names(whole)
    names, people, bracketed = _names(lead, text, common_words(opening_text))
    author = _author_names(raw_title)
    names, people = names | author, people | author
    english = is_english(lead_text)
    # A population or a duration (« (420 000 habitants) ») describes the body or the kind
    # of event, in every article on it: no event's figure (as in `_opening_figures`).
    dated = DATE_FIGURES.sub(" ", lead_text)
    years, numbers = read_figures(dated, english)
    figures = {value for value, end, _ in numbers if not ATTRIBUTE.match(dated, end)}
    if english:  # a headline in title case: « Commission Unveils Data Union Strategy »
        names = {n for n in names if not is_term(n)}
    domain = registrable_domain(host) if host else ""
    site = frozenset() if names | bracketed else _site_words(domain)
    own = not names and bool(site) and own_page(domain, lead_text)
    folded_lead = story_fold(lead_text)
    return StoryKeys(
        mentioned=frozenset(mentioned | site),
        lead_names=frozenset(names | bracketed | {w for w in web if w in lead_text.lower()}),
        lead_years=frozenset(years),
        lead_figures=frozenset(figures),
        subjects=frozenset(site if own else names - people),
        site=site,
        lead_days=frozenset(days),
        follow_up=_FOLLOW_UP.search(lead_text) is not None,
        host=domain,
        revision=_REVISION.search(title) is not None,
        own=own,
        acts=frozenset(m.lastgroup for m in _ACT.finditer(folded_lead) if m.lastgroup),
        english=english,
        figures=_opening_figures(title, body, english),
        opening=frozenset(opening),
    )


def title_words(lead: str) -> frozenset[str]:
    """The stemmed words of the title of "title\ntext…": candidates for the story index
    when the leads share no name (a city's own page rarely names the city)."""
    title = lead.partition("\n")[0]
    if is_english(lead):  # in French terms, as its word vector (`stories.story_vector`)
        title = in_french(title)
    return frozenset(stem(w) for w in story_words(title))


def lead_names(lead: str) -> frozenset[str]:
    """The names of a title and first sentence given as "title\ntext…" (the text may be
    cut): how the story index finds candidates whose words are too few for a SimHash to
    see (two feed leads of two sentences)."""
    raw_title, _, text = lead.partition("\n")
    title, text = law_names(headline_of(raw_title)), law_names(text)
    body = body_of(text)
    first = _SENTENCE_END.split(body, maxsplit=1)[0]
    names, _, bracketed = _names([title, first], text)
    names |= _author_names(raw_title)
    return frozenset(names | bracketed | web_names(f"{title}\n{first}"))
