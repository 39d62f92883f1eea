"""`veille users add`: a desk account from the terminal, by password or one-time link."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from veille.cli import app
from veille.config import Settings
from veille.db.engine import make_engine, session_factory
from veille.db.tables import UserRow

runner = CliRunner()


def users(settings: Settings) -> dict[str, UserRow]:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        rows = {u.email_key: u for u in session.scalars(select(UserRow))}
    engine.dispose()
    return rows


def test_users_add_with_password_link_and_errors(settings: Settings) -> None:
    env = {"VEILLE_DATABASE_URL": settings.database_url, "VEILLE_SECRET_KEY": "change-me"}
    made = runner.invoke(
        app, ["users", "add", "Delegue@Exemple.fr"], env=env, input="un mot de passe long\n"
    )
    assert made.exit_code == 0, made.output
    assert "Compte du desk créé : Delegue@exemple.fr (délégué)." in made.output
    row = users(settings)["delegue@exemple.fr"]
    assert row.role == "delegate" and (row.password_hash or "").startswith("$argon2id$")

    again = runner.invoke(app, ["users", "add", "DELEGUE@exemple.fr"], env=env, input="x" * 14)
    assert again.exit_code == 1 and "Erreur :" in again.output and "Traceback" not in again.output

    short = runner.invoke(app, ["users", "add", "b@exemple.fr"], env=env, input="court\n")
    assert short.exit_code == 1 and "b@exemple.fr" not in users(settings)

    # A setup link needs a real secret key (else anyone could forge one).
    refused = runner.invoke(app, ["users", "add", "c@exemple.fr", "--link"], env=env)
    assert refused.exit_code == 1 and "c@exemple.fr" not in users(settings)
    keyed = {**env, "VEILLE_SECRET_KEY": "a-real-secret-key-for-tests-0123456789"}
    linked = runner.invoke(
        app, ["users", "add", "c@exemple.fr", "--link", "--role", "admin"], env=keyed
    )
    assert linked.exit_code == 0, linked.output
    assert "/desk/mot-de-passe/" in linked.output
    admin = users(settings)["c@exemple.fr"]
    assert admin.role == "admin" and admin.password_hash is None
