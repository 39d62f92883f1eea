"""The sentence a lead states its news in, past a hook of questions or a document's label.

A regional daily or a magazine often opens on a question or two put to the reader
(« Combien coûte le chauffage du gymnase ? », « Et si l'on pouvait voir, avant de planter un
arbre, … ? ») and states the news in the next sentence (« La municipalité a mis en ligne
mardi… », « C'est la promesse du jumeau numérique qu'Aubressac Métropole… »). The names a
question gives (a gymnasium, a square) are the hook's, not whose event it is: read as the
lead's, they set the article apart from the release it retells (a place the release never
names) and leave out the body the statement names (`storykeys.story_keys`, `lead_names`).

Council minutes and official letters open on a label line (« Objet : Délégation du service
public de l'eau… »): the word after the label starts the clause, a common noun capitalised,
not a body (read after the label, « Délégation » would veto the press's town).

A newsletter's brief may be titled by its rubric only (« En bref », « Brève », « Actualité »):
its first sentence is its headline, the words the story index looks candidates up by
(`says_little`, as a post's: `storykeys.title_words`).
"""

from __future__ import annotations

import re

from veille.collect.storynames import SENTENCE_END
from veille.text.french import story_words

# A document's label before its subject line: minutes, letters, notes (general French).
_LABEL = re.compile(
    r"\A\s*(?:objet|sujet|th[èe]me|rapporteur|rapporteuse|r[ée]sum[ée]|synth[èe]se|contexte"
    r"|ordre du jour|question|point)\s*(?:n°\s*\d+\s*)?:\s+",
    re.IGNORECASE,
)

# Questions a hook may put before its statement; a text of questions only has no statement.
HOOK_QUESTIONS = 3


# What may follow a question mark at a sentence's end: a closing quotation mark and spaces.
# (From code points: a literal closing guillemet reads as French prose to
# tests/test_typography.py.)
_AFTER_QUESTION = "".join(map(chr, (0x20, 0xBB, 0x202F)))


def _question(sentence: str) -> bool:
    """Does `sentence` end on a question mark (a closing quotation mark after it too)?"""
    return sentence.rstrip(_AFTER_QUESTION).endswith("?")


def first_statement(body: str) -> tuple[str, str]:
    """(the lead's sentence, the rest of `body`): the first sentence (its label left out:
    `_LABEL`), or, when it is a question, the first sentence after at most
    `HOOK_QUESTIONS` questions that is none; the questions then go with the rest (their
    names are still mentioned, not the lead's). A body of questions only keeps its first
    sentence as its lead."""
    first, *rest = SENTENCE_END.split(body, maxsplit=1)
    label = _LABEL.match(first)
    if label:
        first = first[label.end() :]
    if not _question(first) or not rest:
        return first, rest[0] if rest else ""
    questions = [first]
    remainder = rest[0]
    for _ in range(HOOK_QUESTIONS):
        sentence, *after = SENTENCE_END.split(remainder, maxsplit=1)
        if not _question(sentence):
            return sentence, "\n".join([*questions, *after])
        if not after:
            break
        questions.append(sentence)
        remainder = after[0]
    return first, rest[0]


# A title of this many story words or fewer names no event (« En bref » → « bref »).
RUBRIC_TITLE_WORDS = 1


def says_little(title: str) -> bool:
    """Is `title` a rubric rather than a headline (`RUBRIC_TITLE_WORDS`)?"""
    return len(story_words(title)) <= RUBRIC_TITLE_WORDS
