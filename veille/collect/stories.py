"""Near-duplicate detection: the same story syndicated or reworded across sources.

A SimHash of the folded text finds candidates (`veille.text.fingerprint`); `same_story`
decides on their words' cosine, the dates and their leads' names and figures (`storykeys`),
rules chosen on tests/data/stories/ and story_pairs/ (docs/dedup.md)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from veille.collect.storyangles import local_angle, one_release
from veille.collect.storydays import (
    cited_that_day,
    day_and_eve,
    day_ties,
    days_told,
    event_days,
    paris_day,
    told_that_day,
)
from veille.collect.storykeys import StoryKeys
from veille.collect.storylater import recalled
from veille.collect.storynames import own_page, site_names
from veille.collect.storystates import new_state
from veille.collect.storyties import disjoint, other_body, two_sites
from veille.text import figures
from veille.text.english import in_french, is_english
from veille.text.fingerprint import (
    WordVector,
    contained,
    hamming,
    simhash_of_counts,
    text_similarity,
    word_shingles,
)
from veille.text.french import stem, story_words

DEFAULT_THRESHOLD = 20
# Two-stage variant: a looser SimHash pre-filter, then the exact cosine of the texts.
CANDIDATE_THRESHOLD = 24
MIN_SIMILARITY = 0.5
# The story index's confirmation (`same_story`): cosine of title-and-text stemmed words.
STORY_SIMILARITY = 0.3
# The same when no name ties the two leads (one names a body or place the other mentions):
# words alone must then be as alike as whole articles of one story (`MIN_SIMILARITY`), or
# two texts on one topic (« les données ouvertes des lycées » / « du portail ») meet.
UNNAMED_SIMILARITY = 0.5
# Fewer words (title and text) than this and there is too little to compare: such
# articles never join a story. A feed's lead of one sentence and its title is enough: the
# decision is confirmed on the words, names and figures (`same_story`), not on the SimHash.
MIN_WORDS = 12


def fingerprint(title: str, text: str) -> tuple[int, Counter[str]] | None:
    """The SimHash of the story words of title and text (an English text's in French terms,
    `_story_words`) and the story index's word vector (`story_vector`), from one pass over
    the words; None when there are too few words to group stories (`MIN_WORDS`). The
    extraction workers and the writer (for an article without a page) both call it, so a
    text fingerprints alike whichever of them reads it.
    """
    words = _story_words(title, text)
    if len(words) < MIN_WORDS:
        return None
    return simhash_of_counts(word_shingles(words)), Counter(map(stem, words))


def story_vector(title: str, text: str) -> Counter[str]:
    """The words the texts are compared on: title and text, stemmed, so that « publie » and
    « publiés », « ouvert » and « ouverte » meet (a feed's lead is too short to match on
    exact forms; measured in docs/dedup.md, « Measured on pairs »)."""
    return Counter(stem(w) for w in _story_words(title, text))


# How much of a text tells its language (`english.is_english`): the title and opening.
LANGUAGE_CHARS = 600


def _story_words(title: str, text: str) -> list[str]:
    """The story words of title and text; an English text's in French terms
    (`english.in_french`: « datasets » → « jeux de données »), so that a release in English
    and its French coverage share words beyond cognates (docs/dedup.md, « Across
    languages »)."""
    if is_english(f"{title}\n{text[:LANGUAGE_CHARS]}"):
        title, text = in_french(title), in_french(text)
    return story_words(title) + story_words(text)


# A text alone (no title) of fewer words is no proof that two items are one page: feeds
# repeat one generic description under many titles (`storyindex._same_page`).
COPY_MIN_WORDS = 20


def has_enough_text(text: str, min_words: int = MIN_WORDS) -> bool:
    """Short texts (a title alone, a teaser) give fingerprints too noisy to group stories.
    Callers pass the title and the text: a feed's lead of two sentences is enough."""
    return len(story_words(text)) >= min_words


def assign_story(
    fp: int, candidates: Sequence[tuple[int, int]], threshold: int = DEFAULT_THRESHOLD
) -> int | None:
    """Story id of the nearest candidate `(story_id, fingerprint)` within `threshold` bits.

    Ties go to the first candidate, so callers list the preferred (e.g. oldest) first.
    Fingerprints may be given signed or unsigned.
    """
    best: tuple[int, int] | None = None
    for story_id, other in candidates:
        distance = hamming(fp, other)
        if distance <= threshold and (best is None or distance < best[0]):
            best = (distance, story_id)
    return best[1] if best else None


def assign_story_confirmed(
    fp: int,
    text: str,
    candidates: Sequence[tuple[int, int, str]],
    threshold: int = CANDIDATE_THRESHOLD,
    min_similarity: float = MIN_SIMILARITY,
) -> int | None:
    """Like `assign_story`, but a SimHash match must be confirmed on the texts.

    A 64-bit SimHash of a few hundred words is noisy (±4 bits), so unrelated articles can
    land within `DEFAULT_THRESHOLD`; when the caller has the candidates' texts
    (`(story_id, fingerprint, text)`), this pre-filters loosely and confirms exactly.
    """
    near = sorted(
        ((hamming(fp, other), i) for i, (_, other, _) in enumerate(candidates)),
    )
    for distance, i in near:
        if distance > threshold:
            break
        story_id, _, other_text = candidates[i]
        if text_similarity(text, other_text) >= min_similarity:
            return story_id
    return None


# --------------------------------------------------------------------------- the decision

# Coverage of one event clusters within a day or two; the further apart two articles
# were published, the more alike they must be, from `STORY_SIMILARITY` within
# `SAME_DAY_HOURS` up to `COPY_SIMILARITY` (a near copy: a late syndication) at
# `COVERAGE_HOURS` and beyond. A follow-up days later (« le portail ouvert lundi compte
# déjà… ») is another story.
SAME_DAY_HOURS = 24
COVERAGE_HOURS = 120
COPY_SIMILARITY = 0.8
# Two independent ties, a name and a figure of both openings (« Valmoreuil », « 84 jeux
# de données »): the same event's numbers, written in other words by the press days later
# (an institution's page on Tuesday, the trade weekly on Friday). The cosine required is
# then lower and stays flat over three days before rising to a near copy's.
TIED_SIMILARITY = 0.2
TIED_HOURS = 72
# `hours_apart` of a later event for sure (a follow-up of an earlier lead that told none):
# no cosine joins it.
LATER_EVENT = math.inf
# The least cosine `same_story` ever accepts (`required_similarity` lies between its floors
# and COPY_SIMILARITY): the story index skips a candidate under it without reading its keys
# and dates (~79 candidates per new article, nearly all far below it).
# A body's notice on its own site (« Information importante : incident informatique »: no
# name, no figure, the words of a notice to users) and the press telling an attack on that
# body, the same day: the site names the body, the day and the act are the event's; a body
# suffers one attack at a time (`_own_notice`). Half the named floor.
INCIDENT_SIMILARITY = STORY_SIMILARITY / 2
LOWEST_SIMILARITY = min(
    STORY_SIMILARITY, UNNAMED_SIMILARITY, COPY_SIMILARITY, TIED_SIMILARITY, INCIDENT_SIMILARITY
)


# A brief that retells, days later, what an earlier article told (a newsletter's « En bref »
# a week after the release): it is much shorter than the earlier text and most of its words
# are found there, whereas a follow-up tells new facts in new words. Within a week (a
# weekly's rhythm), such a brief tied by a name needs only the named floor.
RETOLD_HOURS = 7 * 24
BRIEF_RATIO = 1.5  # the earlier text has this many times the brief's words, or more
RETOLD_SHARE = 0.55  # of the brief's words found in the earlier text


def published_hours(a: datetime | None, b: datetime | None) -> float:
    """Hours between two publications (0 when one is unknown)."""
    return abs((b - a).total_seconds()) / 3600 if a is not None and b is not None else 0.0


def retold(
    a: datetime | None, a_words: WordVector, b: datetime | None, b_words: WordVector
) -> bool:
    """Is the later of two articles a brief retelling the earlier one, a day to a week
    later (`RETOLD_HOURS`, `BRIEF_RATIO`, `RETOLD_SHARE`)?"""
    if a is None or b is None:
        return False
    (early, early_words), (late, late_words) = sorted(
        ((a, a_words), (b, b_words)), key=lambda x: x[0]
    )
    if not SAME_DAY_HOURS <= published_hours(early, late) <= RETOLD_HOURS:
        return False
    if int(early_words.counts.sum()) < BRIEF_RATIO * int(late_words.counts.sum()):
        return False
    return contained(late_words, early_words) >= RETOLD_SHARE


def hours_apart(
    a: datetime | None, a_keys: StoryKeys, b: datetime | None, b_keys: StoryKeys
) -> float:
    """How far apart two articles are, for `required_similarity`: the hours between their
    publications (0 when one is unknown), except that

    - a later lead that tells what came of an earlier event (« une semaine après le vote »,
      « compte déjà ») a day or more later is a follow-up: `COVERAGE_HOURS`, only a near
      copy joins;
    - a later lead that cites the day the earlier article was published, or the day before
      (« la charte votée le 11 juin », covered by the trade weekly four days later), is
      coverage of that day's event: 0 — unless it is a week or more later and also
      announces a day to come, its own event (`storylater.recalled`); so is a later
      opening that gives its event the weekday of the earlier publication, within the
      week, when its lead names no other body (« le guide publié mardi », `told_that_day`);
      so are two openings that give one date, within the week (« adoptée le 12 octobre »
      in the weekly six days after the council's page: `storycited.one_cited_day`), and a
      local angle crediting the earlier's body with a publication of that day or the eve
      (`local_angle`);
    - a second article of one site a day or more later is that site's next event (a site
      tells an event once; its update or correction says so in its title: « Rectificatif :
      … », `StoryKeys.revision`): `COVERAGE_HOURS`, only a near copy joins;
    - two leads a day or more apart that tell different kinds of act (a vote, then an
      appointment; a guide, then an annual report: `StoryKeys.acts`) are two acts of
      one body, not one act's coverage: `COVERAGE_HOURS`, only a near copy joins;
    - a body's page on its own site a day or more later whose opening names that body,
      which the earlier lead does not have as subject, tells the body's own act
      (`_own_act`): `COVERAGE_HOURS`, only a near copy joins;
    - a later lead that tells what came of an event when the earlier one does not
      (« premier bilan », « déjà ») is no copy of it whatever the words: `LATER_EVENT`.
    """
    if a is None or b is None:
        return 0.0
    early, late = (a, b) if a <= b else (b, a)
    early_keys, late_keys = (a_keys, b_keys) if a <= b else (b_keys, a_keys)
    hours = (late - early).total_seconds() / 3600
    if hours < SAME_DAY_HOURS:
        return hours  # `required_similarity` is flat within the day
    if new_state(early_keys.opening_states, late_keys.states, late_keys.revision):
        return LATER_EVENT
    if late_keys.follow_up:
        return max(hours, float(COVERAGE_HOURS)) if early_keys.follow_up else LATER_EVENT
    if late_keys.host and late_keys.host == early_keys.host and not late_keys.revision:
        return max(hours, float(COVERAGE_HOURS))
    if disjoint(early_keys.acts, late_keys.acts):
        return max(hours, float(COVERAGE_HOURS))
    if _own_act(early_keys, late_keys):
        return LATER_EVENT
    dates = event_days(late, late_keys)
    if day_and_eve(early) & dates and not recalled(hours, paris_day(late), dates):
        return 0.0
    if told_that_day(early, early_keys, late, late_keys):
        return 0.0
    if local_angle(early_keys, late_keys) and days_told(early, late, late_keys):
        return 0.0
    if cited_that_day(early, early_keys, late, late_keys):
        return 0.0
    return hours


def _own_act(early: StoryKeys, late: StoryKeys) -> bool:
    """Is the later article, a day or more later, a body's page on its own site telling
    that body's part in the earlier one's event (« Escarlac Métropole a été retenue parmi
    les dix collectivités pilotes… » on escarlac-metropole.fr, two days after the State's
    launch)? Its opening names the body of its site, which is none of the earlier lead's
    subjects: a body's own page tells its own act, the coverage of an event names that
    event's body in its lead."""
    if not two_sites(early, late) or not own_page(late.host, ""):
        return False
    own = site_names(late.host)
    return bool(own & late.opening) and not own & early.subjects


def required_similarity(
    hours_apart: float,
    named: bool = True,
    tied: bool = False,
    same_act: bool = False,
    languages: bool = False,
    twice_tied: bool = False,
) -> float:
    """The cosine two articles published `hours_apart` must reach to be one story; `named`:
    a name of one lead is mentioned by the other article; besides, `tied`: their openings
    give the same figure (`TIED_SIMILARITY`, flat for `TIED_HOURS`), or `same_act`: their
    leads tell one kind of act (`TIED_SIMILARITY` within the day only).

    `languages`: one is in English, the other in French. The English one's words are read
    in French terms (`english.in_french`), so the field's vocabulary meets that of every
    article of its topic: the nameless floor applies, or the named one when a figure ties
    them (flat over `TIED_HOURS`); a shared name or act lowers nothing.

    `twice_tied`: their openings give two figures or more in common (« 320 solutions de 19
    États membres »): the floor holds over the whole coverage window (`COVERAGE_HOURS`),
    then only a near copy joins — the trade weekly retells the same numbers five days
    later, and two events do not share two numbers."""
    if hours_apart == LATER_EVENT:
        return math.inf
    floor = STORY_SIMILARITY if named else UNNAMED_SIMILARITY
    day = SAME_DAY_HOURS
    if languages:
        floor, day = (STORY_SIMILARITY, TIED_HOURS) if tied else (UNNAMED_SIMILARITY, day)
    elif named and tied:
        floor, day = TIED_SIMILARITY, TIED_HOURS
    elif named and same_act:
        floor = TIED_SIMILARITY
    if twice_tied and hours_apart < COVERAGE_HOURS:
        return floor
    late = min(max(hours_apart - day, 0.0) / (COVERAGE_HOURS - day), 1.0)
    return floor + (COPY_SIMILARITY - floor) * late


def _own_notice(a: StoryKeys, b: StoryKeys, hours: float) -> bool:
    """Are two articles of one day on two sites an attack's notice on its body's own site
    and the press naming that body (« ville-x.fr » and « Cyberattaque à la mairie de X »)?
    Both tell an attack (`StoryKeys.acts`: « incident informatique » is a notice's word
    for it), and one's site names the other lead's subject (`site_names`)."""
    if hours >= SAME_DAY_HOURS or "attack" not in a.acts & b.acts or not two_sites(a, b):
        return False
    return bool(site_names(a.host) & b.subjects or site_names(b.host) & a.subjects)


def _dated_coverage(hours_apart: float, published_hours: float) -> bool:
    """Was the later of two articles published a day or more after the earlier one, its
    lead citing the earlier's day (`hours_apart` 0: a date, or a weekday with the earlier's
    subjects)? Across languages that is the tie a name is not (« les lignes directrices
    publiées mercredi par la Commission », the French explainer two days after the
    Commission's English release naming the same act): with a name of both, on two sites,
    the named floor, as a figure of both would give (docs/dedup.md, « press9 opened for
    recall »). It lowers no floor the story index's first, date-free call (`_joins`, as a
    brief) does not: a brief named on two sites needs the named floor there too."""
    return hours_apart == 0.0 and published_hours >= SAME_DAY_HOURS


def same_story(
    similarity: float,
    hours_apart: float,
    a: StoryKeys,
    b: StoryKeys,
    brief: bool = False,
    published_hours: float | None = None,
    one_day: bool = False,
) -> bool:
    """Are two articles one event's coverage? The decision the story index takes on each
    candidate: `similarity` is the cosine of their `story_vector`s.

    - The cosine must reach `required_similarity`: higher when no name ties the leads (a
      lead's name, or the site of a page whose lead names nobody, that the other article
      mentions; across English and French only a figure of both openings lowers it),
      lower when figures of both openings tie them (two of them: over the whole coverage
      window), and the more so the further apart they were published (`hours_apart`: a
      follow-up days later is another story, unless it is a near copy).
    - Each lead names a body or place the other article never names (Valmont / Brévannes,
      Assemblée / Sénat; `StoryKeys.subjects`: people, parentheses and « après X, »
      clauses left out): two events.
    - Both leads give years and share none (rapport 2025 / 2026), or figures and share
      none (20 000 / 50 000 euros, 312 / 221 voix): two events — unless one is a local
      angle of the other's release (`local_angle`: its place's figures, picked from it).
      Days of a month (« 30 juin ») are no figures, and years and figures are compared
      apart (« 14 lignes » beside « depuis 2023 » is no disagreement).
    - `one_day` (`day_tied`): both openings give their event one day, on two sites, with
      no two kinds of act and no other body (`day_ties`): the named floor, whatever the
      names and the languages.
    - An opinion piece or an interview by its label (« Éditorial — », « Tribune : »,
      « ENTRETIEN — »: `StoryKeys.commentary`) and an article without one: the news and a
      comment or questions on it, two items whatever their words (the pairs' guide).
    """
    if a.commentary != b.commentary:
        return False  # an editorial or an interview comments the news: another item
    # `site` is set only when the lead names nobody: one of the two is empty.
    named = bool((a.lead_names or a.site) & b.mentioned or (b.lead_names or b.site) & a.mentioned)
    # Across languages (a release in English, its French coverage) names are written
    # apart (« Interoperable Europe Board » / « Europe interopérable »): a figure of both
    # openings ties them, a name does not (`required_similarity`).
    languages = a.english != b.english
    # The same figure in both openings (« 84 jeux », « 150 000 euros ») is the event's.
    shared_figures = len(a.figures & b.figures)
    same_act = bool(a.acts & b.acts)
    # Two sites within a day of each other (the publications', not a day the lead cites), a
    # name tying their leads and no kind of act telling them apart: the day is the second tie.
    hours = hours_apart if published_hours is None else published_hours
    same_day = hours < SAME_DAY_HOURS and two_sites(a, b) and not disjoint(a.acts, b.acts)
    tied, twice_tied = shared_figures >= 1, shared_figures >= 2
    # Leads that name nobody in common (national news naming « l'État », « Bruxelles »)
    # but give the same figure in their leads (« 80 M€ pour 4 000 conseillers ») are tied
    # by it as by a name: one tie, the named floor (`STORY_SIMILARITY`). In the openings
    # too (« 93 % » in the regulator's third sentence) when the articles are on two sites:
    # one site's template may carry figures (a date, a counter) into all its pages.
    in_leads = a.lead_figures & b.lead_figures & a.figures
    in_openings = a.figures & b.figures if two_sites(a, b) else frozenset()
    by_figure = not named and not languages and bool(in_leads or in_openings)
    required = required_similarity(
        hours_apart,
        named or by_figure,
        tied and not by_figure,
        same_act or same_day,
        languages,
        twice_tied and not by_figure,
    )
    # `brief` (`retold`): the later is a brief, days later, whose words the earlier tells;
    # two kinds of act are still two acts (`hours_apart`).
    retelling = brief and hours_apart <= RETOLD_HOURS and not disjoint(a.acts, b.acts)
    if retelling and (named or by_figure) and two_sites(a, b):
        required = min(required, STORY_SIMILARITY)
    if _own_notice(a, b, hours):
        required = min(required, INCIDENT_SIMILARITY)
    if one_day and day_ties(a, b):
        required = min(required, required_similarity(hours_apart))
    if languages and named and two_sites(a, b) and _dated_coverage(hours_apart, hours):
        required = min(required, STORY_SIMILARITY)
    if similarity < required:
        return False
    if other_body(a, b) and other_body(b, a):
        return False
    # Leads that disagree on every figure or year are two events, unless their openings
    # share one: « 1 420 collectivités, contre 1 180 en 2025 » and « baromètre 2026 ».
    # A correction or update (« Rectificatif », « (actualisé) ») is written because a figure
    # changed: its figures disagree with its original's by design.
    if a.revision or b.revision:
        return True
    if local_angle(a, b) or local_angle(b, a):
        return True  # the local angle's figures are picked out of the release
    if disjoint(a.lead_years, b.lead_years):
        return tied
    # One body's release told by two lines of its table (`storyangles`).
    disagree = figures.disagree(a.lead_figures, b.lead_figures) and not one_release(a, b)
    return tied or not disagree
