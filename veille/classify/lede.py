"""An article's head, cleaned and folded once for everything that reads it.

The theme model reads the title and the first MAX_TEXT_CHARS of text (`features.document`),
the keyword rules the title and the first TEXT_CHARS (`rules.all_hits`): the same head of the
same text. Each used to clean and fold its own copy — for 10,000 articles of 2–5 KB, two
`clean_head` and three `fold` calls each. Here the head is cleaned and folded once and each
part is a slice of it. Slicing a folded text gives the fold of the slice only when the text
was folded character by character (`french.fold_per_character`: ASCII or Windows-1252, most
French news); otherwise, and when markup near the cut could make the two heads differ, each
part is read as before. Same strings either way (tests/test_lede.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from veille.classify.features import LEAD_CHARS, MAX_TEXT_CHARS, PART_SEPARATOR, document
from veille.classify.rules import TEXT_CHARS
from veille.text.french import clean_head, clean_text, fold_per_character

# The rules read a longer head than the model: the model's is a prefix of theirs.
assert MAX_TEXT_CHARS <= TEXT_CHARS
# What the rules clean of the raw text to get their TEXT_CHARS.
RAW_CHARS = TEXT_CHARS * 2


@dataclass(frozen=True)
class Lede:
    document: str  # `features.document(title, text)`: what the theme model reads
    title: str  # the title cleaned and folded: what the rules match in the title
    text: str  # the first TEXT_CHARS of text cleaned and folded: what the rules match


def read(title: str, text: str) -> Lede:
    """The document and the rules' folded title and text of one article."""
    title, text = title or "", text or ""
    clean_title = clean_text(title)
    head = clean_head(text[:RAW_CHARS], TEXT_CHARS)
    folded_title, title_per_char = fold_per_character(clean_title)
    folded_head, head_per_char = fold_per_character(head)
    # The model's head is `clean_head(text, MAX_TEXT_CHARS)`, a prefix of `head` when the
    # rules cleaned the whole text, or when no tag or entity starts in what they cleaned
    # (cleaning further on then changes nothing before) and their head is long enough.
    same_head = len(text) <= RAW_CHARS or (
        len(head) >= MAX_TEXT_CHARS and "<" not in text[:RAW_CHARS] and "&" not in text[:RAW_CHARS]
    )
    if not (same_head and title_per_char and head_per_char):
        return Lede(document(title, text), folded_title, folded_head)
    model_head = head[:MAX_TEXT_CHARS]
    if len(model_head) > LEAD_CHARS:
        cut = model_head.rfind(" ", 0, LEAD_CHARS + 1)
    else:
        cut = len(model_head)
    cut = cut if cut > 0 else LEAD_CHARS  # as `document`: the lead ends between words
    lead = f"{folded_title}. {folded_title}. {folded_head[:cut]}"
    body = folded_head[cut:MAX_TEXT_CHARS]
    return Lede(f"{lead}{PART_SEPARATOR}{body}", folded_title, folded_head)
