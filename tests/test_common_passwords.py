"""The 10,000 most common passwords are refused for desk accounts, whatever their length
and case, with a French message saying why: from `veille users add` and from the setup-link
page (a real uvicorn server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.archive_site import serve
from tests.test_auth import SECRET, Clock, Desk, add, error_text, form_of, make_desk_app
from tests.test_users_cli import users as user_rows
from veille.cli import app
from veille.config import Settings
from veille.desk import accounts as users
from veille.desk.passwords import is_common

# Twelve characters or more, so only the new rule can refuse them (ranks ~1,000–3,000).
COMMON_LONG = ("1qaz2wsx3edc", "Qwerty123456", "LEAVEMEALONE")
TOO_COMMON = "Mot de passe trop courant"

runner = CliRunner()


def test_the_list_is_the_top_ten_thousand_case_insensitively() -> None:
    assert all(len(p) >= users.MIN_PASSWORD_LENGTH and is_common(p) for p in COMMON_LONG)
    assert is_common("PassWord") and is_common("azerty")
    assert not is_common("une phrase de passe solide")
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    ranked = FREQUENCY_LISTS["passwords"]
    assert is_common(ranked[9_999]) and not is_common(ranked[10_000])


@pytest.mark.parametrize("password", COMMON_LONG)
def test_users_add_refuses_a_common_password(settings: Settings, password: str) -> None:
    env = {"VEILLE_DATABASE_URL": settings.database_url}
    result = runner.invoke(app, ["users", "add", "d@exemple.fr"], env=env, input=password + "\n")
    assert result.exit_code == 1
    assert TOO_COMMON in result.output and "Traceback" not in result.output
    assert "d@exemple.fr" not in user_rows(settings)


@pytest.fixture
def desk(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Desk]:
    desk_settings = settings.model_copy(update={"secret_key": SECRET})
    clock = Clock()
    with serve(make_desk_app(desk_settings, clock)) as base_url:
        yield Desk(base_url, clock, sessions, desk_settings)


def test_setup_page_refuses_a_common_password_and_keeps_the_link(desk: Desk) -> None:
    user = add(desk, "nouvelle@exemple.fr", None)
    path = users.setup_link(desk.settings, user, desk.clock()).removeprefix(desk.settings.base_url)
    with desk.client() as client:
        fields = form_of(client.get(path))
        fields.update(password="Qwerty123456", confirmation="Qwerty123456")
        refused = client.post(path, data=fields)
        assert refused.status_code == 400
        assert TOO_COMMON in error_text(refused)
        # Nothing lost: the link still works for a better password.
        fields = form_of(client.get(path))
        fields.update(
            password="une phrase de passe solide", confirmation="une phrase de passe solide"
        )
        assert client.post(path, data=fields).status_code == 303
