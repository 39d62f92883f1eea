"""The entry point (`cli/entry.py`): cron's plain `veille collect` command lines are read
without typer, exactly as typer reads them, and every other command line is typer's.

Parity is checked against typer itself: the same command line goes through the typer app
(CliRunner) and through `plain_collect`, and the command's body must receive the same
arguments. A domain error ends the same way on both paths (real processes, stderr and
exit code compared).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from veille.cli import app, cycle
from veille.cli.entry import CollectArgs, completing, plain_collect

# Command lines cron and scripts write: read without typer.
PLAIN = [
    ["collect"],
    ["collect", "--json"],
    ["collect", "--all", "--json"],
    ["collect", "--json", "--all"],
    ["collect", "-s", "flux-a"],
    ["collect", "--source", "flux-a", "-s", "flux-b", "--source=flux-c", "--json"],
    ["collect", "-c", "feeds.yaml"],
    ["collect", "--config=/etc/veille/feeds.yaml", "--all"],
    ["collect", "--all", "--config", "dossier avec espaces/feeds.yaml", "--source", "clé-é"],
]

# Anything else goes to typer: help, other commands, unknown, repeated or odd forms.
OTHERS = [
    [],
    ["--help"],
    ["collect", "--help"],
    ["collect", "-h"],
    ["export"],
    ["sources", "list"],
    ["collect", "--all", "--all"],
    ["collect", "--json", "--json"],
    ["collect", "-s"],
    ["collect", "--source"],
    ["collect", "--source", "-x"],
    ["collect", "--source", "--all"],
    ["collect", "-sflux-a"],
    ["collect", "-s=flux-a"],
    ["collect", "--source="],
    ["collect", "--config", ""],
    ["collect", "-c", "a.yaml", "--config", "b.yaml"],
    ["collect", "--all=1"],
    ["collect", "--bogus"],
    ["collect", "extra"],
    ["collect", "--"],
    ["collect", "--all", "-"],
    ["collecte"],
]


def through_typer(args: list[str], monkeypatch: pytest.MonkeyPatch) -> CollectArgs:
    """What typer hands the command's body for `veille ARGS`."""
    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr(cycle, "collect", lambda *given: seen.append(given))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (given,) = seen
    config, sources, all_, json_out = given
    return CollectArgs(config=config, sources=sources, all_=all_, json_out=json_out)


@pytest.mark.parametrize("args", PLAIN, ids=" ".join)
def test_plain_command_lines_read_as_typer_reads_them(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = plain_collect(args)
    assert parsed is not None
    assert parsed == through_typer(args, monkeypatch)


@pytest.mark.parametrize("args", OTHERS, ids=lambda a: " ".join(a) or "(nothing)")
def test_other_command_lines_are_left_to_typer(args: list[str]) -> None:
    assert plain_collect(args) is None


def test_shell_completion_is_left_to_typer() -> None:
    assert completing({"_VEILLE_COMPLETE": "complete_bash", "PATH": "/usr/bin"})
    assert completing({"_PYTHON__M_VEILLE_COMPLETE": "complete_zsh"})
    assert not completing({"PATH": "/usr/bin", "VEILLE_DATABASE_URL": "sqlite:///x.db"})


def run(code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "VEILLE_DATABASE_URL": f"sqlite:///{tmp_path / 'veille.db'}",
        "VEILLE_CONFIG_FILE": str(tmp_path / "feeds.yaml"),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


ENTRY = "import sys; sys.argv[0] = 'veille'; from veille.cli.entry import main; main()"
TYPER = "import sys; from veille.cli import app; app(sys.argv[1:], prog_name='veille')"
MODULES = "import atexit, sys; atexit.register(lambda: print('typer' in sys.modules)); "


@pytest.mark.parametrize(
    "args",
    [
        ["collect", "--json", "--config", "absent.yaml"],
        ["collect", "--all"],  # VEILLE_CONFIG_FILE names a missing file
        ["collect", "--source", "inconnue", "-c", "feeds.yaml"],
    ],
    ids=" ".join,
)
def test_a_domain_error_ends_alike_without_typer(tmp_path: Path, args: list[str]) -> None:
    if "feeds.yaml" in args:
        (tmp_path / "feeds.yaml").write_text(
            "sources:\n  - key: flux-a\n    name: Flux A\n    url: http://exemple.fr/a.xml\n",
            encoding="utf-8",
        )
    plain = run(MODULES + ENTRY, tmp_path, *args)
    typer = run(MODULES + TYPER, tmp_path, *args)
    assert plain.returncode == typer.returncode == 1
    assert plain.stderr == typer.stderr
    assert plain.stderr.startswith("Erreur") and "Traceback" not in plain.stderr
    # The entry point's process never imported typer; the control did.
    assert plain.stdout.splitlines()[-1] == "False"
    assert typer.stdout.splitlines()[-1] == "True"
