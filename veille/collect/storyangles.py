"""Local angles of one release: the coverage that tells a body's publication through other
figures than the release's own.

Two ways a careful reader sees one event where the figures differ:

- A local angle of a named release: the later lead credits the earlier's body with the
  publication its own figures come from.

  « Les diagnostics publiés jeudi par le Cerema rappellent… : dans l'Orvalle, 87 ouvrages
  sur 1 040 » — the regional daily tells the national release of Thursday through its own
  département's figures. Its place is its angle, its figures are picked out of the release:
  no other body's event and no disagreement of figures (docs/dedup.md, « press11 opened for
  recall »). A town's reaction to the same release credits it too (« le référentiel publié
  lundi par le Syndicat ne sera pas appliqué à Vaudrimont ») but gives no figure of it in
  its lead: a decision of its own, another story (`local_angle`).

- One body's release told with other figures: the national figure and the local angle.

  A national body publishes a report, an inventory or a barometer full of figures (« 41
  millions d'arbres », « 27 % des collectivités »). The tech press leads on the national
  figure, a regional daily on its own town's share (« Sorgival compte 148 000 arbres, selon
  l'inventaire de l'IGN »), a newsletter on another line of the same table (« 38 % des
  collectivités ont un portail »). Their leads' figures then share none, which
  `stories.same_story` reads as two events (20 000 / 50 000 euros) — unless a careful
  reader's tie holds: both leads name the same body as their subject, and neither names a
  body or place the other article never names. Two of one body's releases still differ by
  their years (`StoryKeys.lead_years`, checked apart) and by their words (the cosine must
  reach its floor first).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from veille.collect.storynames import capitalised_names
from veille.collect.storyties import two_sites

if TYPE_CHECKING:  # storykeys imports this module for `credited_names`
    from veille.collect.storykeys import StoryKeys

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


def one_release(a: StoryKeys, b: StoryKeys) -> bool:
    """Do two articles on two sites lead on the same body, every subject of each lead
    being named by the other article (`StoryKeys.subjects`, `StoryKeys.mentioned`)? Their
    leads' figures may then be two lines of one release rather than two events."""
    if not a.host or not b.host or a.host == b.host or a.own or b.own:
        return False
    if not a.subjects & b.subjects:
        return False
    return not a.subjects - b.mentioned and not b.subjects - a.mentioned


def local_angle(early: StoryKeys, late: StoryKeys) -> bool:
    """Is the later lead a local angle of the earlier's release: on two sites, it credits
    the earlier lead's body with a dated publication (`StoryKeys.credits`: « les
    diagnostics publiés jeudi par le Cerema ») and gives figures of its own (« 87 ponts
    dans l'Orvalle »)? Its place is its angle and its figures are the release's, picked for
    that place: no other event (`storyangles`). A reaction credits the release too but
    gives no figure in its lead (« … ne sera pas appliqué à Vaudrimont »)."""
    if not two_sites(early, late) or not late.lead_figures:
        return False
    return bool(late.credits & (early.subjects | early.site))
