"""How the person trying the demo gets into the desk, and runs other commands on it.

The desk needs an account, and `veille users add` run beside the demo used to write to
another database (./veille.db) with another secret, so its link was refused by the demo.
The demo therefore makes its own delegate, prints a one-time setup link (the mechanism of
`veille users add --link`: no password ever shown on a terminal) while that account has no
password, and prints the exact environment that points any other command at the demo's
database, feeds.yaml and secret. Commands do not guess the demo's folder by themselves: a
`veille` that silently switched databases because some folder exists nearby would be a
worse surprise in production than a line to copy.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from veille.config import Settings
from veille.db import users as user_db
from veille.desk.accounts import add_user, email_key_of, setup_link

DEMO_DELEGATE = "delegue@demo.example"  # RFC 2606: a name that never receives mail
LOGIN_PATH = "/desk/connexion"


def desk_sign_in(settings: Settings, sessions: sessionmaker[Session], now: datetime) -> str:
    """French lines telling how to sign in to the desk; creates the demo's delegate on the
    first run, and gives a fresh setup link for as long as no password was chosen."""
    with sessions.begin() as session:
        user = user_db.user_by_email(session, email_key_of(DEMO_DELEGATE))
        if user is None:
            user = add_user(session, DEMO_DELEGATE, "delegate", None, now=now)
        if user.password_hash is None:
            link = setup_link(settings, user, now)
            return (
                f"Desk : choisissez le mot de passe de {user.email} avec ce lien à usage "
                f"unique (valable 48 h), puis connectez-vous :\n  {link}"
            )
    login = settings.base_url.rstrip("/") + LOGIN_PATH
    return f"Desk : connectez-vous sur {login} avec {DEMO_DELEGATE} et son mot de passe."


def command_prefix(settings: Settings, *, secret_file: Path | None, env: Mapping[str, str]) -> str:
    """The shell words that run `veille` against the demo: its database, feeds.yaml, base
    URL, loopback fetching (the sample site is on 127.0.0.1) and — read from its file, so
    it never shows on screen — its secret, without which links signed by the command would
    be refused by the demo. Settings the caller already exports are left to the caller."""
    words: list[str] = []
    if "VEILLE_DATABASE_URL" not in env:
        words.append("VEILLE_DATABASE_URL=" + shlex.quote(settings.database_url))
    words.append("VEILLE_CONFIG_FILE=" + shlex.quote(str(Path(settings.config_file).resolve())))
    if secret_file is not None:
        words.append(f'VEILLE_SECRET_KEY="$(cat {shlex.quote(str(secret_file.resolve()))})"')
    if "VEILLE_BASE_URL" not in env:
        words.append("VEILLE_BASE_URL=" + shlex.quote(settings.base_url))
    words.append("VEILLE_ALLOW_PRIVATE_NETWORKS=1")
    words.append(shlex.quote(_veille_program()))
    return " ".join(words)


def _veille_program() -> str:
    """The `veille` installed beside this Python (the demo is often run as
    `.venv/bin/veille demo`, with no `veille` on the PATH), else the bare name."""
    beside = Path(sys.executable).parent / "veille"
    return str(beside) if beside.exists() else "veille"
