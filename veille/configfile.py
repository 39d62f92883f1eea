"""Reading feeds.yaml from disk, with the errors the user sees when it cannot be read.

Two readers need it: `sources.load_feeds_config` (the desk, the CLI, the labels) and the
collector's `collect.due.FeedsFile`, which keeps the raw bytes to compare their digest
before parsing anything and so must not import the schema's libraries (pydantic, PyYAML).
Both go through here, so a missing or unreadable file is worded once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from veille import __version__
from veille.errors import ConfigError


def read_bytes(path: Path) -> bytes:
    """The file's bytes; a missing or unreadable file is a ConfigError naming it."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (pass --config FILE).") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}).") from None


def text_of(raw: bytes, path: Path) -> str:
    """The file's text as text mode reads it (UTF-8, universal newlines), so that line
    numbers in the schema's errors are the editor's; bytes that are not UTF-8 are a
    ConfigError naming the file."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}).") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def digest_of(raw: bytes) -> str:
    """The digest of a feeds file's bytes, read by this version of veille (a new version
    may read the same bytes into other rows: it syncs once again). `db.feeds_sync` stores
    the one of the file the sources table was last synced from."""
    return hashlib.sha256(f"veille {__version__}\n".encode() + raw).hexdigest()
