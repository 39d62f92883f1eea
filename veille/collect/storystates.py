"""The state of a thing an article's lead tells — halted, back, its outcome known, ruled
on — and whether a later article tells a new one: a follow-up, another story, however much
of the first it recalls (docs/dedup.md, « Follow-ups that recall the launch »).

A follow-up days later recalls its event at length: the product's name, its town, its
vendor, its price, the day it was launched (which makes it read as that day's coverage,
`stories.hours_apart`). What it adds is in its lead: « suspendu », « rétablis »,
« lauréats », « premier bilan ». The launch could not tell that state, coverage of the same
state tells it too (in other words of one kind: « suspendu », « mis en pause »,
« débranché »), a correction or an update says so in its title (`StoryKeys.revision`).

Plain lexicons of the folded text (`french.story_fold`: lower case, no accents), French and
English, read in the lead only for the later article and in the whole opening for the
earlier one; a state said in the future, the conditional or with a modal (« pourrait être
suspendu », « les lauréats seront connus ») is no state yet.
"""

from __future__ import annotations

import re

# What a lead may tell happened to its thing since an earlier event, by kind. Each kind
# gathers the words one state is written with, so that two outlets telling one state in
# other words (« suspend », « met en pause ») still tell the same one. Verb forms are the
# present and the past (a future, or a modal before an infinitive, is caught by
# `_NOT_YET_BEFORE` and `_NOT_YET_AFTER`).
_STATE_WORDS = {
    # stopped: suspended, paused, switched off, withdrawn, ended
    "halted": r"suspend(?:u|ue|us|ues|ent|s)?|suspension"
    r"|(?:mis|mise|mises|met|mettent) en (?:pause|sommeil|veille)|en pause"
    r"|debranch\w*|desactiv\w*"
    r"|(?:met|mettent|mis|mise) (?:un terme|fin)|(?:prend|a pris|ont pris|prennent) fin"
    r"|(?:arrete|arretent|retire|retirent|ferme|ferment|abandonne|abandonnent)"
    r" (?:son|sa|ses|leur|leurs)"
    r"|(?:a|ont) (?:arrete|retire|ferme|abandonne|renonce)|renonce a|renoncent a"
    r"|l.arret (?:du|de l.|de la|des)|(?:mis|mise) (?:a l.arret|entre parentheses)"
    r"|stopp\w*|interromp\w*|interruption|(?:gele|gelent|a gele|ont gele) (?:son|sa|ses|leur|leurs)"
    r"|ne (?:repond|repondent|fonctionne|fonctionnent|marche|marchent) plus|inaccessibles?"
    r"|n.(?:est|sont) plus (?:disponible|accessible|en ligne|en service|operationnel)\w*"
    # « hors ligne » of a thing, not of a backup or a procedure (« sauvegardes hors ligne »)
    r"|hors service|hors ligne (?:depuis|jusqu)"
    r"|(?:est|sont|reste|restent|mis|mise|mises|passe|passent) hors ligne"
    r"|(?:coupe|coupent|a coupe|ont coupe) (?:son|sa|ses|leur|leurs)"
    r"|(?:a|ont|avait|avaient) cesse|cessent|cesse (?:de|ses|son|sa|leur|leurs)|cessation"
    r"|fin de (?:l.aventure|partie|l.experimentation|l.experience)|c.est (?:la )?fini"
    r"|taken down|goes dark|went dark"
    r"|suspend(?:s|ed|ing)?|paus(?:es|ed|ing)|shut(?:s|ting)? down|switch(?:es|ed)? off"
    r"|taken offline|pulled the plug|withdraw(?:s|n)?|withdrew|scrap(?:s|ped)",
    # back: services restored, reopened, relaunched
    "back": r"reprennent|(?:a|ont) repris|reprise (?:des|du|de la|de l.|progressive)"
    r"|retabli\w*|retablissement|redemarr\w*|(?:remis|remise|remises) en (?:service|ligne|route)"
    r"|(?:de nouveau|a nouveau) (?:accessible|disponible|en ligne|operationnel|ouvert)\w*"
    r"|(?:fonctionne|fonctionnent|marche|marchent) (?:de nouveau|a nouveau|normalement)"
    r"|retour a la normale|rouvr\w*|reouverture|reactiv\w*"
    r"|(?:retrouve|retrouvent|a retrouve|ont retrouve) (?:son|sa|ses|leur|leurs|l.usage|l.acces)"
    r"|(?:est|sont) de retour|(?:fait|font) (?:son|leur) retour"
    r"|retour (?:progressif|complet|des services)|sort de la crise|sortie de (?:la )?crise"
    r"|fin de (?:la )?(?:paralysie|panne|crise)|se remet\w* de|tourne la page"
    r"|back up and running|up and running again"
    # a call or an event opened again is its next edition: « la deuxième vague »
    r"|(?:deuxieme|troisieme|quatrieme|nouvelle|seconde?|[2-9]e) (?:vague|session|edition|saison)"
    # a relaunch, not a recovery plan (« plan de relance », « France Relance »)
    r"|(?<!plan de )(?<!france )(?:relance|relancent|relancee?s?)(?! de l.economie)"
    r"|restored|back online|resum(?:es|ed)|reopen(?:s|ed)|relaunch\w*",
    # its outcome known: first figures, results, review
    "outcome": r"bilan|resultats?|premiers? (?:chiffres|retours|enseignements)"
    r"|palmares|se classe|first (?:figures|results)|results|review of|ranks|ranking",
    # its winners chosen
    "winners": r"laureat\w*|gagnant\w*|recompens\w*|prime(?:s|es)? (?:par|lors)|selectionn\w*"
    r"|retenu(?:e|s|es)? (?:parmi|par|pour)|winners|awarded|selected|shortlisted",
    # ruled on, cancelled, challenged
    "ruled": r"condamn\w*|sanctionn\w*|inflige\w*|(?:mis|mise) en demeure"
    r"|relax(?:e|es|ee|ees)|annul\w*|invalid(?:e|ee|es|ees|ation)|censur\w*"
    r"|recours (?:contre|devant|en annulation|gracieux|contentieux)"
    r"|(?:depose|deposent|forme|forment) (?:un )?recours|conteste\w*|attaque en justice"
    r"|donne raison|deboute\w*|juge\w* illega\w*"
    r"|ruled|ruling|overturned|struck down|convicted|cancel(?:s|led|ed)|appeal(?:s|ed)",
}
# One alternation, tried at word starts only (`(?=[a-z])`: twice as fast on a lead as a
# word boundary before each kind).
_STATE = re.compile(
    r"\b(?=[a-z])(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _STATE_WORDS.items()) + r")\b"
)
# A state not told as a fact: said ahead or feared (« devrait être suspendu », « menace de
# suspendre »), denied (« n'est pas suspendu ») or a condition (« en cas de panne »), in the
# words just before it in its clause; or said ahead just after it (« les lauréats seront
# désignés en décembre »).
_NOT_YET_BEFORE = re.compile(
    r"\b(?:pourr\w+|devr\w+|doit|doivent|va|vont|sera|seront|serait|seraient|envisag\w*"
    r"|menac\w*|risqu\w*|prevu\w*|prevoit|cas|ne|n|pas|jamais|aucun\w*|avant|d.ici"
    r"|attend\w*|esper\w*|will|would|could|may|might|plan\w*|not|no|before|until)\b"
)
_NOT_YET_AFTER = re.compile(
    r"\b(?:pourr\w+|devr\w+|sera|seront|serait|seraient|prevu\w*|envisag\w*|possible\w*"
    r"|eventuel\w*|will|would|could|may)\b"
)
_CLAUSE_END = re.compile(r"[.,;:!?()\n]")
_BEFORE_CHARS = 30
_AFTER_CHARS = 40


# What an act of the lead (`storykeys._ACT_WORDS`) already tells of its thing's state: an
# attack stops a body's services, services restored are back, an annual report or a
# barometer gives figures, a sanction is a ruling. Coverage of the act that names the state
# instead (« les services de la mairie à l'arrêt », « le bilan 2026 ») is the same state.
ACT_STATES = {
    "attack": "halted",
    "restored": "back",
    "report": "outcome",
    "winners": "winners",
    "sanction": "ruled",
}


def states(folded: str) -> frozenset[str]:
    """The kinds of state (`_STATE_WORDS`) the folded text tells as facts."""
    told = set()
    for match in _STATE.finditer(folded):
        kind = match.lastgroup
        if kind is None or kind in told:
            continue
        start, end = match.span()
        before = _CLAUSE_END.split(folded[max(0, start - _BEFORE_CHARS) : start])[-1]
        after = _CLAUSE_END.split(folded[end : end + _AFTER_CHARS], maxsplit=1)[0]
        if _NOT_YET_BEFORE.search(before) is None and _NOT_YET_AFTER.search(after) is None:
            told.add(kind)
    return frozenset(told)


def implied(acts: frozenset[str]) -> frozenset[str]:
    """The states the lead's kinds of act tell by themselves (`ACT_STATES`)."""
    return frozenset(ACT_STATES[act] for act in acts if act in ACT_STATES)


def new_state(earlier: frozenset[str], later: frozenset[str], revision: bool) -> bool:
    """Does a later lead tell a state of its thing (`later`: its lead's states) that the
    earlier article's opening does not (`earlier`)? Then it is the next event, however
    much of the first it recalls; unless its title says it corrects or updates an article
    (« Rectificatif », « (actualisé) »: one more version of the same state)."""
    return not revision and bool(later - earlier)
