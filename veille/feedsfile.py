"""Writing to feeds.yaml: the file stays the delegate's file of record, so the commands and
the desk that add or edit sources change it in place, keeping its comments and order.

- **One validation** (`check_source`) for the CLI and the desk: the same French sentence
  for a bad URL, a duplicate, a weight or an interval out of range, wherever the delegate
  typed it. The whole file is then validated again (`parse_feeds_config`) before it is
  written, so an edit never leaves a file the collector refuses.
- **Round trip** with ruamel.yaml: comments, key order, quoting and the file's own
  indentation (guessed) survive; PyYAML would drop every comment.
- **Atomic and serialised**: a read-modify-write runs under an exclusive lock on
  `feeds.yaml.lock` (two desks, or a desk and `veille sources add`, take turns: both edits
  survive), and the new text is written to a temporary file renamed over the old one, so a
  crash never leaves half a file.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from veille.errors import ConfigError, ConflictError, ParseError
from veille.sources import FeedsConfig, Source, key_from_url, load_feeds_config, parse_feeds_config

T = TypeVar("T")
LOCK_WAIT = 5.0  # seconds: an edit takes milliseconds; longer means something is stuck
EMPTY_FILE = "themes: []\nsources:\n"
KEY_RULE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
EDITABLE = ("name", "weight", "interval", "enabled")
DEFAULTS: dict[str, object] = {"weight": 1.0, "interval": 60, "enabled": True}  # sources.py
WEIGHT_RANGE = (0.0, 5.0)
INTERVAL_RANGE = (5, 7 * 24 * 60)


# --- the one validation ------------------------------------------------------------------


def _number(value: object, kind: type[float] | type[int]) -> float | int | None:
    """A number typed by a French delegate (« 1,5 ») or given by a program (1.5)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number: float = float(value)
    else:
        try:
            number = float(str(value).strip().replace(",", ".").replace("\u202f", ""))
        except ValueError:
            return None
    if number != number:  # NaN
        return None
    if kind is int:
        return int(number) if number.is_integer() else None
    return number


def check_url(url: str) -> str:
    """The URL of a source to add, stripped; the first check of `sources add` and of the
    desk, before anything is fetched."""
    url = url.strip()
    if not re.match(r"^https?://[^\s/]+\S*$", url):
        raise ConfigError(
            f"Adresse invalide « {url[:200]} » : elle doit commencer par http:// ou https://."
        )
    return url


def check_source(
    entry: Mapping[str, object], config: FeedsConfig, *, key: str | None = None
) -> dict[str, object]:
    """The fields of a source to add (`key` None) or of the source `key` to change, checked
    against the file's other sources; returns them cleaned (numbers as numbers). Raises
    ConfigError with one French sentence — what the CLI prints and the desk shows."""
    clean: dict[str, object] = {}
    others = [s for s in config.sources if s.key != key]
    if key is None:
        url = check_url(str(entry.get("url") or ""))
        for other in others:
            if other.url == url:
                raise ConfigError(
                    f"Cette adresse est déjà suivie : source « {other.name} » ({other.key})."
                )
        clean["url"] = url
        new_key = str(entry.get("key") or "").strip()
        if new_key:
            if not KEY_RULE.match(new_key):
                raise ConfigError(
                    f"Clé invalide « {new_key[:80]} » : lettres minuscules, chiffres, « - » "
                    "et « _ », 63 caractères au plus."
                )
            if any(s.key == new_key for s in others):
                raise ConfigError(f"La clé « {new_key} » est déjà celle d’une autre source.")
        clean["key"] = new_key or key_from_url(url, {s.key for s in others})
        kind = str(entry.get("kind") or "feed")
        if kind not in ("feed", "page", "sitemap"):
            raise ConfigError(f"Type de source inconnu « {kind[:40]} » : feed, page ou sitemap.")
        clean["kind"] = kind
    if "name" in entry or key is None:
        name = " ".join(str(entry.get("name") or "").split())
        if not name:
            raise ConfigError("Le nom de la source ne peut pas être vide.")
        if len(name) > 300:
            raise ConfigError("Le nom de la source dépasse 300 caractères.")
        clean["name"] = name
    if entry.get("weight") not in (None, ""):
        weight = _number(entry["weight"], float)
        low, high = WEIGHT_RANGE
        if weight is None or not low <= weight <= high:
            raise ConfigError(
                f"Poids invalide « {str(entry['weight'])[:20]} » : un nombre de 0 à 5 "
                "(1 par défaut ; 1,5 compte une fois et demie)."
            )
        clean["weight"] = float(weight)
    if entry.get("interval") not in (None, ""):
        interval = _number(entry["interval"], int)
        low_i, high_i = INTERVAL_RANGE
        if interval is None or not low_i <= interval <= high_i:
            raise ConfigError(
                f"Intervalle invalide « {str(entry['interval'])[:20]} » : un nombre entier "
                "de minutes, de 5 à 10080 (une semaine)."
            )
        clean["interval"] = int(interval)
    if "enabled" in entry:
        clean["enabled"] = bool(entry["enabled"])
    return clean


# --- the round trip ----------------------------------------------------------------------


def _yaml_for(text: str) -> YAML:
    yaml = YAML()  # round-trip mode
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the delegate's long lines
    try:
        _, indent, offset = load_yaml_guess_indent(text)
    except YAMLError:
        indent, offset = None, None
    if indent is None:
        indent, offset = 4, 2
    yaml.indent(mapping=offset or 2, sequence=indent, offset=offset or 0)
    return yaml


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer of feeds.yaml at a time (the desk's workers, the CLI): an flock on a lock
    file beside it, waited for up to LOCK_WAIT seconds."""
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ConflictError(
                        f"{path.name} est en cours de modification (bureau ou ligne de "
                        "commande) : réessayez dans un instant, rien n’a été changé."
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def edit_file(path: Path, change: Callable[[CommentedMap, FeedsConfig], T]) -> T:
    """Read feeds.yaml under the lock, let `change` edit its round-trip tree (with the
    validated config of the text as read), validate the result as a whole, write it."""
    with _locked(path):
        text = path.read_text(encoding="utf-8") if path.exists() else EMPTY_FILE
        config = parse_feeds_config(text, path=path)
        yaml = _yaml_for(text)
        try:
            data = yaml.load(text)
        except YAMLError as exc:  # parse_feeds_config accepted it: should not happen
            raise ConfigError(f"{path}: lecture YAML impossible ({exc}).") from None
        if data is None:
            data = CommentedMap()
        result = change(data, config)
        out = io.StringIO()
        yaml.dump(data, out)
        new_text = out.getvalue()
        if new_text != text:
            parse_feeds_config(new_text, path=path)
            _write_atomic(path, new_text)
        return result


def _sources_of(data: CommentedMap) -> CommentedSeq:
    sources = data.get("sources")
    if not isinstance(sources, CommentedSeq):
        sources = CommentedSeq()
        data["sources"] = sources
    if sources.fa.flow_style():  # `sources: []`: grow it as a block
        sources.fa.set_block_style()
    return sources


def _new_block(entry: Mapping[str, object]) -> CommentedMap:
    block = CommentedMap()
    for field in ("key", "name", "url", "kind", "weight", "interval", "tags", "enabled"):
        if entry.get(field) is not None:
            block[field] = entry[field]
    return block


def _set_field(block: CommentedMap, field: str, value: object) -> None:
    """Set a field; a new one goes last, and the comment lines and blank lines that
    followed the old last line (ruamel keeps them on it: they introduce the next source)
    stay after the new line, so they still sit before the source they describe."""
    if field in block or not block:
        block[field] = value
        return
    last = list(block)[-1]
    block[field] = value
    entry = block.ca.items.get(last)
    token = entry[2] if entry and len(entry) > 2 else None
    if token is None or "\n" not in token.value:
        return
    own, _, rest = token.value.partition("\n")
    if not rest:
        return
    token.value = own + "\n"
    moved = CommentToken("\n" + rest, token.start_mark, None)
    block.ca.items[field] = [None, None, moved, None]


def add_source(path: Path, entry: Mapping[str, object]) -> dict[str, object]:
    """Append one source (checked by `check_source`); return it as written."""

    def change(data: CommentedMap, config: FeedsConfig) -> dict[str, object]:
        clean = check_source(entry, config)
        _sources_of(data).append(_new_block(clean))
        return clean

    return edit_file(path, change)


def update_source(path: Path, key: str, changes: Mapping[str, object]) -> dict[str, object]:
    """Change the name, weight, interval or `enabled` of the source `key` in place (the
    other lines, comments included, stay as they are); return what changed."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ConfigError(f"Champ non modifiable : {', '.join(sorted(unknown))}.")

    def change(data: CommentedMap, config: FeedsConfig) -> dict[str, object]:
        if not any(s.key == key for s in config.sources):
            raise ConfigError(f"Aucune source « {key} » dans {path.name}.")
        clean = check_source(changes, config, key=key)
        block = next(
            b for b in _sources_of(data) if isinstance(b, CommentedMap) and b.get("key") == key
        )
        done: dict[str, object] = {}
        for field, value in clean.items():
            current: Any = block.get(field)
            if current is None and DEFAULTS.get(field) == value:
                continue  # the default: no line to add
            if current is None or current != value or type(current) is not type(value):
                _set_field(block, field, value)
                done[field] = value
        return done

    return edit_file(path, change)


def add_sources(path: Path, entries: Iterable[Mapping[str, object]]) -> tuple[int, int]:
    """Append the sources whose URL is not yet listed (OPML import); (added, skipped).
    Each is checked as `sources add` checks one; one bad entry refuses the whole batch."""

    def change(data: CommentedMap, config: FeedsConfig) -> tuple[int, int]:
        sources = _sources_of(data)
        urls = {s.url for s in config.sources}
        added = skipped = 0
        for entry in entries:
            if entry.get("url") in urls:
                skipped += 1
                continue
            clean = check_source(entry, config)
            clean["tags"] = entry.get("tags") or None
            sources.append(_new_block(clean))
            added_source = Source(
                key=str(clean["key"]), name=str(clean["name"]), url=str(clean["url"])
            )
            config = replace(config, sources=(*config.sources, added_source))
            urls.add(str(clean["url"]))
            added += 1
        return added, skipped

    return edit_file(path, change)


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
