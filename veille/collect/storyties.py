"""What ties or parts two articles' story keys, whatever their days: two sites, a body one
lead names that the other article never names, two sets that share nothing. Shared by the
decision (`stories.same_story`) and its day and angle rules (`storydays`, `storyangles`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # storykeys imports storyangles, which imports this module
    from veille.collect.storykeys import StoryKeys


def other_body(a: StoryKeys, b: StoryKeys) -> bool:
    """Does `a`'s lead name a body or place that article `b` never names? A body's own page
    names its body by the words of its site, any of which will do; it counts against
    another body's own page only: the press may write a body's name otherwise than its
    site does (« ccpv.fr », « la communauté de communes du Pays de Vionne »)."""
    if a.own:
        return b.own and not a.subjects & b.mentioned
    return bool(a.subjects - b.mentioned)


def two_sites(a: StoryKeys, b: StoryKeys) -> bool:
    """Were the two articles published on two known sites (`StoryKeys.host`)?"""
    return bool(a.host) and bool(b.host) and a.host != b.host


def disjoint(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a) and bool(b) and not a & b
