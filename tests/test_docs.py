"""The documentation keeps up with the code, in the manner of Datasette's documentation
tests: every setting of `veille/config.py` has a row in the README's settings table, and
every variable that table documents is a setting the code reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from veille.config import ENV_PREFIX, Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def documented_variables() -> set[str]:
    """The `VEILLE_*` names in the first column of the table under `## Settings` (a row may
    document several, e.g. `VEILLE_EDITION_DAY`, `VEILLE_EDITION_TIME`)."""
    section = README.read_text(encoding="utf-8").split("\n## Settings\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    found: set[str] = set()
    for line in section.splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) > 2:
            found |= set(re.findall(r"`(VEILLE_[A-Z0-9_]+)`", cells[1]))
    return found


def setting_variables() -> set[str]:
    prefix = ENV_PREFIX
    return {f"{prefix}{name}".upper() for name in Settings.model_fields}


def test_the_readme_settings_table_is_found() -> None:
    assert "VEILLE_DATABASE_URL" in documented_variables()


@pytest.mark.parametrize("variable", sorted(setting_variables()))
def test_every_setting_is_documented(variable: str) -> None:
    assert variable in documented_variables()


@pytest.mark.parametrize("variable", sorted(documented_variables()))
def test_every_documented_variable_is_a_setting(variable: str) -> None:
    assert variable in setting_variables()
