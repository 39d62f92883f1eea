"""Spreadsheet-safe CSV cells, for every CSV the project writes (CSV injection, OWASP).

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a
formula by Excel and LibreOffice when the file is opened: a feed title
`=HYPERLINK("http://x","y")` in the open-data export would become a live link (or worse).
Such cells get a leading apostrophe, which spreadsheets show as "text" and do not display;
`restore` removes it again so that the project's own readers get the value back unchanged.
Only text is touched: numbers (a score, a negative number) stay numbers.

A ground module: imports nothing of the project, so archive/ and members/ can both use it.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """`value` unchanged unless it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_text(text: str) -> str:
    """`neutralise` for a cell known to be text (keeps type checkers precise)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def restore(text: str) -> str:
    """Undo `neutralise_text`, so that an export re-imports to the same values."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text
