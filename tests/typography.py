"""French typography of the text the project writes, as a checker the tests share.

The rule (README, « Typography »): a no-break space (U+00A0) before « : » and inside
guillemets (« U+00A0 … U+00A0 »), a narrow no-break space (U+202F) before « ; ! ? »
— the Imprimerie nationale's. A browser or a mail reader may break a line at an
ordinary space, so « Thème » and its « : », or a title and its closing « » », can end
up on two lines; a missing space reads as English.

Two strengths: `faults` (what a reader sees: no ordinary space or line start before the
punctuation, none glued to the word before it, guillemets always with a no-break space)
and `strict_faults` (what our sources write: the very characters the rule names).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import html as lxml_html

NBSP, NNBSP = "\u00a0", "\u202f"
NO_BREAK = NBSP + NNBSP

# Punctuation used as such: followed by a space of any kind, the end of the text, a closing
# mark or a tag. « https://… », « 14:30 », « ?q=… » and « {n:,} » are not.
_PUNCT = r"[:;!?](?=[\s" + NO_BREAK + r"»),.<\"']|$)"
# An ordinary space, or nothing but white space since the line (or the text) began.
_SPACED = re.compile(r"(?:^|[ \t\r\n])" + _PUNCT, re.MULTILINE)
_FRAGMENT = re.compile(r"[ \t\r\n]" + _PUNCT)
# Glued to a word, a closing bracket or a closing guillemet.
_GLUED = re.compile(r"[\w)\]»]" + _PUNCT)
_OPEN = re.compile(r"«(?![" + NO_BREAK + r"])")
_CLOSE = re.compile(r"(?<![" + NO_BREAK + r"])»")
# The characters the rule names: U+00A0 before « : », U+202F before « ; ! ? » (or U+00A0
# when the mark itself is quoted: « ; »), U+00A0 inside guillemets.
_WRONG_COLON = re.compile(NNBSP + ":")
_WRONG_OTHER = re.compile(r"(?<!«)" + NBSP + r"[;!?](?=[\s" + NO_BREAK + r"»),.<\"']|$)")
_WRONG_GUILLEMET = re.compile("«" + NNBSP + "|" + NNBSP + "»")


def _snippets(text: str, pattern: re.Pattern[str], what: str) -> Iterator[str]:
    for found in pattern.finditer(text):
        start, end = max(found.start() - 30, 0), min(found.end() + 20, len(text))
        shown = text[start:end].replace(NBSP, "⍽").replace(NNBSP, "⸱").replace("\n", "⏎")
        yield f"{what}: …{shown}…"


def faults(text: str, *, glued: bool = True, fragment: bool = False) -> list[str]:
    """What a French reader would see as sloppy type in `text`, each with its context
    (no-break spaces shown as ⍽ and ⸱). `glued=False` leaves out « mot: », for text that
    may hold code or English (Python string literals); `fragment=True` reads `text` as
    a piece that follows other text (an f-string's literal part), not as a line start."""
    found = [
        *_snippets(
            text,
            _FRAGMENT if fragment else _SPACED,
            "ordinary space or line start before the punctuation",
        ),
        *_snippets(text, _OPEN, "no no-break space after «"),
        *_snippets(text, _CLOSE, "no no-break space before »"),
    ]
    if glued:
        found += _snippets(text, _GLUED, "no space before the punctuation")
    return found


def strict_faults(text: str, *, glued: bool = True, fragment: bool = False) -> list[str]:
    """`faults`, plus any no-break space other than the one the rule names."""
    return [
        *faults(text, glued=glued, fragment=fragment),
        *_snippets(text, _WRONG_COLON, "U+202F before « : » (U+00A0 is the rule)"),
        *_snippets(text, _WRONG_OTHER, "U+00A0 before « ; ! ? » (U+202F is the rule)"),
        *_snippets(text, _WRONG_GUILLEMET, "U+202F by a guillemet (U+00A0 is the rule)"),
    ]


# ----------------------------------------------------------------- where the text is


_HIDDEN = ("script", "style", "template", "code", "pre", "kbd", "samp", "textarea")
_READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")


def visible_text(page: str | bytes) -> list[str]:
    """The text of an HTML page a reader sees or hears: its body's text (code, scripts
    and styles left out) and the attributes a screen reader or a tooltip reads."""
    doc = lxml_html.fromstring(page)
    for element in list(doc.iter(*_HIDDEN)):
        element.drop_tree()  # keeps its tail
    texts = [doc.text_content()]
    for name in _READ_ATTRIBUTES:
        texts += [str(v) for v in doc.xpath(f"//@{name}")]
    return texts


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# Scripts, styles (a mail's `{% block styles %}` too) and comments: no French in them.
_RAW = re.compile(
    r"<(script|style)\b.*?</\1>|<!--.*?-->|\{%-?\s*block\s+\w*styles\s*%\}.*?\{%-?\s*endblock",
    re.DOTALL | re.IGNORECASE,
)
_TAG = re.compile(r"<[A-Za-z/!?][^>]*>")
_ATTRIBUTE = re.compile(r"""\s[\w:-]+=(["'])(.*?)\1""", re.DOTALL)


def template_texts(source: str) -> list[str]:
    """The text runs of a Jinja template (HTML, XML or plain text): what lies between its
    tags and Jinja blocks, plus its tags' attribute values. A Jinja block ends a run, so
    in « {{ label }} : » the run « : » begins with its ordinary space, and in
    « {{ label }}: » with the colon itself (a line start, for the checker)."""
    marked = _JINJA.sub("\x00", _RAW.sub("\x00", source))
    texts: list[str] = []
    for tag in _TAG.findall(marked):
        texts += [value for _, value in _ATTRIBUTE.findall(tag)]
    texts += _TAG.split(marked)
    return [run for text in texts for run in text.split("\x00") if run.strip(" \t\r\n")]


_JS_STRING = re.compile(
    r"""//[^\n]*|/\*.*?\*/|"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`""",
    re.DOTALL,
)


def javascript_strings(source: str) -> list[str]:
    """The string literals of a JavaScript file (comments left out)."""
    return [
        next(g for g in m.groups() if g is not None)
        for m in _JS_STRING.finditer(source)
        if any(g is not None for g in m.groups())
    ]


_SQL = re.compile(r"\b(?:SELECT|INSERT|DELETE|UPDATE|WHERE|VALUES|MATCH)\b")


def python_strings(source: str) -> list[tuple[int, str]]:
    """(line, text) of a module's string constants that a person may read: docstrings
    (English, for developers), SQL, regular expressions (arguments of `re.…`) and single
    characters left out; an f-string gives its literal parts."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
        ):
            skipped.update(id(inner) for arg in node.args for inner in ast.walk(arg))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and len(node.value) > 1
        and id(node) not in skipped
        and not _SQL.search(node.value)
    ]


def cli_help_texts(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(where, text) of every help text of a click command tree that is ours: each command's
    help and short help, each parameter's (hidden ones too); typer's own options
    (`--help`, `--install-completion`, `--show-completion`) left out. A lazy group's
    commands are built as `--help` builds them."""
    where = " ".join(("veille", *path))
    for text in (command.help, command.short_help):
        if text:
            yield where, text
    for param in command.params:
        if param.name not in TYPER_OWN_PARAMS:
            yield f"{where} {param.opts[0]}", getattr(param, "help", None) or ""
    for name in getattr(command, "commands", {}):
        yield from cli_help_texts(command.commands[name], (*path, name))


TYPER_OWN_PARAMS = {"help", "install_completion", "show_completion"}


def files(root: Path, *patterns: str) -> list[Path]:
    return sorted(p for pattern in patterns for p in root.glob(pattern) if p.is_file())
