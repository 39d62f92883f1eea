"""The searched words marked in a card's title and extract (`<mark>`), by the search's own
rules: a word of the text is marked when its search token (folded, stemmed:
`veille.text.french.search_tokens`) is one the query requires, so « données » is marked for
the query « donnee », as the index found it.

The text is escaped piece by piece and only our own `<mark>` tags are added: stored titles
and summaries come from hostile feeds and never reach the page as markup.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

from veille.archive.fulltext_query import parse_text
from veille.text.french import search_tokens

# A word as the index splits it: letters (accented too) and digits; anything else separates.
_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=1024)
def query_tokens(q: str) -> frozenset[str]:
    """The tokens a search requires (exclusions are not shown: they matched nothing).
    Cached: a page asks it for the title and the extract of each of its 20 cards."""
    return frozenset(token for _, tokens in parse_text(q).include for token in tokens)


@lru_cache(maxsize=65_536)
def _word_tokens(word: str) -> frozenset[str]:
    """`search_tokens` of one word of a card; the same words come back card after card."""
    return frozenset(search_tokens(word))


def highlight(text: str | None, q: str) -> Markup:
    """`text` escaped, with the words the search `q` matched wrapped in `<mark>`."""
    if not text:
        return Markup("")
    wanted = query_tokens(q) if q else frozenset()
    if not wanted:
        return escape(text)
    out: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        tokens = _word_tokens(match.group())
        if tokens and tokens <= wanted:
            out.append(escape(text[last : match.start()]))
            out.append(Markup("<mark>{}</mark>").format(match.group()))
            last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)
