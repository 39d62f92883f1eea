"""`get_settings` reads `VEILLE_*` as pydantic-settings did (`config.from_environment`):
the same fields built on `BaseSettings` are the reference, and both must give the same
values, or refuse the same bad ones, from the same environments."""

from __future__ import annotations

import os
from typing import Any

import pytest
from pydantic import ValidationError, create_model
from pydantic_settings import BaseSettings, SettingsConfigDict

from veille.config import ENV_PREFIX, Settings, from_environment, get_settings


class _Base(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")


# Settings' own fields (types, defaults, constraints), read by the library.
Reference: type[BaseSettings] = create_model(  # type: ignore[call-overload]
    "Settings",
    __base__=_Base,
    **{name: (field.annotation, field) for name, field in Settings.model_fields.items()},
)

# A value for every field, as an operator would type it.
EVERY_FIELD = {
    "DATABASE_URL": "postgresql://veille:s3cr%40t@db.example:5432/veille",
    "CONFIG_FILE": "/etc/veille/feeds.yaml",
    "BASE_URL": "https://veille.example.fr",
    "SECRET_KEY": "a-long-secret-0123456789",
    "SMTP_URL": "smtps://user:pass@mail.example:465",
    "MAIL_FROM": "veille@example.fr",
    "NEWSLETTER_NAME": "La veille « open data »",
    "ALLOW_PRIVATE_NETWORKS": "yes",
    "SEND_RATE": "2.5",
    "SEND_CONNECTIONS": "4",
    "DKIM_PRIVATE_KEY_FILE": "/etc/veille/dkim.pem",
    "DKIM_SELECTOR": "s1",
    "DKIM_DOMAIN": "example.fr",
    "BOUNCE_ADDRESS": "bounces@example.fr",
    "BOUNCE_IMAP_URL": "imaps://u:p@imap.example:993/INBOX",
    "BOUNCE_PROCESSED_MAILBOX": "Traités",
    "BOUNCE_CHECK_MINUTES": "15",
    "ARCHIVE_ACCESS": "members",
    "TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16",
    "WEB_WORKERS": "3",
    "CONCURRENCY": "8",
    "PER_HOST_CONCURRENCY": "1",
    "PER_HOST_DELAY": "0.25",
    "MAX_BODY_BYTES": "2000000",
    "FETCH_TIMEOUT": "12.5",
    "EXTRACT_WORKERS": "2",
    "EXTRACT_POOL_MIN_PAGES": "0",
    "MAX_ARTICLES_PER_SOURCE": "20",
    "COLLECT_TICK_SECONDS": "30",
    "COLLECT_LEASE_SECONDS": "600",
    "RETRAIN_HOUR": "4",
    "EDITION_DAY": "fri",
    "EDITION_TIME": "17:30",
    "CLICK_COUNTS": "off",
    "ALERTS_HOUR": "6",
}

ENVIRONMENTS: list[dict[str, str]] = [
    {},  # the defaults
    {f"{ENV_PREFIX}{k}": v for k, v in EVERY_FIELD.items()},
    {"veille_base_url": "https://minuscules.example", "Veille_Send_Rate": "7"},  # any case
    {"VEILLE_BASE_URL": "https://premier.example", "veille_base_url": "https://dernier.example"},
    {"VEILLE_DKIM_PRIVATE_KEY_FILE": "", "VEILLE_DKIM_SELECTOR": "", "VEILLE_SEND_RATE": "1e1"},
    {"VEILLE_ALLOW_PRIVATE_NETWORKS": "0", "VEILLE_CLICK_COUNTS": "TRUE", "VEILLE_UNKNOWN": "x"},
    {"VEILLEDATABASE_URL": "sqlite:///sans-souligné.db", "DATABASE_URL": "sqlite:///autre.db"},
    # Bad values, refused by both, naming the same fields.
    {"VEILLE_SEND_RATE": "vite"},
    {"VEILLE_SEND_CONNECTIONS": "0", "VEILLE_WEB_WORKERS": "-1"},
    {"VEILLE_EDITION_DAY": "lundi", "VEILLE_EDITION_TIME": "8h"},
    {"VEILLE_ALLOW_PRIVATE_NETWORKS": "peut-être", "VEILLE_FETCH_TIMEOUT": "0"},
]


def read_both(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], **overrides: Any
) -> tuple[Any, Any]:
    for key in [k for k in os.environ if k.lower().startswith("veille")]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    found = []
    for build in (lambda: get_settings(**overrides), lambda: Reference(**overrides)):
        try:
            found.append(build().model_dump())
        except ValidationError as exc:
            found.append([(e["loc"], e["type"]) for e in exc.errors()])
    return found[0], found[1]


@pytest.mark.parametrize("environ", ENVIRONMENTS)
def test_the_environment_reads_as_pydantic_settings_read_it(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    ours, reference = read_both(monkeypatch, environ)
    assert ours == reference


def test_every_field_is_read_and_overrides_win(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the full environment changes every field from its default, and an
    explicit override beats the environment, in both."""
    every = {f"{ENV_PREFIX}{k}": v for k, v in EVERY_FIELD.items()}
    assert set(from_environment(every)) == set(Settings.model_fields)
    ours, reference = read_both(monkeypatch, every, per_host_delay=0.0)
    assert ours == reference and ours["per_host_delay"] == 0.0
    defaults = Settings().model_dump()
    assert all(ours[n] != defaults[n] for n in Settings.model_fields if n != "per_host_delay")
