"""`veille members import | export | list` on a real database, with the bad files French
spreadsheets produce, and the housekeeping rules (pending purge, re-consent flag)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.smtp_server import SmtpTestServer
from veille.cli import app
from veille.config import Settings
from veille.db import members as member_db
from veille.db.engine import make_engine, session_factory, upgrade
from veille.db.tables import MemberRow
from veille.members import importer, subscriptions
from veille.members.csvfile import read_members_csv
from veille.members.importer import import_lines

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL

runner = CliRunner()

MESSY = (
    "\ufeffCourriel;Nom;Structure;Thèmes\n"
    "anne@exemple.fr;Anne Roux;Métropole de Lyon;open_data\n"
    "pas-une-adresse;Bob;Ville;\n"
    'carl@exemple.fr;Carl;"Conseil\ndépartemental";"open_data,ia"\n'
    "ANNE@exemple.fr;Anne bis;;\n"
    "dora@exemple.fr;Dora;Région;meteo\n"
    "eve@exemple.fr;Ève;;\n"
)


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {"VEILLE_DATABASE_URL": settings.database_url}


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def all_members(sessions: sessionmaker[Session]) -> dict[str, MemberRow]:
    with sessions() as session:
        rows = list(session.scalars(select(MemberRow)))
        session.expunge_all()
    return {row.email_key: row for row in rows}


def test_import_reports_bad_lines_and_imports_the_rest(
    tmp_path: Path, env: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    file = tmp_path / "adherents.csv"
    file.write_text(MESSY, encoding="utf-8")
    result = runner.invoke(app, ["members", "import", str(file)], env=env)
    assert result.exit_code == 0, result.output
    assert "ligne 3 : adresse e-mail invalide" in result.output
    assert "ligne 6 : adresse en double : ANNE@exemple.fr (déjà ligne 2)" in result.output
    assert "ligne 7 : thème inconnu" in result.output
    assert (
        "3 créé(s), 0 mis à jour, 0 inchangé(s), 0 restés désinscrits, 3 ligne(s) invalide(s)"
        in (result.output)
    )
    members = all_members(sessions)
    assert set(members) == {"anne@exemple.fr", "carl@exemple.fr", "eve@exemple.fr"}
    carl = members["carl@exemple.fr"]
    assert carl.organisation == "Conseil départemental"
    assert carl.themes == ["ia", "open_data"] and carl.status == "active"
    assert carl.consent_method == "import" and carl.consent_at is not None
    assert members["eve@exemple.fr"].themes is None  # empty = all themes

    # Again: nothing new, nothing duplicated.
    again = runner.invoke(app, ["members", "import", str(file)], env=env)
    assert "0 créé(s), 0 mis à jour, 3 inchangé(s)" in again.output
    assert len(all_members(sessions)) == 3


def test_reimport_updates_but_respects_unsubscribed_and_own_choices(
    tmp_path: Path, env: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    first = tmp_path / "v1.csv"
    first.write_text(
        "email,name,organisation\nfred@exemple.fr,Fred,Ville A\ngina@exemple.fr,Gina,Ville B\n",
        encoding="utf-8",
    )
    runner.invoke(app, ["members", "import", str(first)], env=env)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        gina = member_db.by_email(session, "gina@exemple.fr")
        assert gina is not None
        subscriptions.unsubscribe(session, gina, now, "preferences")
        fred = member_db.by_email(session, "fred@exemple.fr")
        assert fred is not None
        subscriptions.set_themes(session, fred, ["ia"], now)
    second = tmp_path / "v2.csv"
    second.write_text(
        "email,name,organisation\nFRED@exemple.fr,Fred Dupont,Ville A2\n"
        "gina@exemple.fr,Gina,Ville B\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["members", "import", str(second)], env=env)
    assert "0 créé(s), 1 mis à jour, 0 inchangé(s), 1 restés désinscrits" in result.output
    members = all_members(sessions)
    assert members["fred@exemple.fr"].name == "Fred Dupont"
    assert members["fred@exemple.fr"].themes == ["ia"]  # no themes column: own choice kept
    assert members["gina@exemple.fr"].status == "unsubscribed"


def test_latin1_and_dry_run(
    tmp_path: Path, env: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    file = tmp_path / "excel.csv"
    file.write_bytes(
        "email;nom;organisation\nhélène@exemple.fr;Hélène Cœur;Amiénois\n"
        "ivan@exemple.fr;Ivan;Saint-Étienne\n".encode("cp1252")
    )
    dry = runner.invoke(app, ["members", "import", "--dry-run", str(file)], env=env)
    assert dry.exit_code == 0 and "Essai à blanc, rien d'enregistré : 2 créé(s)" in dry.output
    assert all_members(sessions) == {}
    runner.invoke(app, ["members", "import", str(file)], env=env)
    members = all_members(sessions)
    assert members["hélène@exemple.fr"].name == "Hélène Cœur"
    assert members["ivan@exemple.fr"].organisation == "Saint-Étienne"


def test_hopeless_files_fail_with_one_sentence(tmp_path: Path, env: dict[str, str]) -> None:
    empty = tmp_path / "vide.csv"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["members", "import", str(empty)], env=env)
    assert result.exit_code == 1 and "Erreur :" in result.output
    assert "Traceback" not in result.output
    only_bad = tmp_path / "bad.csv"
    only_bad.write_text("email\nnope\n", encoding="utf-8")
    bad = runner.invoke(app, ["members", "import", str(only_bad)], env=env)
    assert bad.exit_code == 1 and "ligne 2" in bad.output


def test_require_confirmation_mails_the_double_opt_in(
    tmp_path: Path, env: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    file = tmp_path / "a-confirmer.csv"
    file.write_text("email,name\njo@exemple.fr,Jo\nkim@exemple.fr,Kim\n", encoding="utf-8")
    with SmtpTestServer() as smtp:
        result = runner.invoke(
            app,
            ["members", "import", "--require-confirmation", str(file)],
            env={**env, "VEILLE_SMTP_URL": smtp.url, "VEILLE_SEND_RATE": "0"},
        )
        assert result.exit_code == 0, result.output
        assert "Mails de confirmation : 2 envoyé(s), 0 en échec" in result.output
        assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["jo@exemple.fr", "kim@exemple.fr"]
        assert smtp.connections == 1
    assert {m.status for m in all_members(sessions).values()} == {"pending"}


def test_export_then_import_round_trips(
    tmp_path: Path, env: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    file = tmp_path / "in.csv"
    file.write_text(
        'email;name;organisation;themes\nlou@exemple.fr;"=HYPERLINK(""x"")";Ville;ia|open_data\n'
        "max@exemple.fr;Max;;\n",
        encoding="utf-8",
    )
    runner.invoke(app, ["members", "import", str(file)], env=env)
    exported = tmp_path / "out.csv"
    result = runner.invoke(app, ["members", "export", "-o", str(exported)], env=env)
    assert result.exit_code == 0, result.output
    assert exported.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    text = exported.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text  # a spreadsheet will not run it
    assert text.splitlines()[0].startswith("email,name,organisation,status,themes,consent_at")
    back = runner.invoke(app, ["members", "import", str(exported)], env=env)
    assert "0 créé(s), 0 mis à jour, 2 inchangé(s)" in back.output, back.output
    assert all_members(sessions)["lou@exemple.fr"].name == '=HYPERLINK("x")'

    jsonl = runner.invoke(app, ["members", "export", "--format", "jsonl"], env=env)
    records = [json.loads(line) for line in jsonl.output.splitlines()]
    assert {r["email"] for r in records} == {"lou@exemple.fr", "max@exemple.fr"}
    assert all(r["consent_method"] == "import" for r in records)

    listed = runner.invoke(app, ["members", "list", "--json"], env=env)
    data = json.loads(listed.output)
    assert data["counts"]["active"] == 2 and data["total"] == 2


# Twenty batches: enough to prove the file streams batch after batch; the 100,000-line
# figure is benchmarks/members_import.py's, not a test's.
LARGE = 20 * importer.BATCH


def test_large_file_streams_in_batches(tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    file = tmp_path / "big.csv"
    with file.open("w", encoding="utf-8") as out:
        out.write("email;nom;organisation;thèmes\n")
        for i in range(LARGE):
            themes = ("open_data", "ia|donnees_interet_general", "")[i % 3]
            out.write(f"membre{i}@commune{i % 900}.fr;Membre {i};Commune {i % 900};{themes}\n")
        out.write("cassé\n")
    now = datetime.now(UTC)
    with sessions.begin() as session:
        report = import_lines(session, read_members_csv(file), now=now)
    assert report.created == LARGE and [e.line for e in report.errors] == [LARGE + 2]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(MemberRow)) == LARGE
    with sessions.begin() as session:
        again = import_lines(session, read_members_csv(file), now=now)
    assert again.unchanged == LARGE and again.created == 0


def test_pending_purge_and_reconsent_flag(sessions: sessionmaker[Session]) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    with sessions.begin() as session:
        old = subscriptions.subscribe(
            session,
            email="old@exemple.fr",
            name="",
            organisation="",
            themes=None,
            now=now - timedelta(days=31),
        ).member
        fresh = subscriptions.subscribe(
            session,
            email="new@exemple.fr",
            name="",
            organisation="",
            themes=None,
            now=now - timedelta(days=29),
        ).member
        silent = subscriptions.subscribe(
            session,
            email="silent@exemple.fr",
            name="",
            organisation="",
            themes=None,
            now=now - timedelta(days=4 * 365),
        ).member
        subscriptions.confirm(session, silent, now - timedelta(days=4 * 365))
        assert subscriptions.needs_reconsent(silent, now)
        assert not subscriptions.needs_reconsent(fresh, now)  # pending: nothing to re-ask
        assert subscriptions.purge_unconfirmed(session, now) == 1
        assert old.id not in {m.id for m in member_db.search(session).items}
        subscriptions.touch(silent, now - timedelta(days=10))
        assert not subscriptions.needs_reconsent(silent, now)
    with sessions() as session:
        assert member_db.by_email(session, "new@exemple.fr") is not None
        assert member_db.by_email(session, "old@exemple.fr") is None
