"""A local angle of a named release: the later lead credits the earlier's body with the
publication its own figures come from.

« Les diagnostics publiés jeudi par le Cerema rappellent… : dans l'Orvalle, 87 ouvrages
sur 1 040 » — the regional daily tells the national release of Thursday through its own
département's figures. Its place is its angle, its figures are picked out of the release:
no other body's event and no disagreement of figures (docs/dedup.md, « press11 opened for
recall »). A town's reaction to the same release credits it too (« le référentiel publié
lundi par le Syndicat ne sera pas appliqué à Vaudrimont ») but gives no figure of it in
its lead: a decision of its own, another story (`stories.local_angle`)."""

from __future__ import annotations

import re

from veille.collect.storynames import capitalised_names

# A publication by its day, credited to a body: « publiés jeudi par le Cerema », « mise en
# ligne mercredi par l'IGN », « publié le 20 octobre par le collectif Cités ouvertes ».
_WEEKDAY = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
_CREDITED = re.compile(
    r"\b(?:publi|mis|rendu|dévoil|present|présent|diffus|paru)\w*(?:\s+en\s+ligne)?\s+"
    rf"(?:{_WEEKDAY}|le\s+\d{{1,2}}(?:er)?\s+\w+)\s+par\s+([^,.;:!?()\n]{{1,60}})",
    re.IGNORECASE,
)


def credited_names(opening: str) -> frozenset[str]:
    """The names of the bodies the opening credits with a dated publication (folded and
    canonical, as `StoryKeys.subjects`)."""
    names: set[str] = set()
    for match in _CREDITED.finditer(opening):
        names |= capitalised_names(match.group(1))
    return frozenset(names)
