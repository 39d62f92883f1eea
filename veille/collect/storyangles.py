"""One body's release told with other figures: the national figure and the local angle.

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

from veille.collect.storykeys import StoryKeys


def one_release(a: StoryKeys, b: StoryKeys) -> bool:
    """Do two articles on two sites lead on the same body, every subject of each lead
    being named by the other article (`StoryKeys.subjects`, `StoryKeys.mentioned`)? Their
    leads' figures may then be two lines of one release rather than two events."""
    if not a.host or not b.host or a.host == b.host or a.own or b.own:
        return False
    if not a.subjects & b.subjects:
        return False
    return not a.subjects - b.mentioned and not b.subjects - a.mentioned
