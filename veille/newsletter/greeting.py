"""The letter's one greeting (« Bonjour Marie, »): its wording, set once for the newsletter
(each new draft copies the previous edition's, so a change made in the composer sticks), and
how it reads for one member.

Why a wording with placeholders rather than a fixed « Bonjour NAME, »: the greeting used to
be hard-coded and the delegates wrote their own « Bonjour à toutes et à tous » at the top of
the edito, so every letter greeted twice. Now there is one, the delegate's, and she can turn
it off. `{prénom}` is the first word of the member's name (members have one name field),
`{nom}` the whole name; with no name recorded the placeholder goes, with the space before
it (« Bonjour, »).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from veille.newsletter.editions import EditionError

DEFAULT = "Bonjour {prénom},"
MAX_CHARS = 200
FIRST_NAME = "{prénom}"
FULL_NAME = "{nom}"
EXAMPLE_NAME = "Marie Dupont"  # how the composer shows the greeting
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_SPELLINGS = {"{prénom}": FIRST_NAME, "{prenom}": FIRST_NAME, "{nom}": FULL_NAME}


def clean(wording: str, enabled: bool) -> str:
    """The wording as stored: one line, known placeholders only (`{prenom}` accepted for
    `{prénom}`); refused with a French message otherwise."""
    text = " ".join((wording or "").split())
    for placeholder in _PLACEHOLDER.findall(text):
        canonical = _SPELLINGS.get(placeholder.lower())
        if canonical is None:
            raise EditionError(
                f"Formule d’appel : « {placeholder} » n’est pas reconnu ; "
                f"écrivez {FIRST_NAME} pour le prénom ou {FULL_NAME} pour le nom complet."
            )
        text = text.replace(placeholder, canonical)
    if len(text) > MAX_CHARS:
        raise EditionError(f"La formule d’appel dépasse {MAX_CHARS} caractères.")
    if enabled and not text:
        raise EditionError(
            "Écrivez la formule d’appel, ou décochez « Saluer chaque membre » pour n’en "
            "mettre aucune."
        )
    return text


def first_name(name: str | None) -> str:
    words = (name or "").split()
    return words[0] if words else ""


def names_of(name: str | None) -> dict[str, str]:
    """The placeholders' values for a member."""
    return {FIRST_NAME: first_name(name), FULL_NAME: " ".join((name or "").split())}


def fill(
    wording: str, name: str | None, token: Callable[[str, bool], str] | None = None
) -> str:
    """The wording with the member's names in; an empty value takes the space before it.
    With `token`, each placeholder becomes `token(placeholder, spaced)` instead (the
    renderer's per-member slots; `spaced`: a space came before it)."""
    values = names_of(name)

    def one(match: re.Match[str]) -> str:
        spaced, placeholder = bool(match.group(1)), match.group(2)
        if token is not None:
            return token(placeholder, spaced)
        value = values.get(placeholder, "")
        return (" " if spaced else "") + value if value else ""

    return re.sub(r"(\s*)(\{prénom\}|\{nom\})", one, wording)


def slot_value(placeholder: str, spaced: bool, name: str | None) -> str:
    """What one placeholder slot holds for a member (see `fill`'s `token`)."""
    value = names_of(name).get(placeholder, "")
    return (" " if spaced else "") + value if value else ""


def shown(enabled: bool, wording: str, name: str | None = EXAMPLE_NAME) -> str:
    """The greeting line a member named `name` reads ("" when the greeting is off)."""
    return fill(wording, name) if enabled else ""
