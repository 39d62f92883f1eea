"""feeds.yaml validation: every mistake names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from veille.errors import ConfigError
from veille.sources import THEME_IDS, load_feeds_config, parse_feeds_config

REPO = Path(__file__).resolve().parents[1]

GOOD = """\
themes:
  - id: open_data
    label: Open data
    keywords: [Données ouvertes, open data]
sources:
  - key: portail
    name: Portail
    url: https://example.org/feed.xml
  - key: annonces
    name: Annonces
    url: https://example.org/actualites/
    kind: page
    selector: "h2 a"
    weight: 2
    interval: 120
    tags: [national]
"""


def test_good_file_gives_defaults_and_values() -> None:
    cfg = parse_feeds_config(GOOD)
    assert [s.key for s in cfg.sources] == ["portail", "annonces"]
    first, second = cfg.sources
    assert (first.kind, first.weight, first.interval, first.enabled) == ("feed", 1.0, 60, True)
    assert (second.kind, second.selector, second.weight, second.tags) == (
        "page",
        "h2 a",
        2.0,
        ("national",),
    )
    assert cfg.themes[0].keywords == ("données ouvertes", "open data")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("kind: page", "kind: podcast"), "line 12: field 'sources.1.kind'"),
        (
            GOOD.replace("https://example.org/feed.xml", "example.org"),
            "line 8: field 'sources.0.url'",
        ),
        (GOOD.replace("weight: 2", "weight: lots"), "line 14: field 'sources.1.weight'"),
        (GOOD.replace("key: annonces", "key: portail"), "line 9: duplicate source key 'portail'"),
        (GOOD.replace("id: open_data", "id: sport"), "line 2: field 'themes.0.id'"),
        (GOOD.replace("    name: Portail\n", ""), "line 6: field 'sources.0.name'"),
        (
            GOOD.replace("interval: 120", "interval: 120\n    colour: red"),
            "field 'sources.1.colour'",
        ),
        (
            GOOD.replace("kind: page\n    selector", "kind: feed\n    selector"),
            "line 13: field 'selector'",
        ),
        ("sources: [\n", "invalid YAML"),
        ("- a\n- b\n", "expected a mapping"),
    ],
)
def test_errors_name_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_feeds_config(text, path="feeds.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("feeds.yaml")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_feeds_config(tmp_path / "nope.yaml")


def test_shipped_feeds_yaml_is_valid_and_broad() -> None:
    cfg = load_feeds_config(REPO / "feeds.yaml")
    assert {t.id for t in cfg.themes} == set(THEME_IDS)
    assert all(t.keywords for t in cfg.themes)
    assert len(cfg.sources) >= 40
    assert len({s.url for s in cfg.sources}) == len(cfg.sources)
