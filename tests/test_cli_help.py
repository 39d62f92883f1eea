"""`veille --help` and every `veille <cmd> --help`: they run, list the commands and options
of the command line contract (DESIGN.md, the README's « Commands »), and speak French.

The contract is written out here, as it stood when the help texts were translated: a help
text may change, a name, a flag or a default may not (scripts and cron lines rely on them).
"""

from __future__ import annotations

import re

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from tests.typography import cli_help_texts
from veille.cli import COMMANDS, app

runner = CliRunner()

# Each command's parameters: its declarations, then « = » and its default.
CONTRACT: dict[str, set[str]] = {
    "": {"--install-completion=None", "--show-completion=None"},
    "collect": {"--all=False", "--config/-c=None", "--json=False", "--source/-s=None"},
    "export": {"--format/-f=jsonl", "--output/-o=None", "--since=None", "--theme=None"},
    "serve": {"--host=127.0.0.1", "--port=8000", "--workers=None"},
    "run": {"--config/-c=None", "--host=127.0.0.1", "--port=8000", "--workers=None"},
    "worker": {"--config/-c=None"},
    "demo": {"--host=127.0.0.1", "--once=False", "--port=8000", "--workdir=veille-demo"},
    "sources": set(),
    "sources list": {"--config/-c=None", "--json=False"},
    "sources add": {"--config/-c=None", "--key=None", "--kind=None", "--name=None", "url=None"},
    "sources import-opml": {"--config/-c=None", "file=None"},
    "sources export-opml": {"--config/-c=None", "--output/-o=None"},
    "sources resume": {"key=None"},
    "db": set(),
    "db upgrade": set(),
    "classify": set(),
    "classify eval": {"--config/-c=None", "--json=False", "file=None"},
    "classify train": {"--config/-c=None"},
    "classify reclassify": {"--config/-c=None"},
    "classify explain": {"--config/-c=None", "--json=False", "article=None"},
    "members": set(),
    "members import": {"--dry-run=False", "--require-confirmation=False", "file=None"},
    "members export": {"--format/-f=csv", "--output/-o=None"},
    "members list": {
        "--json=False",
        "--limit=100",
        "--reconsent=False",
        "--search=",
        "--status=None",
    },
    "users": set(),
    "users add": {"--link=False", "--role=delegate", "email=None"},
    "edition": set(),
    "edition draft": {"--json=False"},
    "edition preview": {"--member=None", "--text=False", "number=None"},
    "edition send": {"--actor=None", "--dry-run=None", "--yes/-y=False", "number=None"},
    "edition status": {"--json=False", "number=None"},
}

# Words of English a French help text has no use for (option values such as « pending » or
# « feed | page | sitemap » are not among them).
ENGLISH = {
    "the", "of", "and", "to", "only", "with", "this", "for", "from", "its", "their", "print",
    "each", "every", "into", "when", "not", "or", "default", "file", "output", "show", "run",
    "create", "send", "ignore", "is", "are", "be", "by", "as", "an", "it", "one", "all",
}  # fmt: skip
# A French sentence of three words or more has at least one of these.
FRENCH = {
    "de", "la", "le", "les", "des", "du", "en", "et", "un", "une", "à", "au", "aux", "sans",
    "par", "ou", "sur", "son", "sa", "ses", "leur", "ne", "ni", "pour", "dans", "avec", "d",
    "l", "qu",
}  # fmt: skip


def _signature(param: object) -> str:
    opts = sorted([*param.opts, *param.secondary_opts], key=len, reverse=True)  # type: ignore[attr-defined]
    return "/".join(opts) + "=" + str(param.default)  # type: ignore[attr-defined]


def _command(path: str) -> object:
    command = get_command(app)
    for name in path.split():
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


def _words(text: str) -> list[str]:
    """The words of `text`, names left out: VEILLE_CONFIG_FILE, DIR, feeds.yaml, {title}."""
    tokens = [t.strip(".,;:!?()«»\u00a0\u202f") for t in text.split()]
    tokens = [t for t in tokens if not re.search(r"[_./{}]|^[A-Z0-9-]{2,}$", t)]
    return re.findall(r"[^\W\d_]+", " ".join(tokens).lower())


def _paths(command: object, path: tuple[str, ...] = ()) -> list[str]:
    found = [" ".join(path)]
    for name in getattr(command, "commands", {}):
        found += _paths(command.commands[name], (*path, name))  # type: ignore[attr-defined]
    return found


def test_the_contract_names_every_command_in_order() -> None:
    assert _paths(get_command(app)) == list(CONTRACT)


@pytest.mark.parametrize("path", list(CONTRACT))
def test_help_runs_and_lists_the_contract(path: str) -> None:
    command = _command(path)
    assert {_signature(p) for p in command.params} == CONTRACT[path]  # type: ignore[attr-defined]
    result = runner.invoke(app, [*path.split(), "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    visible = [p for p in command.params if not getattr(p, "hidden", False)]  # type: ignore[attr-defined]
    for param in visible:
        assert param.opts[0] in result.output or param.name in result.output, param.opts
    subcommands = list(getattr(command, "commands", {}))
    for name in subcommands:
        assert re.search(rf"│ {re.escape(name)} ", result.output), name
    if subcommands:  # typer's title « Commands », in French
        assert "─ Commandes ─" in result.output and "Commands" not in result.output
    if path == "":
        listed = [n for n in COMMANDS if re.search(rf"│ {n} ", result.output)]
        assert listed == list(COMMANDS)  # every command, in the order of COMMANDS


def test_every_help_text_is_french() -> None:
    """Each command's help and each option's and argument's, as typer shows them: none
    missing, no English word, and a French one in any text of three words or more."""
    texts = list(cli_help_texts(get_command(app)))
    assert len(texts) > 80, len(texts)
    english: dict[str, list[str]] = {}
    not_french: list[str] = []
    for where, text in texts:
        assert text.strip(), f"{where}: no help text"
        words = _words(text)
        if found := sorted(set(words) & ENGLISH):
            english.setdefault(where, []).extend(found)
        if len(words) >= 3 and not set(words) & FRENCH:
            not_french.append(f"{where}: {text}")
    assert english == {}, english
    assert not_french == [], not_french
