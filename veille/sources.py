"""The `feeds.yaml` schema: themes and sources, loaded into frozen dataclasses.

The delegate edits this file by hand, so every mistake is reported as one sentence naming
the file, the line and the field (pydantic validates; the YAML node tree gives the lines).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from veille import configfile
from veille.errors import ConfigError

log = logging.getLogger(__name__)


def key_from_url(url: str, taken: Iterable[str] = ()) -> str:
    """A readable source key from a URL's host, unique among `taken`: it follows the key rule
    of the schema below, so it lives beside it (`sources add`, OPML import, discovery)."""
    parts = urlsplit(url)
    host = (parts.hostname or "source").removeprefix("www.")
    base = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")[:50] or "source"
    taken = set(taken)
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def validate_selector(selector: str) -> None:
    """Raise ConfigError for a CSS selector cssselect cannot compile: feeds.yaml is checked
    when it is loaded, so a typo is reported with its line before any cycle runs. cssselect
    alone (the translator lxml's `cssselect()` uses for HTML), not lxml: the scheduler loads
    feeds.yaml every minute and a tick with nothing due imports no parser."""
    from cssselect import HTMLTranslator, SelectorError

    try:
        HTMLTranslator().css_to_xpath(selector)
    except (SelectorError, ValueError) as exc:
        raise ConfigError(f"Invalid CSS selector {selector!r}: {exc}.") from exc


THEME_IDS = ("open_data", "ia", "donnees_interet_general")
# Display names when feeds.yaml gives none (or cannot be read).
DEFAULT_THEME_LABELS = {
    "open_data": "Open data",
    "ia": "Intelligence artificielle",
    "donnees_interet_general": "Données d'intérêt général",
}
SourceKind = Literal["feed", "page", "sitemap"]


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    description: str = ""
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    key: str
    name: str
    url: str
    kind: str = "feed"
    weight: float = 1.0
    interval: int = 60  # minutes
    tags: tuple[str, ...] = ()
    selector: str | None = None
    enabled: bool = True


@dataclass(frozen=True)
class FeedsConfig:
    themes: tuple[Theme, ...]
    sources: tuple[Source, ...]
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def source(self, key: str) -> Source:
        for src in self.sources:
            if src.key == key:
                return src
        raise ConfigError(f"Unknown source '{key}' in {self.path or 'feeds.yaml'}.")


class _ThemeModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    label: str
    description: str = ""
    keywords: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _known_id(cls, value: str) -> str:
        if value not in THEME_IDS:
            raise ValueError(f"must be one of {', '.join(THEME_IDS)}")
        return value


class _SourceModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str = Field(min_length=1)
    url: str
    kind: SourceKind = "feed"
    weight: float = Field(1.0, ge=0, le=5)
    interval: int = Field(60, ge=5, le=7 * 24 * 60)
    tags: list[str] = Field(default_factory=list)
    selector: str | None = None
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an absolute http:// or https:// URL")
        return value


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    themes: list[_ThemeModel] = Field(default_factory=list)
    sources: list[_SourceModel] = Field(default_factory=list)


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """Walk the YAML node tree along a pydantic error location to find its line."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if node is None:
            break
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    child = value_node
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _load_yaml(text: str) -> Any:
    """libyaml when present (~10x faster: every `veille collect` reads the file); on an
    error, the pure-Python loader again, so the message keeps its usual wording. The node
    tree that gives error lines is only composed when there is an error to place."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return yaml.load(text, Loader=loader)  # CSafeLoader: the safe loader in C
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def parse_feeds_config(text: str, *, path: Path | str = "feeds.yaml") -> FeedsConfig:
    """Validate the text of a feeds file; raise ConfigError naming line and field."""
    name = str(path)
    try:
        data = _load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{name}{where}: invalid YAML ({problem}).") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: expected a mapping with 'themes:' and 'sources:'.")
    for section in ("themes", "sources"):
        if section in data and data[section] is None:  # `sources:` with nothing under it yet
            data[section] = []
    try:
        model = _FileModel.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = _line_of(yaml.compose(text), loc)
        field_name = ".".join(str(p) for p in loc) or "(top level)"
        where = f" line {line}" if line else ""
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{name}{where}: field '{field_name}': {msg}{more}.") from None
    seen: set[str] = set()
    for index, src in enumerate(model.sources):
        if src.key in seen:
            line = _line_of(yaml.compose(text), ("sources", index, "key"))
            raise ConfigError(f"{name} line {line}: duplicate source key '{src.key}'.")
        seen.add(src.key)
        if src.selector and src.kind != "page":
            line = _line_of(yaml.compose(text), ("sources", index, "selector"))
            raise ConfigError(
                f"{name} line {line}: field 'selector' is only for sources of kind 'page'."
            )
        if src.selector:
            try:
                validate_selector(src.selector)
            except ConfigError as exc:
                line = _line_of(yaml.compose(text), ("sources", index, "selector"))
                raise ConfigError(f"{name} line {line}: field 'selector': {exc}") from None
    theme_ids = [t.id for t in model.themes]
    if len(set(theme_ids)) != len(theme_ids):
        raise ConfigError(f"{name}: a theme id is listed twice.")
    return FeedsConfig(
        themes=tuple(
            Theme(t.id, t.label, t.description, tuple(k.lower() for k in t.keywords))
            for t in model.themes
        ),
        sources=tuple(
            Source(
                key=s.key,
                name=s.name,
                url=s.url,
                kind=s.kind,
                weight=s.weight,
                interval=s.interval,
                tags=tuple(s.tags),
                selector=s.selector,
                enabled=s.enabled,
            )
            for s in model.sources
        ),
        path=Path(path),
    )


def load_feeds_config(path: Path | str) -> FeedsConfig:
    """Read and validate a feeds file from disk."""
    p = Path(path)
    return parse_feeds_config(configfile.text_of(configfile.read_bytes(p), p), path=p)


def load_config_quietly(path: Path | str) -> FeedsConfig | None:
    """feeds.yaml when it is readable, else None: pages and mails still work without it."""
    try:
        return load_feeds_config(path)
    except ConfigError as exc:
        log.info("working without feeds.yaml labels: %s", exc)
        return None


def theme_labels_of(config: FeedsConfig | None) -> dict[str, str]:
    """Theme id → display name: feeds.yaml's labels over the built-in French ones."""
    labels = dict(DEFAULT_THEME_LABELS)
    if config is not None:
        labels.update({t.id: t.label for t in config.themes if t.id in THEME_IDS})
    return labels


def theme_labels_from(path: Path | str) -> dict[str, str]:
    return theme_labels_of(load_config_quietly(path))
