"""Story grouping on the pairs written for the project (tests/data/story_pairs/).

The decision measured is the collector's own (`StoryIndex.match` on records built as the
extraction workers build them, `veille.collect.storypairs`); the floors are the figures
measured when the pairs were written (docs/dedup.md, « Measured on pairs »): a change to the
story rules that merges more distinct stories or splits more coverage fails here.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.test_stories import STORIES
from veille.collect.stories import LANGUAGE_CHARS
from veille.collect.storypairs import PairArticle, StoryPair, grouped, load_pairs, score
from veille.errors import UserError
from veille.text.english import is_english

DATA = Path(__file__).parent / "data" / "story_pairs"
PAIRS = load_pairs(sorted(DATA.glob("*.jsonl")))
HELDOUT = load_pairs(sorted(DATA.glob("heldout/*.jsonl")))
# A new hand's pairs in the shapes of French news (docs/dedup.md, « Press pairs »), split
# once by a fixed rule. Since the « one site, own pages, acts, follow-ups » round every set
# has been read and tuned on (held-out halves included): the sets guard against regressions;
# a fresh writer's set measures generalisation.
PRESS_TUNE = load_pairs(sorted(DATA.glob("press/tune/*.jsonl")))
PRESS_HELDOUT = load_pairs(sorted(DATA.glob("press/heldout/*.jsonl")))
# A third hand's pairs (press2/README.md), measured once with the decision frozen, then
# split by the same rule. `tune/` was tuned on in round 19; `heldout/` was measured only
# until round 20, which opened it and tuned on it (docs/dedup.md, « Across languages »):
# every set here is now in-sample, and generalisation is measured on a fourth hand's set
# at the merge.
PRESS2_TUNE = load_pairs(sorted(DATA.glob("press2/tune/*.jsonl")))
PRESS2_HELDOUT = load_pairs(sorted(DATA.glob("press2/heldout/*.jsonl")))
# A fourth hand's pairs (press3/README.md), written in round 20 while the rules were tuned
# on every set above, measured by the merger with the decision frozen and again after that
# round, then split by the same rule. `tune/` is tuned on from round 21 (docs/dedup.md,
# « Recall on unseen writing »); `heldout/` from round 22 (« Recall on briefs and
# releases »).
PRESS3_TUNE = load_pairs(sorted(DATA.glob("press3/tune/*.jsonl")))
PRESS3_HELDOUT = load_pairs(sorted(DATA.glob("press3/heldout/*.jsonl")))
# A fifth hand's pairs (press4/README.md, 238), written in round 21 while the rules were
# tuned on press3/tune, measured by the merger in round 21, not split; tuned on from round 22.
PRESS4 = load_pairs(sorted(DATA.glob("press4/*.jsonl")))
# A sixth hand's pairs (press5/README.md, 231), written in round 22 while the rules were
# tuned on press4 and press3/heldout, measured by the merger in round 22, not split; tuned on
# from round 23 (docs/dedup.md, « Posts and question headlines »).
PRESS5 = load_pairs(sorted(DATA.glob("press5/*.jsonl")))
# A seventh hand's pairs (press6/README.md, 202), written in round 23 while the rules were
# tuned on press5, measured by the merger in round 23, not split; tuned on from round 24
# (docs/dedup.md, « Minutes, digests and rounded years »).
PRESS6 = load_pairs(sorted(DATA.glob("press6/*.jsonl")))
# An eighth hand's pairs (press7/README.md, 250), written in round 24 while the rules were
# tuned on press6, measured by the merger in round 24, then opened and tuned on from round
# 24 (docs/dedup.md, « Posts signed, whatever their title »), not split.
PRESS7 = load_pairs(sorted(DATA.glob("press7/*.jsonl")))
# A ninth hand's pairs (press8/README.md, 267), written in round 24 while the rules were
# tuned on press7, measured by the merger in round 24, not split; tuned on from round 25.
PRESS8 = load_pairs(sorted(DATA.glob("press8/*.jsonl")))
# A tenth hand's pairs (press9/README.md, 235), written in round 25 while the rules were
# tuned on press8, measured by the merger only: never tuned on, not split.
PRESS9 = load_pairs(sorted(DATA.glob("press9/*.jsonl")))
# An eleventh hand's pairs (press10/README.md, 209), written in round 25 while the rules
# were tuned on press8, measured by the merger; opened for precision only in round 25.
PRESS10 = load_pairs(sorted(DATA.glob("press10/*.jsonl")))
# A twelfth and a thirteenth hand's pairs (press11/README.md, 239; press12/README.md, 237),
# written in round 26 while the rules were tuned on press9 and press10, measured by the
# merger only: never tuned on, not split.
PRESS11 = load_pairs(sorted(DATA.glob("press11/*.jsonl")))
PRESS12 = load_pairs(sorted(DATA.glob("press12/*.jsonl")))
# A fourteenth and a fifteenth hand's pairs (press13/README.md, 249; press14/README.md, 252),
# written in round 27 from the guide alone; measured once by the merger before any change.
PRESS13 = load_pairs(sorted(DATA.glob("press13/*.jsonl")))
PRESS14 = load_pairs(sorted(DATA.glob("press14/*.jsonl")))

# Floors a little under what is measured (round 20, « Across languages »; before → after):
# tuned 0.993 / 0.912 → 0.993 / 0.946 (1 distinct-story pair merged of 141 grouped; 140 of
# 148): no second merge (140 / 142 = 0.986), one pair fewer passes (0.939). Round 22
# (« Recall on briefs and releases »): 0.993 / 0.953 (141 of 148; one pair fewer is 0.946).
PRECISION_FLOOR = 0.988
RECALL_FLOOR = 0.945
# 1.000 / 0.864 → 1.000 / 1.000 (none of 22 grouped distinct; 22 of 22): one merge would be
# 0.957, one pair fewer 0.955.
HELDOUT_PRECISION_FLOOR = 0.97
HELDOUT_RECALL_FLOOR = 0.95
# press/tune 1.000 / 0.938 → 1.000 / 1.000 (32 of 32; one pair fewer is 0.969). Round 21:
# the press sets' precision floors at 0.98 (none merges a pair; the issue asks 0.97).
PRESS_TUNE_PRECISION_FLOOR = 0.98
PRESS_TUNE_RECALL_FLOOR = 0.96
# press/heldout 1.000 / 0.950 → 1.000 / 0.975 (39 of 40; one pair fewer is 0.950).
PRESS_HELDOUT_PRECISION_FLOOR = 0.98
PRESS_HELDOUT_RECALL_FLOOR = 0.95
# press2, measured once (2026-12-07): tune 1.000 / 0.607, heldout 1.000 / 0.525. Round 19
# tuned on `tune/` only: tune 1.000 / 0.964, heldout (measured by the merger) 1.000 / 0.675.
# Round 20, heldout opened: tune 1.000 / 1.000 (28 of 28; one pair fewer is 0.964), heldout
# 1.000 / 0.850 (none of 34 grouped distinct; 34 of 40; one pair fewer is 0.825).
# Round 21 (rules written on press3/tune, press2/heldout not read): heldout 1.000 / 0.850 →
# 1.000 / 0.875 as merged (35 of 40; one pair fewer is 0.850). Precision: no merge on
# either half. Round 27 (« press11 opened for recall », one date cited by both openings):
# heldout 1.000 / 0.900 (36 of 40; one pair fewer is 0.875).
PRESS2_PRECISION_FLOOR = 0.98
PRESS2_TUNE_RECALL_FLOOR = 0.96
PRESS2_HELDOUT_RECALL_FLOOR = 0.875
# press3 (226 pairs, 98 same), whole set: 1.000 / 0.704 with round 19's rules, 1.000 /
# 0.724 after round 20's (71 of 98). Split: tune 1.000 / 0.706 (48 of 68, none of 68
# distinct grouped), heldout 1.000 / 0.767 (23 of 30, none of 60). Floors: one pair fewer.
# Round 21 tuned on `tune/`: 1.000 / 0.706 → 1.000 / 0.912 as merged (62 of 68, none of 68
# distinct grouped; one pair fewer is 0.897; the tuner's 0.971 included a day tie the merger
# left out: it merged distinct stories on both unseen sets). `heldout/`, measured by the
# merger: 1.000 / 0.767 → 1.000 / 0.867 (26 of 30, none of 60; one pair fewer is 0.833).
# Round 22 opened `heldout/` and tuned on it (docs/dedup.md, « Recall on briefs and
# releases »): tune (a check set this round, not read) 1.000 / 0.912 → 1.000 / 0.956 (65 of
# 68; one pair fewer is 0.941), heldout 1.000 / 0.867 → 1.000 / 0.900 (27 of 30, none of 60
# grouped distinct; one pair fewer is 0.867). Both are spent as unseen sets.
PRESS3_PRECISION_FLOOR = 0.98
PRESS3_TUNE_PRECISION_FLOOR = 0.98
# Round 26 (« press10 opened for recall »): tune 1.000 / 0.971 (66 of 68; one pair fewer is
# 0.956), heldout 1.000 / 0.967 (29 of 30; one pair fewer is 0.933).
# Both round 26 tunings merged (« press9 opened for recall » with press10's): tune 1.000 /
# 0.985 (67 of 68), heldout 1.000 / 1.000 (30 of 30; one pair fewer is 0.967).
PRESS3_TUNE_RECALL_FLOOR = 0.97
PRESS3_HELDOUT_RECALL_FLOOR = 0.96
# press4, measured by the merger: 1.000 / 0.613 with round 20's rules, 1.000 / 0.623 as
# merged in round 21 (66 of 106, none of 132 distinct grouped). Round 22 opened it and tuned
# on it: 1.000 / 0.774 (82 of 106, none of 132 grouped distinct; one pair fewer is 0.764).
# Spent as an unseen set: a sixth hand's set measures generalisation at the merge.
PRESS4_PRECISION_FLOOR = 0.98
# Round 25 (« Digests item by item »): 1.000 / 0.783 (83 of 106; one pair fewer is 0.774).
# Round 26 (« press10 opened for recall »): 1.000 / 0.811 (86 of 106; one pair fewer is 0.802).
PRESS4_RECALL_FLOOR = 0.80
# press5, measured by the merger (round 22): 1.000 / 0.608 with round 21's rules (62 of 102,
# none of 129 distinct grouped), 1.000 / 0.696 as merged (71 of 102, none of 129 grouped
# distinct; one pair fewer is 0.686). Round 23 opened it and tuned on it: 1.000 / 0.755 (77
# of 102, none of 129 grouped distinct; one pair fewer is 0.745). Spent as an unseen set.
# Round 24: 1.000 / 0.775 (79 of 102, none of 129; one pair fewer is 0.765). Round 25
# (« Portraits and posts »): 1.000 / 0.784 (80 of 102; one pair fewer is 0.775).
PRESS5_PRECISION_FLOOR = 0.98
# Round 26 (« press10 opened for recall »): 1.000 / 0.804 (82 of 102; one pair fewer is 0.794).
PRESS5_RECALL_FLOOR = 0.79
# press6, measured by the merger: 1.000 / 0.700 with round 21's rules, 1.000 / 0.767 with
# round 22's and as merged in round 23 (69 of 90, none of 112 distinct grouped; one pair
# fewer is 0.756). Round 24 opened it and tuned on it: 1.000 / 0.833 (75 of 90, none of 112
# grouped distinct; one pair fewer is 0.822). Spent as an unseen set: an eighth hand's
# set measures generalisation at the merge.
PRESS6_PRECISION_FLOOR = 0.98
# Round 25: 1.000 / 0.878 (79 of 90; one pair fewer is 0.867).
# Round 26 (« press10 opened for recall »): 1.000 / 0.889 (80 of 90; one pair fewer is 0.878).
PRESS6_RECALL_FLOOR = 0.87
# press7, measured by the merger: 1.000 / 0.679 with round 23's rules, 1.000 / 0.705 as
# merged in round 24 (79 of 112, none of 138 distinct grouped; one pair fewer is 0.696).
# Round 24 then opened it and tuned on it: 1.000 / 0.741 (83 of 112, none of 138 grouped
# distinct; one pair fewer is 0.732). Spent as an unseen set: a ninth hand's set measures
# generalisation at the merge. Round 25 (« Portraits and posts » and « Digests item by
# item », both merged): 1.000 / 0.804 (90 of 112, none of 138; one pair fewer is 0.795).
PRESS7_PRECISION_FLOOR = 0.98
# Round 26 (« press10 opened for recall »): 1.000 / 0.812 (91 of 112; one pair fewer is 0.804).
# Round 27 (« press11 opened for recall »): 1.000 / 0.821 (92 of 112; one pair fewer is 0.812).
PRESS7_RECALL_FLOOR = 0.81
# press8, measured by the merger: 1.000 / 0.823 with round 23's rules, 1.000 / 0.832 with
# round 24's first rules and as merged (94 of 113, none of 154 distinct grouped; one pair
# fewer is 0.823). Round 25 opened it and tuned on it (docs/dedup.md, « Portraits and
# posts: the subject is in the lead »; « Digests item by item, amounts written out,
# notices »): 1.000 / 0.903 with both merged (102 of 113, none of 154 grouped distinct; one
# pair fewer is 0.894). Spent as an unseen set: a tenth hand's set measures generalisation
# at the merge.
PRESS8_PRECISION_FLOOR = 0.98
# Round 26 (« press10 opened for recall »): 1.000 / 0.920 (104 of 113; one pair fewer is 0.912).
# Both round 26 tunings merged: 1.000 / 0.929 (105 of 113; one pair fewer is 0.920).
# Round 27 (« One release, two lines of its table »): 1.000 / 0.938 (106 of 113; one pair
# fewer is 0.929).
PRESS8_RECALL_FLOOR = 0.925
# press9, measured by the merger before round 25's rules: 1.000 / 0.830 with round 23's
# rules, 1.000 / 0.849 with round 24's (90 of 106, none of 129 distinct grouped; one pair
# fewer is 0.840). With round 25's rules (both tuners merged): 1.000 / 0.858 (91 of 106,
# none of 129; one pair fewer is 0.849). Not tuned on.
PRESS9_PRECISION_FLOOR = 0.98
# Round 26 (« press9 opened for recall »): opened and tuned on: 1.000 / 0.915 (97 of 106, none of
# 129 grouped distinct; one pair fewer is 0.906). Spent as an unseen set.
# Round 27 (« One release, two lines of its table »): 1.000 / 0.925 (98 of 106; one pair
# fewer is 0.915).
PRESS9_RECALL_FLOOR = 0.91
# press10, measured by the merger before round 25's rules: 0.963 / 0.837 with round 23's
# and round 24's rules alike (77 of 92; 3 of 117 distinct stories grouped — a pilot town's
# own plan vs the national launch, an editorial vs the news it comments, an interview vs
# the vote it follows: under the 0.97 target). Opened for precision in round 25 (docs/dedup.md,
# « Editorials, interviews and a body's own part »): 1.000 / 0.837 (77 of 92, none of 117
# distinct grouped; one more merge is 0.987, one pair fewer 0.826). Not tuned for recall.
PRESS10_PRECISION_FLOOR = 0.98
# Round 26 opened it for recall (« press10 opened for recall »): 1.000 / 0.946 (87 of 92, none
# of 117 distinct grouped; one pair fewer is 0.935). Spent as an unseen set.
PRESS10_RECALL_FLOOR = 0.93
# press11, measured by the merger on round 25's rules (52de0f6): 0.985 / 0.604 (64 of 106;
# 1 of 133 distinct grouped: an assistant's suspension twelve days after its launch). One
# more merge is 0.970, one pair fewer 0.594. Far under the 0.85 target; not tuned on.
# With round 26's rules as merged (both recall tunings, follow-ups that recall the launch —
# a fix whose brief named the kinds of the four merges of press11/press12, not their texts):
# 1.000 / 0.632 (67 of 106, none of 133 distinct grouped; one more merge is 0.985, one pair
# fewer 0.623). Round 27 opened it for recall (« press11 opened for recall »: one date cited
# by both openings, local angles of a named release): 1.000 / 0.708 (75 of 106, none of 133
# distinct grouped; one pair fewer is 0.698). Spent as an unseen set.
PRESS11_PRECISION_FLOOR = 0.98
# With « One release, two lines of its table » (press12 opened) merged too: 1.000 / 0.726 (77
# of 106; one pair fewer is 0.717).
PRESS11_RECALL_FLOOR = 0.717
# press12, measured by the merger on round 25's rules (52de0f6): 0.965 / 0.774 (82 of 106;
# 3 of 131 distinct grouped, all follow-ups: two suspensions ten days after a launch, services
# restored after an attack). One more merge is 0.953, one pair fewer 0.764. Not tuned on.
# With round 26's rules as merged: 1.000 / 0.821 (87 of 106, none of 131 distinct grouped;
# one pair fewer is 0.811). Round 27: press11's rules alone (press12 not read) 1.000 / 0.858;
# opened for recall (« One release, two lines of its table ») with both merged: 1.000 / 0.868
# (92 of 106, none of 131 distinct grouped; one pair fewer is 0.858). Spent as an unseen set.
PRESS12_PRECISION_FLOOR = 0.98
PRESS12_RECALL_FLOOR = 0.858
# press13, measured by the merger on round 26's rules (4bb1abb): 0.969 / 0.816 (93 of 114; 3 of
# 135 distinct grouped: a strike day and the next one announced twelve days later). Round 27's
# recall rules (press11 and press12 opened; press13 not read): 0.969 / 0.833; its three merges
# fixed by a rule written from them alone (« A later event that recalls the earlier day »), so
# its precision is no longer blind, its recall still is: 1.000 / 0.833 (95 of 114; one more
# merge is 0.990, one pair fewer 0.825).
PRESS13_PRECISION_FLOOR = 0.98
PRESS13_RECALL_FLOOR = 0.824
# press14, measured the same way: 0.989 / 0.752 (88 of 117; 1 of 135 distinct grouped: a
# dispatch of a vote six days after the debate); round 27's recall rules 0.989 / 0.769; its
# merge fixed as press13's: 1.000 / 0.769 (90 of 117; one pair fewer is 0.761).
PRESS14_PRECISION_FLOOR = 0.98
PRESS14_RECALL_FLOOR = 0.76


def test_the_pairs_are_many_and_varied() -> None:
    assert len(PAIRS) >= 320
    assert len({p.id for p in PAIRS}) == len(PAIRS)
    same = sum(p.same for p in PAIRS)
    assert same >= 140 and len(PAIRS) - same >= 160
    assert len({x.source for p in PAIRS for x in (p.a, p.b)}) >= 20


def test_precision_and_recall_floors() -> None:
    scores = score(PAIRS)
    assert scores.precision >= PRECISION_FLOOR, [p.id for p in scores.false_positives]
    assert scores.recall >= RECALL_FLOOR, [p.id for p in scores.false_negatives]


def test_heldout_floors() -> None:
    assert len(HELDOUT) >= 50
    assert not {p.id for p in HELDOUT} & {p.id for p in PAIRS}
    scores = score(HELDOUT)
    assert scores.precision >= HELDOUT_PRECISION_FLOOR, [p.id for p in scores.false_positives]
    assert scores.recall >= HELDOUT_RECALL_FLOOR, [p.id for p in scores.false_negatives]


def _half(pair_id: str) -> str:
    """The split rule: the first byte of SHA-256 of the pair's group (its id without the
    « pr- » / « p2- » / « p3- » prefix and the number), even → tune. A group is one event's coverage
    or one contrast, so no group is split across the halves."""
    group = pair_id.removeprefix("pr-").removeprefix("p2-").removeprefix("p3-").rsplit("-", 1)[0]
    return "tune" if hashlib.sha256(group.encode()).digest()[0] % 2 == 0 else "heldout"


def test_the_press_pairs_are_many_hard_and_split_by_the_fixed_rule() -> None:
    press = PRESS_TUNE + PRESS_HELDOUT
    assert len(press) >= 200
    assert len({p.id for p in press}) == len(press)
    assert not {p.id for p in press} & {p.id for p in PAIRS + HELDOUT}
    assert sum(not p.same for p in press) >= 0.55 * len(press)
    assert all(_half(p.id) == "tune" for p in PRESS_TUNE)
    assert all(_half(p.id) == "heldout" for p in PRESS_HELDOUT)
    press2 = PRESS2_TUNE + PRESS2_HELDOUT
    assert len(press2) >= 160 and len({p.id for p in press2}) == len(press2)
    assert not {p.id for p in press2} & {p.id for p in press + PAIRS + HELDOUT}
    assert all(_half(p.id) == "tune" for p in PRESS2_TUNE)
    assert all(_half(p.id) == "heldout" for p in PRESS2_HELDOUT)
    press3 = PRESS3_TUNE + PRESS3_HELDOUT
    assert len(press3) >= 220 and len({p.id for p in press3}) == len(press3)
    assert not {p.id for p in press3} & {p.id for p in press2 + press + PAIRS + HELDOUT}
    assert all(_half(p.id) == "tune" for p in PRESS3_TUNE)
    assert all(_half(p.id) == "heldout" for p in PRESS3_HELDOUT)
    assert len(PRESS4) >= 200 and len({p.id for p in PRESS4}) == len(PRESS4)
    assert not {p.id for p in PRESS4} & {p.id for p in press3 + press2 + press + PAIRS + HELDOUT}
    assert len(PRESS5) >= 200 and len({p.id for p in PRESS5}) == len(PRESS5)
    assert not {p.id for p in PRESS5} & {p.id for p in PRESS4 + press3 + press2 + press + PAIRS}
    assert len(PRESS6) >= 200 and len({p.id for p in PRESS6}) == len(PRESS6)
    assert not {p.id for p in PRESS6} & {p.id for p in PRESS5 + PRESS4 + press3 + press2 + PAIRS}
    assert len(PRESS7) >= 200 and len({p.id for p in PRESS7}) == len(PRESS7)
    assert not {p.id for p in PRESS7} & {p.id for p in PRESS6 + PRESS5 + PRESS4 + press3 + PAIRS}
    assert len(PRESS8) >= 200 and len({p.id for p in PRESS8}) == len(PRESS8)
    assert not {p.id for p in PRESS8} & {p.id for p in PRESS7 + PRESS6 + PRESS5 + PRESS4 + PAIRS}
    assert len(PRESS9) >= 200 and len({p.id for p in PRESS9}) == len(PRESS9)
    assert not {p.id for p in PRESS9} & {p.id for p in PRESS8 + PRESS7 + PRESS6 + PRESS5 + PAIRS}
    assert len(PRESS10) >= 200 and len({p.id for p in PRESS10}) == len(PRESS10)
    assert not {p.id for p in PRESS10} & {p.id for p in PRESS9 + PRESS8 + PRESS7 + PAIRS}
    for later in (PRESS11, PRESS12):
        assert len(later) >= 200 and len({p.id for p in later}) == len(later)
        assert not {p.id for p in later} & {p.id for p in PRESS10 + PRESS9 + PRESS8 + PAIRS}
    assert not {p.id for p in PRESS11} & {p.id for p in PRESS12}
    for later in (PRESS13, PRESS14):
        assert len(later) >= 240 and len({p.id for p in later}) == len(later)
        assert not {p.id for p in later} & {p.id for p in PRESS12 + PRESS11 + PRESS10 + PAIRS}
    assert not {p.id for p in PRESS13} & {p.id for p in PRESS14}


def test_press_floors() -> None:
    for pairs, precision, recall in (
        (PRESS_TUNE, PRESS_TUNE_PRECISION_FLOOR, PRESS_TUNE_RECALL_FLOOR),
        (PRESS_HELDOUT, PRESS_HELDOUT_PRECISION_FLOOR, PRESS_HELDOUT_RECALL_FLOOR),
        (PRESS2_TUNE, PRESS2_PRECISION_FLOOR, PRESS2_TUNE_RECALL_FLOOR),
        (PRESS2_HELDOUT, PRESS2_PRECISION_FLOOR, PRESS2_HELDOUT_RECALL_FLOOR),
        (PRESS3_TUNE, PRESS3_TUNE_PRECISION_FLOOR, PRESS3_TUNE_RECALL_FLOOR),
        (PRESS3_HELDOUT, PRESS3_PRECISION_FLOOR, PRESS3_HELDOUT_RECALL_FLOOR),
        (PRESS4, PRESS4_PRECISION_FLOOR, PRESS4_RECALL_FLOOR),
        (PRESS5, PRESS5_PRECISION_FLOOR, PRESS5_RECALL_FLOOR),
        (PRESS6, PRESS6_PRECISION_FLOOR, PRESS6_RECALL_FLOOR),
        (PRESS7, PRESS7_PRECISION_FLOOR, PRESS7_RECALL_FLOOR),
        (PRESS8, PRESS8_PRECISION_FLOOR, PRESS8_RECALL_FLOOR),
        (PRESS9, PRESS9_PRECISION_FLOOR, PRESS9_RECALL_FLOOR),
        (PRESS10, PRESS10_PRECISION_FLOOR, PRESS10_RECALL_FLOOR),
        (PRESS11, PRESS11_PRECISION_FLOOR, PRESS11_RECALL_FLOOR),
        (PRESS12, PRESS12_PRECISION_FLOOR, PRESS12_RECALL_FLOOR),
        (PRESS13, PRESS13_PRECISION_FLOOR, PRESS13_RECALL_FLOOR),
        (PRESS14, PRESS14_PRECISION_FLOOR, PRESS14_RECALL_FLOOR),
    ):
        scores = score(pairs)
        assert scores.precision >= precision, [p.id for p in scores.false_positives]
        assert scores.recall >= recall, [p.id for p in scores.false_negatives]


def test_across_english_and_french() -> None:
    """The Commission's English releases vs their French coverage, over every set: 6 of the
    20 same-story pairs were grouped before round 20 (cognates only), 20 after; none of the
    12 different-story pairs across the languages is merged."""
    pairs = PAIRS + HELDOUT + PRESS_TUNE + PRESS_HELDOUT + PRESS2_TUNE + PRESS2_HELDOUT

    def english(article: PairArticle) -> bool:
        return is_english(f"{article.title}\n{article.text[:LANGUAGE_CHARS]}")

    across = [p for p in pairs if english(p.a) != english(p.b)]
    scores = score(across)
    assert scores.same >= 20 and scores.pairs - scores.same >= 12
    assert scores.false_positives == []
    assert scores.true_positives >= 18, [p.id for p in scores.false_negatives]


def test_long_articles_still_separate() -> None:
    """The whole articles of tests/data/stories/ (what the collector reads when a page is
    extracted): each story's two versions group, no two stories of the 16 do."""
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)

    def article(text: str, source: str, hours: int) -> PairArticle:
        head, sep, body = text.partition("\n\n")
        title, text = (head, body) if sep and len(head) < 200 else ("", text)
        return PairArticle(title, text, source, start + timedelta(hours=hours))

    pairs = [
        StoryPair(n, True, article(a, "a.fr", 0), article(b, "b.fr", 5), "")
        for n, _, a, b in STORIES
    ]
    for x, y in itertools.combinations(STORIES, 2):
        pairs += [
            StoryPair(f"{x[0]}/{y[0]}", False, article(u, "a.fr", 0), article(v, "b.fr", 5), "")
            for u in x[2:]
            for v in y[2:]
        ]
    scores = score(pairs)
    assert scores.pairs == 16 + 480
    assert scores.recall == 1.0
    assert scores.false_positives == []


def test_coverage_of_a_later_event_is_a_different_story() -> None:
    """Follow-ups (« le portail ouvert lundi compte déjà… ») never join the event's story."""
    follow_ups = [p for p in PAIRS + HELDOUT if p.note.startswith("follow-up")]
    assert len(follow_ups) >= 10
    assert not any(grouped(p) for p in follow_ups)


def test_articles_further_apart_than_the_window_never_group() -> None:
    pair = next(p for p in PAIRS if p.same)
    assert grouped(pair)
    later = type(pair.b)(
        pair.a.title,
        pair.a.text,
        "autre-site.fr",
        pair.a.published.replace(year=pair.a.published.year + 1),
    )
    assert not grouped(type(pair)("x", True, pair.a, later, ""))


def test_a_bad_line_names_its_file_and_line(tmp_path: Path) -> None:
    good = json.dumps(
        {
            "id": "x",
            "same": True,
            "a": {"title": "t", "text": "x", "source": "s", "published": "2026-01-01"},
            "b": {"title": "t", "text": "x", "source": "s", "published": "2026-01-01"},
        }
    )
    path = tmp_path / "p.jsonl"
    path.write_text(
        good + "\n" + good.replace('"published": "2026-01-01"}}', '"published": "hier"}}')
    )
    with pytest.raises(UserError, match=r"p\.jsonl, ligne 2, b"):
        load_pairs([path])
