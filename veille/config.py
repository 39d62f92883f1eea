"""Settings, read from `VEILLE_*` environment variables.

Declared once, with defaults that work on a laptop; built by `get_settings()` on demand so
tests and commands get a fresh view of the environment (nothing is built at import).

A plain pydantic model, given the `VEILLE_*` variables as pydantic-settings' environment
source gave them (`from_environment`: the field's name after the prefix, in any case, the
value as a string for pydantic to validate): every field is a scalar, so that is all the
library did here, and importing it (asyncio, argparse, dotenv, its cloud providers) was
~0.1 s of CPU of every command, a quarter of cron's nothing-due `veille collect`.
tests/test_config_env.py builds the same fields with pydantic-settings and checks both
read the same values, and refuse the same bad ones, from the same environments.
`config_env.py` reads the environment for both, without pydantic: cron's nothing-due
`veille collect` takes its two settings from there when no variable set could be refused
(the kinds and bounds it checks are this model's: tests/test_config_env_quick.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from veille.config_env import DEFAULT_CONFIG_FILE, DEFAULT_DATABASE_URL, variables
from veille.config_env import ENV_PREFIX as ENV_PREFIX  # (tests/test_docs.py reads it here)

# The shipped secret: everyone knows it, so what it signs is forgeable. Refused off loopback
# (server.check_secret), for setup links (desk.accounts) and replaced by the demo.
DEFAULT_SECRET = "change-me"


def is_default_secret(key: str) -> bool:
    return key.strip() in ("", DEFAULT_SECRET)


class Settings(BaseModel):
    """Every knob of the project, with its default and one line of help."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    database_url: str = Field(
        DEFAULT_DATABASE_URL, description="SQLAlchemy URL; SQLite file in the working dir."
    )
    config_file: Path = Field(Path(DEFAULT_CONFIG_FILE), description="Themes and sources file.")
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL of the web app.")
    secret_key: str = Field(DEFAULT_SECRET, description="Key signing links and sessions.")
    smtp_url: str = Field("smtp://localhost:25", description="Mail server (smtp://, smtps://).")
    mail_from: str = Field("veille@localhost", description="Sender address of mails.")
    newsletter_name: str = Field("Veille open data", description="Name of the newsletter.")
    allow_private_networks: bool = Field(
        False, description="Allow fetching loopback/private addresses (demo and tests only)."
    )
    send_rate: float = Field(20.0, description="Newsletter messages per second.")
    send_connections: int = Field(
        2, ge=1, le=32, description="SMTP connections (and threads) of a newsletter send."
    )
    dkim_private_key_file: Path | None = Field(
        None, description="PEM private key signing newsletters with DKIM; unset = no signature."
    )
    dkim_selector: str = Field(
        "", description="DKIM selector (the DNS record <selector>._domainkey)."
    )
    dkim_domain: str = Field(
        "", description="DKIM signing domain; empty = the domain of mail_from."
    )
    bounce_address: str = Field(
        "",
        description="Return path of newsletters (+TOKEN goes before the @); "
        "empty = bounces@<domain of mail_from>.",
    )
    bounce_imap_url: str = Field(
        "",
        description="Mailbox the bounces arrive in (imap://user:pass@host:143/INBOX, "
        "imaps://…:993/INBOX, ?starttls=1); empty = not read.",
    )
    bounce_processed_mailbox: str = Field(
        "", description="IMAP folder processed bounces move to; empty = deleted."
    )
    bounce_check_minutes: int = Field(
        5, ge=1, le=1440, description="Minutes between two readings of the bounce mailbox."
    )
    archive_access: str = Field("public", description="public | members")
    trusted_proxies: str = Field(
        "",
        description="Reverse proxies (IPs/CIDRs, comma-separated) whose X-Forwarded-For is "
        "believed; empty = none.",
    )
    web_workers: int = Field(0, ge=0, le=64, description="Web server processes; 0 = one per core.")
    concurrency: int = Field(16, ge=1, le=256, description="Fetches in flight at once.")
    per_host_concurrency: int = Field(2, ge=1, le=8, description="Fetches per host at once.")
    per_host_delay: float = Field(1.0, ge=0, description="Seconds between requests to a host.")
    max_body_bytes: int = Field(10_000_000, ge=1024, description="Largest body accepted.")
    fetch_timeout: float = Field(30.0, gt=0, description="Total seconds for one fetch.")
    extract_workers: int = Field(0, ge=0, description="Extraction processes; 0 = one per core.")
    extract_pool_min_pages: int = Field(
        200,
        ge=0,
        description="Pages a cycle extracts in-process before starting the extraction processes.",
    )
    max_articles_per_source: int = Field(
        50, ge=1, description="New articles fetched per source and cycle."
    )
    collect_tick_seconds: int = Field(60, ge=5, description="Scheduler tick for due sources.")
    collect_lease_seconds: int = Field(
        0,
        ge=0,
        description="Seconds a collector holds the sources it fetches (renewed while it "
        "runs); 0 = 10 × the fetch timeout, at least 5 minutes.",
    )
    retrain_hour: int = Field(
        3, ge=0, le=23, description="Hour (Europe/Paris) of the nightly retraining."
    )
    edition_day: str = Field(
        "mon",
        pattern="^(mon|tue|wed|thu|fri|sat|sun)$",
        description="Weekday (mon…sun) the scheduler creates the week's draft edition.",
    )
    edition_time: str = Field(
        "08:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Time (HH:MM, Europe/Paris) the scheduler creates the draft edition.",
    )
    click_counts: bool = Field(
        True,
        description="Count clicks per edition and item through /r/ links (never per member).",
    )
    alerts_hour: int = Field(
        7,
        ge=0,
        le=23,
        description="Hour (Europe/Paris) members' alerts are mailed; weekly ones on edition_day.",
    )

    def collect_lease(self) -> float:
        """Seconds of a collector's lease on the sources it claimed. The default covers a
        source's worst case with margin (its listing and a few article pages, each bounded
        by the fetch timeout); the cycle renews its leases every third of it, so a long
        cycle keeps them and only a dead collector's sources come back, after this long."""
        if self.collect_lease_seconds:
            return float(self.collect_lease_seconds)
        return max(300.0, 10 * self.fetch_timeout)


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings the environment gives: `VEILLE_<FIELD>` in any case (`veille_base_url`
    too), the last one of a name in the environment's order winning, as pydantic-settings
    read them; a value is the variable's string, validated by the model."""
    return {
        name: value for name, value in variables(environ).items() if name in Settings.model_fields
    }


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides winning (a bad value
    is pydantic's ValidationError, naming the field)."""
    return Settings.model_validate({**from_environment(), **overrides})
