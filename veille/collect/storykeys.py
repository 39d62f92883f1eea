"""The keys of an article that tell one event from another of the same topic, beyond
shared words: the names of bodies and places, the figures and years, the days cited and the
follow-up words of its title and first sentence (`StoryKeys`). `stories.same_story` decides
on them; the story index finds candidates by their names (docs/dedup.md, « Measured on
pairs »).

Only the title and first sentence are parsed word by word; the rest of the text is searched
once for capitalised words, so that a long article costs about as much as its lead. How
the lead's words are read as names is `storynames`'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from veille.collect import storystates
from veille.collect.storyangles import credited_names
from veille.collect.storyhooks import first_statement, says_little
from veille.collect.storynames import (
    REFERENCE,
    SENTENCE_END,
    acronyms,
    author_names,
    capitalised_names,
    common_words,
    joined_names,
    own_page,
    read_names,
    site_names,
)
from veille.collect.storyweekdays import cited_weekdays
from veille.text.english import in_french, is_english, is_term, law_names
from veille.text.figures import ATTRIBUTE, DATE_FIGURES, read_figures
from veille.text.french import stem, story_fold, story_words
from veille.text.leads import (
    body_of,
    cited_days,
    commentary,
    headline_of,
    post_author,
    post_role,
)
from veille.text.urls import registrable_domain, web_names

# « Dix jours après son lancement », « il y a deux semaines », « compte déjà », « premier
# bilan »: the lead tells what came of an earlier event, so a day or more after an article
# on that event it is a follow-up (the pairs' follow-ups; coverage within a day says
# « déjà » too, hence the day).
# « Deux semaines après la Sorme, l'Arbenne… » compares with another body's event (a name
# follows, as in `storynames.REFERENCE`): no follow-up of this one.
_FOLLOW_UP = re.compile(
    r"\b(?:[\w-]+\s+(?:jours?|semaines?|mois)\s+apr[eè]s"
    r"(?!\s+(?-i:(?:l[ae]\s+|l['’]|les\s+)?[A-ZÀ-Þ]))"
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
    "appointment": r"nomm\w*|nomination|designe\w*|recrut\w*|devient"
    r"|prend (?:ses|les) fonctions|prise de fonctions?"
    # the appointed person's own post (« Je rejoins aujourd'hui la Métropole comme… »)
    r"|je rejoins|j.ai rejoint|rejoin\w* [^.!?]{0,60}\bcomme",
    "report": r"rapport annuel|barometre|observatoire|panorama",
    "guide": r"guides?|recommandations?|lignes? directrices|mode d.emploi|guidelines",
    "call": r"appels? a (?:projets|candidatures|manifestation)|candidatures?|candidater",
    "winners": r"laureat\w*",
    "sanction": r"sanction\w*|amendes?|inflige\w*",
    "attack": r"cyberattaque|rancongiciel|piratage|pirates|(?:attaque|incident) informatique"
    r"|incident de cybersecurite",
    "restored": r"reprennent|retabli\w*|reprise",
}
_ACT = re.compile("|".join(rf"\b(?P<{k}>{v})\b" for k, v in _ACT_WORDS.items()))
# A title that says it corrects or updates an earlier article of its site (« Rectificatif :
# … », « (mis à jour) »): one more version of that article's story, not a later event.
_REVISION = re.compile(
    r"\b(?:rectificatif|erratum|correctif|actualis[ée]e?|mis(?:e)? à jour|update[d]?)\b",
    re.IGNORECASE,
)


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
    # The weekdays the opening gives its event (« publié mardi »: `storyweekdays`).
    lead_weekdays: frozenset[int] = frozenset()
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
    # A post's (`leads.post_role`, « Post de … »): the stemmed words of its first sentence,
    # its headline (« Fier de ce vote » tells nothing): the story index looks candidates up
    # by them as by a title's words.
    headline: frozenset[str] = frozenset()
    # An opinion piece or an interview by its label (`leads.commentary`: « Éditorial — … »,
    # « ENTRETIEN — … »): it comments the news, it is not the news (`stories.same_story`).
    commentary: bool = False
    # The states of its thing the lead tells (`storystates`: halted, back, outcome…), and
    # those the opening tells or its acts imply: a later lead telling a state the earlier
    # opening does not is a follow-up (`stories.hours_apart`).
    states: frozenset[str] = frozenset()
    opening_states: frozenset[str] = frozenset()
    # The bodies the opening credits with a dated publication (« publiés jeudi par le
    # Cerema »: `storyangles.credited_names`): a local angle names its source's body so.
    credits: frozenset[str] = frozenset()


NONE: frozenset[str] = frozenset()
NO_KEYS = StoryKeys(frozenset(), frozenset(), frozenset(), frozenset())


# « 24 heures sur 24 », « 7 jours sur 7 », « 24h/24 », « 7j/7 »: around the clock, no amount.
_AROUND_THE_CLOCK = re.compile(r"\b(\d{1,2})\s*(?:h|heures?|j|jours?)\s*(?:sur|/)\s*\1\b")


def _undated(text: str) -> str:
    """`text` without its dates, times (`figures.DATE_FIGURES`) and « 24 heures sur 24 »:
    what its figures are read in."""
    if "sur" in text or "/" in text:
        text = _AROUND_THE_CLOCK.sub(" ", text)
    return DATE_FIGURES.sub(" ", text)


# A parenthesis of the lead, where figures are asides (`_told`).
_ASIDE = re.compile(r"\([^()]{0,80}\)")


def _told(dated: str, english: bool) -> bool:
    """Does a lead (its dates left out) give a figure of the event outside parentheses? A
    parenthesis is an aside (« au-delà de l'obligation légale (23 000 euros) », « (26,4
    millions d'abonnements) »): a lead whose only figures are asides states none of its
    own, so they set it apart from no other lead; beside a figure of its own, they still
    may agree with another lead's (`figures.disagree` reads them all)."""
    if "(" not in dated:
        return True
    bare = _ASIDE.sub(" ", dated)
    return any(not ATTRIBUTE.match(bare, end) for _, end, _ in read_figures(bare, english)[1])


# The opening a story's figures are read in (`StoryKeys.figures`): a lead and what
# follows it, wherever the writer put the number (« 84 jeux de données », third sentence).
OPENING_CHARS = 500


def _opening_figures(title: str, body: str, english: bool = False) -> frozenset[str]:
    """The figures of two digits or more (or scaled: « 5 millions ») of the title and the
    body's opening (`OPENING_CHARS`), as values: no years, no dates nor times, no
    population nor duration."""
    opening = _undated(f"{title}\n{body[:OPENING_CHARS]}")
    out = set()
    for value, end, scaled in read_figures(opening, english)[1]:
        if ATTRIBUTE.match(opening, end):
            continue
        if scaled or sum(c.isdigit() for c in value) >= 2:
            out.add(value)
    return frozenset(out)


def story_keys(title: str, text: str, host: str = "") -> StoryKeys:
    """The keys of an article published on `host`. Only the title and first sentence are
    parsed word by word; the rest of the text is searched once for capitalised words
    (`mentioned`), so that a long article costs about as much as its lead.

    A body's own page whose lead names nobody (`own_page`: « La Ville publie… » on
    montbrial.fr) has its site's name as subject: it is that body's event, so the
    subjects veto keeps two towns' own pages apart (`stories.same_story`, against another
    own page only); a news site's nameless lead (national news naming only « l'État »)
    keeps no subject."""
    body = body_of(text, title)
    raw_title, title = title, law_names(headline_of(title))
    first, after = first_statement(body)  # past a hook of questions (`storyhooks`)
    rest = [after] if after else []
    first = law_names(first)
    lead = [title, first]
    lead_text = f"{title}\n{first}"
    # The days of the opening: a trade weekly's long article tells the event in its second
    # sentence (« Le contrat qu'elle a attribué le 1er octobre… »), after a sentence of context.
    # And the lines before the lead (`body_of`'s residue): minutes head their text with the
    # meeting's day (« CONSEIL MÉTROPOLITAIN DU 24 SEPTEMBRE 2026 »). A page's own dates there
    # (« Communiqué de presse — 13 octobre ») cite its publication's day, which is never the
    # day of, or after, an article published a day or more earlier (`stories.hours_apart`).
    header = text[: len(text) - len(body)][-OPENING_CHARS:]
    folded_opening = story_fold(f"{title}\n{body[:OPENING_CHARS]}")
    days = cited_days(folded_opening) | (cited_days(story_fold(header)) if header else set())
    # « après X, » clauses are left out of the lead only: searching the whole text for
    # them would cost more than all the rest (2 ms for 10 KB).
    whole = "\n".join([REFERENCE.sub(" ", lead_text), *rest])
    # Laws (`law_names`) and sites named are read in the opening only: each is one more
    # search, and an article names what it is about early.
    opening_text = law_names(f"{title}\n{body[:OPENING_CHARS]}")
    web = web_names(opening_text)
    opening = capitalised_names(REFERENCE.sub(" ", opening_text)) | web
    opening |= acronyms(opening_text) | joined_names(opening_text)
    role = post_role(text)
    if post_author(raw_title) or role:  # a post's signature line names its author's body
        opening |= capitalised_names(text[: len(text) - len(body)])
    mentioned = opening | capitalised_names(whole)
    names, people, bracketed = read_names(lead, text, common_words(opening_text))
    author = author_names(raw_title)
    names, people = names | author, people | author
    english = is_english(lead_text)
    # A population or a duration (« (420 000 habitants) ») describes the body or the kind
    # of event, in every article on it: no event's figure (as in `_opening_figures`).
    dated = _undated(lead_text)
    years, numbers = read_figures(dated, english)
    figures = {value for value, end, _ in numbers if not ATTRIBUTE.match(dated, end)}
    if figures and not _told(dated, english):
        figures = set()  # only asides: « au-delà de l'obligation légale (23 000 euros) »
    if english:  # a headline in title case: « Commission Unveils Data Union Strategy »
        names = {n for n in names if not is_term(n)}
    domain = registrable_domain(host) if host else ""
    # A post's site is a social network's, no body's: the body it speaks for is the one its
    # signature names (« Maire de Frémontel »; the role's first word is capitalised anyway).
    speaker = _speaker(role) if role else site_names(host)
    site = frozenset() if names | bracketed else speaker
    own = not names and bool(site) and own_page(domain, lead_text)
    folded_lead = story_fold(lead_text)
    acts = frozenset(m.lastgroup for m in _ACT.finditer(folded_lead) if m.lastgroup)
    states = storystates.states(folded_lead)
    return StoryKeys(
        mentioned=frozenset(mentioned | site),
        lead_names=frozenset(names | bracketed | {w for w in web if w in lead_text.lower()}),
        lead_years=frozenset(years),
        lead_figures=frozenset(figures),
        subjects=frozenset(site if own else names - people),
        site=site,
        lead_days=frozenset(days),
        follow_up=_FOLLOW_UP.search(lead_text) is not None,
        lead_weekdays=cited_weekdays(folded_opening),
        host=domain,
        revision=_REVISION.search(title) is not None,
        own=own,
        acts=acts,
        english=english,
        figures=_opening_figures(title, body, english),
        opening=frozenset(opening),
        # a post's headline is its first sentence, so is a brief's titled by its rubric
        headline=_words(first) if role or post_author(raw_title) or says_little(title) else NONE,
        commentary=commentary(raw_title, text),
        states=states,
        # and the sentences after the lead (`OPENING_CHARS` of them)
        opening_states=states
        | storystates.states(story_fold(rest[0][:OPENING_CHARS] if rest else ""))
        | storystates.implied(acts),
        credits=credited_names(opening_text),
    )


def _speaker(role: str) -> frozenset[str]:
    """The names of a post's signature role (`leads.post_role`) after its first word: the
    body the author speaks for (« Vice-président de Rocheval Métropole » → « rocheval »)."""
    return frozenset(capitalised_names(role.split(None, 1)[1] if " " in role else ""))


def title_words(lead: str) -> frozenset[str]:
    """The stemmed words of the title of "title\ntext…": candidates for the story index
    when the leads share no name (a city's own page rarely names the city)."""
    title, _, text = lead.partition("\n")
    # a post's headline is its first sentence, so is a brief's titled by its rubric
    if post_role(text) or post_author(title) or says_little(title):
        title = f"{title}\n{SENTENCE_END.split(body_of(text, title), maxsplit=1)[0]}"
    if is_english(lead):  # in French terms, as its word vector (`stories.story_vector`)
        title = in_french(title)
    return _words(title)


def _words(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in story_words(text))


def lead_names(lead: str) -> frozenset[str]:
    """The names of a title and first sentence given as "title\ntext…" (the text may be
    cut): how the story index finds candidates whose words are too few for a SimHash to
    see (two feed leads of two sentences)."""
    raw_title, _, text = lead.partition("\n")
    title, text = law_names(headline_of(raw_title)), law_names(text)
    body = body_of(text, raw_title)
    first = first_statement(body)[0]
    names, _, bracketed = read_names([title, first], text)
    names |= author_names(raw_title)
    role = post_role(text)
    if role:  # a post is found by the body its signature names (`story_keys`' `site`)
        names |= _speaker(role)
    # A site named (« Lancement de data.courtavel.fr ») is also its body's name: the press
    # writes « les Courtavelois », never the address.
    web = web_names(f"{title}\n{first}")
    return frozenset(names | bracketed | web | {w for n in web for w in site_names(n)})
