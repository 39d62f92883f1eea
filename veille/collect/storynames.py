"""The names a news lead gives, read word by word: capitalised words folded to the
canonical form of a body or place (`canonical_name`), told apart from people, streets,
rubrics and common nouns capitalised at a sentence's start; the acronyms a body's name
spelled out stands for; the words of a site's name and whether a page is a body's own.
`storykeys.story_keys` builds an article's keys on them (docs/dedup.md, « Measured on
pairs »).
"""

from __future__ import annotations

import re

from veille.text.french import stem, story_fold
from veille.text.leads import post_author
from veille.text.urls import registrable_domain

# Capitalised words that name a kind of body or a common thing, not one body: they neither
# tell two events apart nor tie them together. Then the labels a headline starts with
# (« Rectificatif : … », « Vidéo : … »), the formats and laws of the field (« au
# format GTFS », « le RGPD »), the feasts of the calendar (« depuis la Toussaint ») and
# the months and days an English text capitalises (« on 24 November »):
# they name no place and no body. « Bruxelles » in the news is the EU's institutions (« Bruxelles
# consulte sur… »), the Commission under another name. The operative verbs of a council's
# délibération, written in capitals (« L'assemblée ADOPTE le schéma… ; AUTORISE le
# Président… »), are no names either, nor the title of the president they empower.
_GENERIC_TEXT = """
ville villes commune communes collectivite collectivites metropole communaute agglomeration agglo
region regions departement departements conseil commission mairie prefecture prefectures
ministere ministre
etat gouvernement republique france francais francaise europe europeen europeenne european
nord sud est ouest
union agence ia ai api data open day licence ouverte europa
rectificatif erratum correction actualise actualisation exclusif video infographie interview
portrait tribune edito editorial direct alerte breve urgent flash communique
gtfs netex siri json csv xml pdf rss dcat wms wfs rgpd gdpr
toussaint noel paques pentecote ascension
january february march april june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
bruxelles brussels
adopte approuve autorise decide designe accepte attribue sollicite abroge mandate valide
prend acte emet arrete confirme approuvent adoptent autorisent decident
president presidente
"""
GENERIC_NAMES = frozenset(_GENERIC_TEXT.split())
# A sentence ends after « . », « ! », « ? », or a closing quotation that follows one: a
# quotation inside a sentence (« à haut risque » au sens de l'article 6) ends nothing.
# A post ends a sentence on an emoji as on a full stop (« nous avons lancé Ludre Data 🚀 Une
# plateforme… »): the next sentence's first word is no name.
_EMOJI = "\u2600-\u27bf\U0001f300-\U0001faff"
SENTENCE_END = re.compile(rf"(?:(?<=[.!?{_EMOJI}])|(?<=[.!?]»)|(?<=[.!?][\s\u202f]»))\s+|\n+")
_TOKEN = re.compile(r"[^\W_][\w'’.-]*[^\W_]|[^\W_]")
_CLAUSE_TOKEN = re.compile(rf"{_TOKEN.pattern}|,")  # tokens and the commas between them
_PIECE = re.compile(r"[-'’.]")
_ELIDED = re.compile(r"^(?:[ldjmnst]|qu|jusqu|lorsqu|puisqu)['’](?=\w)", re.IGNORECASE)
_HEADLINE_PLACE = re.compile(r"\s*[^\s:]+\s*:")
_CAPITALISED = re.compile(r"(?<!\w)[A-ZÀ-ÖØ-ÞŒ]\w+")
# « Après le Haut-Vercel, le Val-Mordane… », « Comme Valmont, … »: a fronted clause that
# names another body to compare, not the subject; it is read as if absent (« d'après
# l'Insee, » names a source: it stays).
_OF = r"d(?:u|e la|e l['’]|es|e)"
REFERENCE = re.compile(
    rf"(?<![dD]['’])\b(?:apr[eè]s|comme|à l['’]instar {_OF}|à la suite {_OF})"
    r"\s[^,.;:!?()«»]{0,60},",
    re.IGNORECASE,
)
_PARENTHESIS = re.compile(r"\([^()]{0,80}\)")  # « Montbrial (Haute-Arvenne) », « (CNIL) »
# A segment of a sentence: between quotation marks or dashes (« Insee Focus n° 412 – Selon
# l'enquête… »: the word after a dash is capitalised anyway).
# A headline asks and answers in one line (« Martine Obert, première femme élue maire ?
# Verdict au conseil de samedi », « ChatGPT interdit ? Ce que dit la circulaire »): after
# its « ? » or « ! » a sentence starts, whose capitalised first word is no name. (A body's
# sentences are already cut there, `SENTENCE_END`.)
_SEGMENT = re.compile(r"[«»“”\"]|\s[-–—]\s|(?<=[?!])\s+")
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
_ARTICLES = frozenset({"le", "la", "les", "l", "du", "des", "de", "d", "au", "aux"})
# A demonym is its place: « Montbrialais » → « montbrial », « Castelmoinais » and
# « Castelmoine » → « castelmoin ». Names are compared in this canonical form.
_DEMONYM = re.compile(r"(?:ais|aise|aises|ien|ienne|iens|iennes|ois|oise|oises)$")


# A demonym doubles its place's last consonant (« Frémontel » → « Frémontellois », « Lyon »
# → « Lyonnais »): a name's canonical form ends on one (« Marseille » and « Marseillais »
# both → « marseil »).
_DOUBLED = frozenset("lnt")


# International bodies whose acronym English and French write apart: the English release's
# « OECD » is the French brief's « OCDE », one body, not two (`storyties.other_body`).
_ACRONYMS_IN_FRENCH = {
    "oecd": "ocde",
    "eu": "ue",
    "nato": "otan",
    "imf": "fmi",
    "ecb": "bce",
    "eib": "bei",
    "wto": "omc",
}


def canonical_name(folded: str) -> str:
    """A folded name without a demonym ending or a final « e », so that a place, its
    feminine and its inhabitants meet (« Haute » / « Haut », « Vernassiens » / « Vernasse »,
    « Frémontelloises » / « Frémontel »: `_DOUBLED`); an English acronym of an international
    body in its French form (`_ACRONYMS_IN_FRENCH`)."""
    folded = _ACRONYMS_IN_FRENCH.get(folded, folded)
    bare = _DEMONYM.sub("", folded)
    if len(bare) < 4:
        bare = folded
    if len(bare) > 5 and bare.endswith("es") and bare[-3] == bare[-4] in _DOUBLED:
        bare = bare[:-1]  # a place's plural « e »: « Carvennes » / « Carvennois »
    bare = bare[:-1] if bare.endswith("e") and len(bare) > 4 else bare
    if len(bare) > 4 and bare[-1] == bare[-2] and bare[-1] in _DOUBLED:
        return bare[:-1]
    return bare


def _segments(sentence: str) -> list[str]:
    """A sentence cut at quotation marks: a quotation's first word is capitalised anyway."""
    return [part for part in _SEGMENT.split(REFERENCE.sub(" ", sentence)) if part.strip()]


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
    nothing, nor does a reference number of pieces (« délibération n° 2026-11-CD-047 »)."""
    if sum(any(c.isdigit() for c in p) for p in _PIECE.split(word)) >= 2:
        return []  # « Paris-2024 » still names Paris
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


# A segment that opens on two capitalised words, side by side and alone (« Jean-Marc
# Lavergne veut faire de la donnée… », « Inès Quillévéré a pris ses fonctions… », « Soizic
# Arnaudeau, l'élue qui… »): a portrait's or an appointment's headline, a person.
_FIRST_PAIR = re.compile(
    r"\s*(?P<first>[A-ZÀ-Þ][\w'’-]*[a-zà-ÿ])[ \t]+(?P<last>[A-ZÀ-Þ][\w'’-]*[a-zà-ÿ])"
    r"(?![\w'’-])(?![ \t]+[A-ZÀ-Þ])"
)
_FUNCTION_WORDS = frozenset({"en", "the", "un", "une", "ce", "cet", "cette", "ces", "chez", "et"})


def _person_first(segment: str, text: str, common: frozenset[str]) -> set[str]:
    """The names of a person a segment opens on (`_FIRST_PAIR`): `_people` leaves a
    segment's first word out (capitalised anyway), so the surname alone read as a body
    and vetoed every article naming the town instead (« Le maire a présenté… »). Neither
    word may be generic (« Rocheval Métropole »), the first no article nor function word,
    and neither a word the opening writes in lower case (`common`: « Bus Futé », « Guide
    Cerema », « Aubrevoie Données 2030 »); and `text` writes the second word only after
    the first or « M. », « Mme »: a place named alone elsewhere is a place (« Allô
    Fontivry », then « la ville de Fontivry »)."""
    pair = _FIRST_PAIR.match(segment)
    if pair is None:
        return set()
    first, last = pair.group("first", "last")
    if _ELIDED.match(first) or story_fold(first) in _ARTICLES | _FUNCTION_WORDS:
        return set()
    pieces = _folded_pieces(first), _folded_pieces(last)
    if not all(pieces) or any(stem(p) in common for p in pieces[0] + pieces[1]):
        return set()
    named = sum(text.count(f"{before} {last}") for before in (first, "M.", "Mme"))
    return set(pieces[0] + pieces[1]) if text.count(last) <= named else set()


# A part of a law cited by its number (« Article 50 », « Chapter V », « Annex III »), which an
# English text capitalises and a French one rarely does: no body, nor is its numeral.
_REFERENCES = frozenset(
    {"article", "articles", "chapter", "chapitre", "annex", "annexe", "title", "titre"}
    | {"section", "recital", "considerant", "paragraph", "paragraphe"}
)
_NUMBER = re.compile(r"\d+|[IVXL]+")


def _reference(tokens: list[tuple[bool, str]], i: int) -> bool:
    """Is token `i` a law's part before its number, or that number (`_REFERENCES`)?"""
    word = tokens[i][1]
    if story_fold(word) in _REFERENCES:
        return i + 1 < len(tokens) and _NUMBER.fullmatch(tokens[i + 1][1]) is not None
    return (
        i > 0
        and _NUMBER.fullmatch(word) is not None
        and story_fold(tokens[i - 1][1]) in _REFERENCES
    )


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


def read_names(
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
            # A comma parts names (« le maire de Ravenoux, Patrice Lemeunier, »): two
            # capitalised words after it are a person even after a place.
            clauses = [_capitalised(t) for t in _CLAUSE_TOKEN.findall(segment)]
            people.update(_people(clauses) | _addresses(tokens))
            people.update(_person_first(segment, text, common))
            for i, (elided, word) in enumerate(tokens):
                pieces = _folded_pieces(word)
                if not pieces:
                    continue
                after = tokens[i + 1][1] if i + 1 < len(tokens) else ""
                if after[:1].islower() and _LEVELS.match(story_fold(after)):
                    continue
                if _reference(tokens, i):
                    continue  # « Article 50 », « Chapter V », « Annex III »: a law's part
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


def author_names(title: str) -> set[str]:
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
# out with its acronym after it is that acronym, one name (`read_names`), not its words
# (« Institut » would be read as another body than the press's « l'IGN »).
_NAMED_ACRONYM = re.compile(
    rf"(?:{_SPELLED.pattern})\s*\((?P<acronym>[A-ZÀ-Þ][A-ZÀ-Þ0-9&-]{{1,9}})\)"
)

_ACRONYM_LETTERS = 6  # « CNIL », « INSEE », « DINUM », « ANSSI »…


def acronyms(opening: str) -> set[str]:
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


def capitalised_names(text: str) -> set[str]:
    """The capitalised words of `text`, folded and canonical, the field's common nouns
    left out (`GENERIC_NAMES`)."""
    folded = {story_fold(w) for w in _CAPITALISED.findall(text)}
    return {canonical_name(w) for w in folded - GENERIC_NAMES}


# A compound name (« Haut-Val », « Val-d'Ysse », « Saint-Ormel »): capitalised pieces joined
# by hyphens (an apostrophe too), the last one capitalised (not « anti-Covid »), no figure
# (« Paris-2024 »). Searched as any hyphenated word, then filtered: one regular expression
# that checks it all costs twice as much.
_HYPHENATED = re.compile(r"(?<![\w.])[A-ZÀ-ÖØ-Þ][\w'’]*-[\w'’-]*\w")
_LAST_PIECE = re.compile(r"[-'’][A-ZÀ-ÖØ-Þ]\w*$")


def joined_names(text: str) -> set[str]:
    """The compound names of `text` written as one word, as a body's site writes them
    (« la Région Haut-Val » on hautval-region.fr, « Saint-Ormel » on saintormel.fr): what
    a body's own page, whose lead names nobody, is named by (`site_names`)."""
    return {
        canonical_name(story_fold(re.sub(r"[-'’]", "", word)))
        for word in _HYPHENATED.findall(text)
        if _LAST_PIECE.search(word) and not any(c.isdigit() for c in word)
    }
