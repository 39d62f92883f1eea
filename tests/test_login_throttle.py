"""Desk login throttling cannot be turned into a lock-out: failures count per (account, IP)
pair and per IP, so a stranger failing from many addresses never makes the delegate's right
password wait. Clients really connect from different loopback addresses (127.0.0.x) to a
real uvicorn server; time moves on the injected clock."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import serve
from tests.test_auth import (
    EMAIL,
    PASSWORD,
    SECRET,
    Clock,
    Desk,
    add,
    error_text,
    login,
    make_desk_app,
    me,
)
from veille.config import Settings
from veille.web import login_throttle

WRONG = "mauvais mot de passe"


@pytest.fixture
def desk(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Desk]:
    desk_settings = settings.model_copy(update={"secret_key": SECRET})
    clock = Clock()
    with serve(make_desk_app(desk_settings, clock)) as base_url:
        desk = Desk(base_url, clock, sessions, desk_settings)
        add(desk, EMAIL, PASSWORD)
        yield desk


def client_from(desk: Desk, ip: str) -> httpx.Client:
    """A client whose connections leave from `ip` (any 127.0.0.x works on Linux loopback)."""
    return httpx.Client(
        base_url=desk.base_url,
        follow_redirects=False,
        timeout=10,
        transport=httpx.HTTPTransport(local_address=ip),
    )


def test_failures_from_many_ips_do_not_lock_the_delegate_out(desk: Desk) -> None:
    for n in range(2, 7):  # five strangers, one wrong password each
        with client_from(desk, f"127.0.0.{n}") as stranger:
            assert login(stranger, EMAIL, WRONG).status_code == 401
    with client_from(desk, "127.0.0.7") as delegate:
        response = login(delegate, EMAIL, PASSWORD)
        assert response.status_code == 303
        assert me(delegate).status_code == 200


def test_five_failures_from_one_ip_block_that_ip_for_that_account(desk: Desk) -> None:
    add(desk, "autre@exemple.fr", PASSWORD)
    with client_from(desk, "127.0.0.2") as guesser:
        for _ in range(login_throttle.PAIR_LIMIT):
            assert login(guesser, EMAIL, WRONG).status_code == 401
        blocked = login(guesser, EMAIL, PASSWORD)  # even the right password waits, from here
        assert blocked.status_code == 429
        assert "Trop de tentatives de connexion : réessayez dans 15 minutes." in error_text(blocked)
        assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
        # Another account from the same IP is not blocked by these five failures.
        assert login(guesser, "autre@exemple.fr", PASSWORD).status_code == 303
    with client_from(desk, "127.0.0.3") as delegate:  # the account itself is not locked
        assert login(delegate, EMAIL, PASSWORD).status_code == 303
    desk.clock.advance(minutes=15, seconds=1)
    with client_from(desk, "127.0.0.2") as guesser:
        assert login(guesser, EMAIL, PASSWORD).status_code == 303


def test_an_ip_flooding_many_accounts_is_blocked(desk: Desk) -> None:
    with client_from(desk, "127.0.0.2") as flooder:
        for n in range(login_throttle.IP_LIMIT):  # never more than 1 try per address
            assert login(flooder, f"personne{n}@exemple.fr", WRONG).status_code == 401
        refused = login(flooder, "encore@exemple.fr", WRONG)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert login(flooder, EMAIL, PASSWORD).status_code == 429
    with client_from(desk, "127.0.0.3") as delegate:
        assert login(delegate, EMAIL, PASSWORD).status_code == 303


def test_guesses_spread_over_many_ips_are_slowed_without_locking_out(desk: Desk) -> None:
    """Past ACCOUNT_LIMIT failures on one account, an IP that already failed on it gets no
    second try; a fresh IP still gets its one, and the delegate's right password (from an IP
    that has not failed) is always answered."""
    for n in range(login_throttle.ACCOUNT_LIMIT):
        with client_from(desk, f"127.0.{1 + n // 200}.{10 + n % 200}") as stranger:
            assert login(stranger, EMAIL, WRONG).status_code == 401
    with client_from(desk, "127.0.1.10") as stranger:  # failed once already
        refused = login(stranger, EMAIL, WRONG)
        assert refused.status_code == 429
    with client_from(desk, "127.0.9.9") as fresh:
        assert login(fresh, EMAIL, WRONG).status_code == 401
        assert login(fresh, EMAIL, WRONG).status_code == 429
    with client_from(desk, "127.0.8.8") as delegate:
        assert login(delegate, EMAIL, PASSWORD).status_code == 303


@pytest.mark.postgres  # the counters are an upsert on the database: CI reruns on PostgreSQL
def test_failures_count_across_web_processes(desk: Desk) -> None:
    """Two apps on one database, as two web workers or two machines: the failures one saw
    count on the other, so spreading guesses over processes buys no extra try."""
    with serve(make_desk_app(desk.settings, desk.clock)) as other_url:
        other = Desk(other_url, desk.clock, desk.sessions, desk.settings)
        with client_from(desk, "127.0.0.2") as here, client_from(other, "127.0.0.2") as there:
            for n in range(login_throttle.PAIR_LIMIT):
                client = here if n % 2 else there
                assert login(client, EMAIL, WRONG).status_code == 401
            for client in (here, there):
                blocked = login(client, EMAIL, PASSWORD)
                assert blocked.status_code == 429
                assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
        desk.clock.advance(minutes=15, seconds=1)
        with client_from(other, "127.0.0.2") as there:
            assert login(there, EMAIL, PASSWORD).status_code == 303
