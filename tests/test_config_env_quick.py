"""`config_env`: the `VEILLE_*` environment read without pydantic, for cron's nothing-due
`veille collect`. Its « surely valid » must never say yes to a value `config.Settings`
refuses (else a bad setting would go unreported), its kinds and bounds must be the
model's, and the two paths it reads must be those the model reads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import annotated_types
import pytest
from pydantic import ValidationError

from veille import config_env
from veille.config import Settings, get_settings

# Fields never « surely valid »: a pattern, an optional path.
UNSURE = config_env.CHECKED

# Values an operator might type, odd ones included.
SAMPLES = [
    "", " ", "0", "1", "-1", "+1", "007", "1_000", " 4", "4 ", "4.0", "0.25", ".5", "5.",
    "1e3", "inf", "nan", "-0", "99999999999", "1024", "1023", "1440", "1441", "8", "9",
    "23", "24", "32", "33", "64", "65", "256", "257", "true", "false", "True", "FALSE",
    "yes", "no", "on", "off", "y", "n", "t", "f", "oui", "2", "abc", "sqlite:///x.db",
    "feeds.yaml", "/etc/veille/feeds.yaml", "mon", "08:00", "é", "0.0", "0.000000001",
]  # fmt: skip


def bounds(name: str) -> list[Any]:
    return list(Settings.model_fields[name].metadata)


def accepted(name: str, value: str) -> bool:
    try:
        Settings.model_validate({name: value})
    except ValidationError:
        return False
    return True


def test_every_field_has_its_kind_and_the_models_bounds() -> None:
    kinds = [
        config_env.TEXT,
        config_env.PATHS,
        config_env.FLAGS,
        set(config_env.INTEGERS),
        set(config_env.DECIMALS),
        UNSURE,
    ]
    for name, field in Settings.model_fields.items():
        assert sum(name in kind for kind in kinds) == 1, name
        if name in config_env.TEXT:
            assert field.annotation is str and bounds(name) == [], name
        elif name in config_env.PATHS:
            assert field.annotation is Path and bounds(name) == [], name
        elif name in config_env.FLAGS:
            assert field.annotation is bool, name
        elif name in config_env.INTEGERS:
            low, high = config_env.INTEGERS[name]
            expected = [annotated_types.Ge(low)] if low is not None else []
            expected += [annotated_types.Le(high)] if high is not None else []
            assert field.annotation is int and bounds(name) == expected, name
        elif name in config_env.DECIMALS:
            bound, strictly = config_env.DECIMALS[name]
            kind = annotated_types.Gt if strictly else annotated_types.Ge
            expected = [kind(bound)] if bound is not None else []
            assert field.annotation is float and bounds(name) == expected, name
    assert not set().union(*kinds) - set(Settings.model_fields)  # no name of its own
    assert set(Settings.model_fields) == config_env.FIELDS


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_surely_valid_never_says_yes_to_a_refused_value(name: str) -> None:
    samples = list(SAMPLES)
    for bound in bounds(name):  # each bound, and its neighbours
        if not isinstance(bound, annotated_types.Ge | annotated_types.Gt | annotated_types.Le):
            continue  # a pattern
        edge = next(getattr(bound, a) for a in ("ge", "gt", "le") if hasattr(bound, a))
        samples += [str(edge - 1), str(edge), str(edge + 1), f"{edge}.0", f"{edge}.5"]
    said_yes = [value for value in samples if config_env.surely_valid(name, value)]
    assert [value for value in said_yes if not accepted(name, value)] == []
    if name not in UNSURE:  # its plain forms are read here: the check is not vacuous
        assert said_yes, name
    else:
        assert said_yes == []


def test_an_unknown_name_is_never_surely_valid() -> None:
    assert not config_env.surely_valid("databse_url", "sqlite:///x.db")


def env(**variables: str) -> dict[str, str]:
    return {"PATH": "/usr/bin", "HOME": "/root", **variables}


@pytest.mark.parametrize(
    "environ",
    [
        env(),
        env(VEILLE_DATABASE_URL="sqlite:////srv/veille.db", VEILLE_CONFIG_FILE="/etc/f.yaml"),
        env(veille_database_url="postgresql://u:p@h/db", VEILLE_PER_HOST_DELAY="0.25"),
        {"VEILLE_CONFIG_FILE": "a.yaml", "veille_config_file": "b.yaml"},  # the last wins
        {"veille_config_file": "b.yaml", "VEILLE_CONFIG_FILE": "a.yaml"},
        # not fields: ignored here as by the model (a test runner's, a wrapper's variables)
        env(VEILLE_AXE_JS="/x/axe.min.js", VEILLE_REQUIRE_BROWSER="1", VEILLE_DATABASE_UR="x"),
        env(
            VEILLE_ALLOW_PRIVATE_NETWORKS="1",
            VEILLE_PER_HOST_CONCURRENCY="4",
            VEILLE_CONCURRENCY="64",
            VEILLE_SECRET_KEY="une clé « longue » 0123456789",
            VEILLE_FETCH_TIMEOUT="12.5",
        ),
    ],
)
def test_the_two_paths_are_the_models(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    found = config_env.plain_paths(environ)
    assert found is not None
    for key in [k for k in os.environ if k.lower().startswith("veille_")]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    settings = get_settings()
    assert found == (settings.database_url, settings.config_file)


@pytest.mark.parametrize(
    "environ",
    [
        env(VEILLE_CONCURRENCY="0"),  # refused by the model: it must say so
        env(VEILLE_PER_HOST_DELAY="abc"),
        env(VEILLE_ALLOW_PRIVATE_NETWORKS="peut-être"),
        env(VEILLE_EDITION_DAY="mon"),  # valid, but a pattern: the model decides
        env(VEILLE_CONFIG_FILE=""),
    ],
)
def test_anything_unsure_builds_the_settings(environ: dict[str, str]) -> None:
    assert config_env.plain_paths(environ) is None
