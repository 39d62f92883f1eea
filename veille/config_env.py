"""The `VEILLE_*` environment as `config.get_settings` reads it, without pydantic: which
variables are set, and whether the settings model would surely accept each value.

Cron's `veille collect` usually finds nothing due, and needs two settings to say so: the
database and feeds.yaml. Building `config.Settings` to read them imports pydantic and
builds the model's validator (with `importlib.metadata`, for pydantic's plugins): ~0.15 s
of CPU of a run that is ~0.2 s with it (benchmarks/README.md, « The second cycle and the
idle tick »). `plain_paths` gives those two without pydantic when every `VEILLE_*`
variable set is one the model surely accepts, so that building it could not have failed;
anything else — a value of a form not listed here, a field with a pattern — is None:
"build the settings", which then report a bad value as before. A name that is no field is
ignored here as the model ignores it.

`surely_valid` is conservative by design: it says yes only to plain forms (« 4 », « 0.25 »,
« true »), within the bounds `config.Settings` declares. tests/test_config_env_quick.py
checks, for every field and many values, that it never says yes to a value the model
refuses, that the bounds here are the model's, and that the two paths read here are the
model's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

ENV_PREFIX = "VEILLE_"
DEFAULT_DATABASE_URL = "sqlite:///veille.db"
DEFAULT_CONFIG_FILE = "feeds.yaml"

# Each field by kind: any text (a `str` without constraint), a path, a flag, or a number
# with the bounds of its `Field` (`ge`, and `le` or `gt`). Fields not listed (a pattern,
# an optional path) are never "surely valid".
TEXT = frozenset(
    {
        "database_url",
        "base_url",
        "secret_key",
        "smtp_url",
        "mail_from",
        "newsletter_name",
        "dkim_selector",
        "dkim_domain",
        "bounce_address",
        "bounce_imap_url",
        "bounce_processed_mailbox",
        "archive_access",
        "trusted_proxies",
    }
)
PATHS = frozenset({"config_file"})
FLAGS = frozenset({"allow_private_networks", "click_counts"})
# name → (ge, le); None: no bound.
INTEGERS: dict[str, tuple[int | None, int | None]] = {
    "send_connections": (1, 32),
    "bounce_check_minutes": (1, 1440),
    "web_workers": (0, 64),
    "concurrency": (1, 256),
    "per_host_concurrency": (1, 8),
    "max_body_bytes": (1024, None),
    "extract_workers": (0, None),
    "extract_pool_min_pages": (0, None),
    "max_articles_per_source": (1, None),
    "collect_tick_seconds": (5, None),
    "collect_lease_seconds": (0, None),
    "retrain_hour": (0, 23),
    "alerts_hour": (0, 23),
}
# name → (bound, strictly above it); None: no bound.
DECIMALS: dict[str, tuple[float | None, bool]] = {
    "send_rate": (None, False),
    "per_host_delay": (0.0, False),
    "fetch_timeout": (0.0, True),
}

# Fields whose values only the model can check (a pattern, an optional path).
CHECKED = frozenset({"edition_day", "edition_time", "dkim_private_key_file"})
FIELDS = TEXT | PATHS | FLAGS | INTEGERS.keys() | DECIMALS.keys() | CHECKED

_FLAG_WORDS = frozenset({"0", "1", "true", "false", "yes", "no", "on", "off"})
_INTEGER = re.compile(r"[0-9]{1,9}")
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")


def variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """`VEILLE_<NAME>` by NAME in lower case (`veille_base_url` too), the last one of a name
    in the environment's order winning; every such variable, a field of the model or not."""
    found: dict[str, str] = {}
    prefix = ENV_PREFIX.lower()
    for key, value in (os.environ if environ is None else environ).items():
        name = key.lower()
        if name.startswith(prefix):
            found[name[len(prefix) :]] = value
    return found


def surely_valid(name: str, value: str) -> bool:
    """Whether `config.Settings` surely accepts `value` for its field `name` (False: unsure,
    an unknown name included)."""
    if name in TEXT:
        return True
    if name in PATHS:
        return value != ""
    if name in FLAGS:
        return value in _FLAG_WORDS
    if name in INTEGERS:
        if not _INTEGER.fullmatch(value):
            return False
        low, high = INTEGERS[name]
        number = int(value)
        return (low is None or number >= low) and (high is None or number <= high)
    if name in DECIMALS:
        if not _DECIMAL.fullmatch(value):
            return False
        bound, strictly = DECIMALS[name]
        decimal = float(value)
        return bound is None or (decimal > bound if strictly else decimal >= bound)
    return False


def plain_paths(environ: Mapping[str, str] | None = None) -> tuple[str, Path] | None:
    """The database URL and feeds.yaml's path, as `config.Settings` would read them, when
    every `VEILLE_*` variable set that names a field is surely valid; None otherwise. A
    name that is no field is ignored, as the model ignores it (`extra="ignore"`): a
    deployment's own `VEILLE_*` variables (a test runner's, a wrapper's) keep this path."""
    found = variables(environ)
    if not all(surely_valid(name, value) for name, value in found.items() if name in FIELDS):
        return None
    return (
        found.get("database_url", DEFAULT_DATABASE_URL),
        Path(found.get("config_file", DEFAULT_CONFIG_FILE)),
    )
