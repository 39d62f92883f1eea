"""The figures of a text as values: what two articles on one event write alike whatever
their conventions — « 1,2 million d'euros », « 1 200 000 € » and « €1.2m » are one amount,
« 68,4 millions » in French is « 68.4 million » in English. Dates and times written with
figures, years and days of a month are told apart: they are no amounts
(`collect.storykeys` reads a lead's and an opening's figures with them, docs/dedup.md).
"""

from __future__ import annotations

import re

# Dates and times written with figures (« 13/10/2026 », « 2026-11-23T11:00:00+00:00 »,
# « 18h05 », « 24 nov. », the first day of « du 9 au 11 octobre ») and numbers that name
# a document (« n° 412 ») are no figures of the event: they are dropped before figures are
# read.
DATE_FIGURES = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{1,2}\s?h\s?\d{0,2}\b"
    # a number's identifier (« délibération n° 2026-087 », « Insee Focus n° 412 »)
    r"|\b(?:n°|no\.|num[ée]ro)\s?[\d-]+"
    r"|\b\d{1,2}(?:er)?\s+(?:janv|f[ée]vr|avr|juil|sept|oct|nov|d[ée]c)\b\.?"
    # the first day of a range (« du 9 au 11 octobre », « les 3 et 4 décembre »)
    r"|\b\d{1,2}(?:er)?\s*(?:au|et|[-–])\s*(?=\d{1,2}(?:er)?\s+(?:janv|f[ée]vr|mars|avr|mai"
    r"|juin|juil|ao[uû]t|sept|oct|nov|d[ée]c))"
)

# A number: groups of three digits (« 1 200 000 », « 40,000 », « 1.200.000 ») and a decimal
# part; not a day of a month (« 15 juin », « 15 September »).
_NUMBER = re.compile(
    r"\d+(?:[  .,]\d{3})*(?:[.,]\d+)?(?!\s*(?:er\s+)?(?:janvier|fevrier|février|mars|avril|mai|juin"
    r"|juillet|aout|août|septembre|octobre|novembre|decembre|décembre"
    r"|(?i:january|february|march|april|may|june|july|august|september|october|november"
    r"|december))\b)(?!\d|[.,]\d)"
)

YEAR = re.compile(r"(?:19|20)\d\d")
# Years that tell no edition of the event: a full date's (« signée le lundi 19 octobre
# 2026 »: the calendar, which the coverage writes « lundi »), a horizon (« d'ici à 2030 »,
# « à l'horizon 2030 ») and a comparison (« sept points de plus qu'en 2025 », « contre
# 34 % en 2025 »): the release gives the first, its coverage the others.
_MONTHS = (
    r"janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre"
    r"|d[ée]cembre|janv|f[ée]vr|avr|juil|sept|oct|nov|d[ée]c"
)
_NO_EVENT_YEAR = re.compile(
    rf"(?:\b\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\.?\s+"
    r"|\bd['’]ici (?:à |a |la fin )?|\bhorizon\s+|\bqu['’]en\s+"
    r"|\bcontre\s[^.;:!?]{0,40}?\ben\s+)"
    r"(?=(?:19|20)\d\d\b)",
    re.IGNORECASE,
)

# A figure that says what a body is or how long something lasts (« 41 000 habitants »,
# « 48 heures », « six mois ») is the same in every article on that body or that kind of
# event: it ties no event.
ATTRIBUTE = re.compile(
    r"\s*(?:habitants|heures?|h\b|jours?|semaines?|mois|ans|années?|minutes?|km)",
    re.IGNORECASE,
)


# « 1,2 million d'euros », « 1 200 000 € » and « €1.2m » are one amount: a figure is read as
# its value, its multiplier applied (`_value`). « m », « bn », « k » count only after a
# currency sign (« 12 m » may be metres).
# « 150 k€ » is a trade brief's 150 000 euros (the sign after the number, as « M€ »).
_SCALE = re.compile(
    r"\s*(?:(?P<million>millions?\b|M€|M\s?d['’]euros)|(?P<billion>milliards?\b|billions?\b|Md€)"
    r"|(?P<thousand>k€|K€|k\s?euros?\b)|(?P<short>m|bn|k)\b)"
)
_SCALES = {"million": 10**6, "billion": 10**9, "thousand": 10**3}
_SHORT_SCALES = {"m": 10**6, "bn": 10**9, "k": 10**3}
_CURRENCY_BEFORE = re.compile(r"[€$£]\s?$")


def _value(number: str, text: str, start: int, end: int, english: bool) -> tuple[str, bool]:
    """(the value of the figure `number` found at `text[start:end]`, whether a multiplier
    scaled it): separators read as the language writes them (« 1 200,5 » in French,
    « 1,200.5 » in English), « million », « milliard », « bn » applied."""
    digits = re.sub(r"[\s\u202f\u00a0]", "", number)
    decimal = "." if english else ","
    thousands = "," if english else "."
    if re.fullmatch(rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+", digits):
        digits = digits.replace(thousands, "")
    whole, _, fraction = digits.replace(thousands, decimal).rpartition(decimal)
    if not whole:
        whole, fraction = fraction, ""
    whole = whole.replace(decimal, "")
    scale = _SCALE.match(text, end)
    factor = 1
    if scale and scale.lastgroup in _SCALES:
        factor = _SCALES[scale.lastgroup]
    elif scale and scale.lastgroup == "short" and _CURRENCY_BEFORE.search(text, 0, start):
        factor = _SHORT_SCALES[scale.group().strip().lower()]
    fraction = fraction.rstrip("0")
    if factor == 1 and fraction:
        return f"{int(whole or '0')}.{fraction}", False
    units = int(whole or "0") * factor
    if fraction:
        units += int(fraction) * factor // 10 ** len(fraction)
    return str(units), factor != 1


# An amount written out (« Quatre millions d'euros », « un million », « deux milliards »):
# a release's opening writes it in words, its coverage in figures (« 4 M€ »). Only before a
# multiplier: a small number in words (« deux ateliers ») is no amount of the event.
# fmt: off
_UNITS = [
    "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze",
    "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf",
    "vingt",
]
# fmt: on
_IN_WORDS = {word: n for n, word in enumerate(_UNITS, 1)} | {"une": 1}
_WORDS_SCALED = re.compile(
    r"\b(?P<count>" + "|".join(sorted(_IN_WORDS, key=len, reverse=True)) + r")\s+"
    r"(?P<scale>millions?|milliards?)\b",
    re.IGNORECASE,
)


def read_figures(text: str, english: bool) -> tuple[set[str], list[tuple[str, int, bool]]]:
    """(years, [(value, end, scaled)…]) of the numbers of `text`, dates and times left out
    (`DATE_FIGURES`, `_NUMBER`'s days of a month), and the years that tell no edition
    (`_NO_EVENT_YEAR`: a full date's, a horizon, a comparison)."""
    years: set[str] = set()
    out: list[tuple[str, int, bool]] = []
    other_years = {m.end() for m in _NO_EVENT_YEAR.finditer(text)} if "20" in text else set()
    for match in _NUMBER.finditer(text):
        if YEAR.fullmatch(match.group()):
            if match.start() not in other_years:
                years.add(match.group())
            continue
        value, scaled = _value(match.group(), text, match.start(), match.end(), english)
        out.append((value, match.end(), scaled))
    if "illi" in text:  # « millions », « milliards »: most texts have neither
        for match in _WORDS_SCALED.finditer(text):
            factor = 10**9 if match.group("scale").lower().startswith("milliard") else 10**6
            out.append((str(_IN_WORDS[match.group("count").lower()] * factor), match.end(), True))
    return years, out


# Two writers round one figure apart (« 187 000 » / « près de 190 000 », « 1 312 » / « plus
# de 1 300 »: within 5 %), and a misprint moves its decimal comma (« 18 millions » for
# « 1,8 million », corrected the next day): neither is a second event's figure.
ROUNDING = 0.05


def near(a: str, b: str) -> bool:
    """Can the values `a` and `b` (`read_figures`) be one figure written by two hands:
    equal, one rounded of the other, or the same digits with the decimal comma moved?"""
    x, y = sorted((float(a), float(b)))
    if x <= 0:
        return x == y
    if y <= x * (1 + ROUNDING):
        return True
    ratio = y / x
    return any(abs(ratio - 10**k) < 1e-9 * ratio for k in (1, 2, 3))


def disagree(a: frozenset[str], b: frozenset[str]) -> bool:
    """Do two sets of figures both give some and share none, even rounded (`near`), nor as a
    total (« un prêt de 2 millions et une subvention de 250 000 euros » / « 2,25 millions »)?"""
    if not a or not b or any(near(x, y) for x in a for y in b):
        return False
    return not (_a_total(a, b) or _a_total(b, a))


def _a_total(parts: frozenset[str], totals: frozenset[str]) -> bool:
    """Is a figure of `totals` the sum of two figures of `parts` (one amount told as its
    parts by one writer, as their total by another)?"""
    values = sorted(float(x) for x in parts)
    sums = [x + y for i, x in enumerate(values) for y in values[i + 1 :]]
    return any(
        abs(float(total) - s) <= ROUNDING * max(float(total), s) for total in totals for s in sums
    )
