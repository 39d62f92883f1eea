"""Word tokens of Windows-1252 text by one byte table, in C.

The text facts of a page (story words, full-text tokens, language stop words) each folded
the same extracted text in their own way and then ran a regular expression over it: an
NFKD pass, a mark-stripping `re.sub` and a `findall` of ~6 KB per fact, per page. Every one
of those rules maps each character on its own (case, accents, what separates words), so for
text that Windows-1252 encodes — most French news — a rule is a table of 256 entries: the
text is encoded once, each character replaced by its contribution (`bytes.translate`, plus
`bytes.replace` for the few characters that give several, « ß » → « ss »), and split on
spaces. The same tokens as the rule's own definition (tests/test_bytetokens.py checks every
character and random mixtures of them); text outside Windows-1252 takes the definition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class TokenTable:
    """A per-character token rule over Windows-1252: each byte's contribution."""

    table: bytes  # byte → its one-character contribution (a space: a separator)
    delete: bytes  # bytes that contribute nothing (neither a letter nor a separator)
    # bytes contributing several characters, replaced before the table (whose own entries
    # leave those characters as they are)
    replacements: tuple[tuple[bytes, bytes], ...]


def cp1252_bytes() -> Iterator[tuple[int, str]]:
    """Each byte Windows-1252 encodes a character to, with that character (five bytes are
    never produced by encoding and have none)."""
    for byte in range(256):
        try:
            yield byte, bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            continue


def token_table(contribution: Callable[[str], str]) -> TokenTable:
    """The table of a rule given as `contribution(char)`: what the character becomes in the
    folded text, word characters kept and every separator written as a space (the tokens
    are then `folded.split()`). Only rules that map each character on its own qualify."""
    table, delete, several = bytearray(range(256)), bytearray(), []
    for byte, char in cp1252_bytes():
        out = contribution(char)
        if out and not out.strip():
            out = " "  # separators only: one space splits alike
        encoded = out.encode("cp1252")
        if not encoded:
            delete.append(byte)
        elif len(encoded) == 1:
            table[byte] = encoded[0]
        else:
            several.append((bytes([byte]), encoded))
    for _, encoded in several:  # the replacement's bytes must come through the table as is
        if any(table[b] != b or b in delete or any(b == s[0] for s, _ in several) for b in encoded):
            raise ValueError(f"replacement {encoded!r} is not left alone by the table")
    return TokenTable(bytes(table), bytes(delete), tuple(several))


def tokens(text: str, rule: TokenTable) -> list[str] | None:
    """The tokens of `text` under `rule`, or None when Windows-1252 cannot encode it (the
    caller then applies the rule's definition)."""
    try:
        raw = text.encode("cp1252")
    except UnicodeEncodeError:
        return None
    for byte, replacement in rule.replacements:
        if byte in raw:
            raw = raw.replace(byte, replacement)
    return raw.translate(rule.table, rule.delete).decode("cp1252").split()
