"""Writing to feeds.yaml: the file stays the delegate's source of truth, so commands that
add sources append YAML blocks to it (keeping comments) instead of rewriting it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from veille.errors import ConfigError, ParseError
from veille.sources import FeedsConfig, key_from_url, load_feeds_config, parse_feeds_config


def _block(entry: Mapping[str, object]) -> str:
    lines = []
    for i, (field, value) in enumerate(entry.items()):
        if value is None:
            continue
        prefix = "  - " if i == 0 else "    "
        dumped = yaml.safe_dump(
            {field: value}, allow_unicode=True, default_flow_style=True, width=1000
        ).strip()
        lines.append(prefix + dumped.removeprefix("{").removesuffix("}"))
    return "\n".join(lines) + "\n"


def add_sources(path: Path, entries: Iterable[Mapping[str, object]]) -> tuple[int, int]:
    """Append sources whose URL is not yet listed; return (added, skipped).

    The result is validated before it is written, so a bad entry never corrupts the file.
    """
    if path.exists():
        text = path.read_text(encoding="utf-8")
        config = parse_feeds_config(text, path=path)
    else:
        text, config = "themes: []\nsources:\n", FeedsConfig(themes=(), sources=(), path=path)
    urls = {s.url for s in config.sources}
    keys = {s.key for s in config.sources}
    blocks: list[str] = []
    skipped = 0
    for entry in entries:
        if entry["url"] in urls:
            skipped += 1
            continue
        item = dict(entry)
        if str(item.get("key") or "") in keys or not item.get("key"):
            item["key"] = key_from_url(str(item["url"]), keys)
        keys.add(str(item["key"]))
        urls.add(str(item["url"]))
        blocks.append(_block(item))
    if not blocks:
        return 0, skipped
    if re.search(r"^sources:\s*\[\s*\]\s*$", text, flags=re.M):
        text = re.sub(r"^sources:\s*\[\s*\]\s*$", "sources:", text, flags=re.M)
    last_key = [m.group(1) for m in re.finditer(r"^([A-Za-z_]+):", text, flags=re.M)]
    if not last_key or last_key[-1] != "sources":
        if "sources" in last_key:
            raise ConfigError(
                f"{path}: 'sources:' must be the last section to add sources automatically."
            )
        text = text.rstrip("\n") + "\nsources:\n"
    new_text = text.rstrip("\n") + "\n" + "".join(blocks)
    parse_feeds_config(new_text, path=path)
    path.write_text(new_text, encoding="utf-8")
    return len(blocks), skipped


def entries_from_opml(content: bytes, config_path: Path) -> list[dict[str, object]]:
    from veille.collect.opml import parse_opml

    try:
        outlines = parse_opml(content)
    except ParseError as exc:
        raise ConfigError(f"OPML file: {exc}") from None
    taken = set()
    if config_path.exists():
        taken = {s.key for s in load_feeds_config(config_path).sources}
    entries: list[dict[str, object]] = []
    for outline in outlines:
        if not outline.xml_url or not re.match(r"^https?://", outline.xml_url):
            continue
        key = key_from_url(outline.xml_url, taken)
        taken.add(key)
        entry: dict[str, object] = {
            "key": key,
            "name": (outline.title or key)[:300],
            "url": outline.xml_url,
            "kind": "feed",
        }
        if outline.category:
            entry["tags"] = [outline.category]
        entries.append(entry)
    return entries


def opml_from_config(config: FeedsConfig) -> bytes:
    from veille.collect.opml import OpmlOutline, write_opml

    return write_opml(
        [
            OpmlOutline(
                title=s.name, xml_url=s.url, html_url=None, category=s.tags[0] if s.tags else None
            )
            for s in config.sources
            if s.kind == "feed"
        ],
        title="veille — sources",
    )
