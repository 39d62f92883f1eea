"""A lean collector: a tick with nothing due imports none of the pipeline's heavy modules and
starts no process, and a cycle of a few pages extracts them without extraction processes.

Each case runs the real entry point (`veille collect` as the `veille` script runs it, the
scheduler's `collect_due`) in a fresh Python process, which reports at exit the modules it
imported and the child processes it had (read from /proc: the extraction pool's forkserver
outlives the pool until exit).
Each has its control, in which the same probe must see the heavy path taken.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import REPO
from tests.hostile_server import HostileServer
from tests.site_builder import ConditionalFeed, feeds_yaml, mount_conditional_feeds, mount_site
from veille.config import Settings

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

PROBE = """
import atexit, gc, json, os, sys

def report():
    me = str(os.getpid())
    kids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            if stat.rsplit(b")", 1)[1].split()[1].decode() == me:
                kids.append(int(name))
    frozen = gc.get_freeze_count()  # `freeze_at_exit`'s handler ran before this one
    print("PROBE" + json.dumps({"modules": sorted(sys.modules), "children": kids,
                                "frozen": frozen, "at_first_request": first_request[:1]}))

atexit.register(report)
# PROBE_PORT: the modules imported when the first connection to that port was opened
first_request = []
port = int(os.environ.get("PROBE_PORT", "0"))
if port:
    import socket
    connect = socket.socket.connect

    def watch(self, address):
        if not first_request and isinstance(address, tuple) and address[1] == port:
            first_request.append(sorted(sys.modules))
        return connect(self, address)

    socket.socket.connect = watch
if sys.argv[1] == "tick":
    from veille.config import get_settings
    from veille.scheduler import collect_due

    collect_due(get_settings())
else:  # what the `veille` script and `python -m veille` run
    from veille.cli.entry import main

    sys.argv = ["veille", *sys.argv[1:]]
    main()
"""

# Modules a tick with nothing due has no use for.
HEAVY = (
    "veille.collect.pipeline",
    "veille.collect.pools",
    "veille.collect.worker",
    "veille.classify.model",
    "trafilatura",
    "sklearn",
    "lxml",
    "numpy",
    "httpx",
)

# What only other commands, or a cycle's table, need: cron's `veille collect --json` with
# nothing due imports none of it (the CLI imports a command's module when it runs).
OTHER_COMMANDS = (
    "veille.cli.classify",
    "veille.cli.db",
    "veille.cli.editions",
    "veille.cli.members",
    "veille.cli.run",
    "veille.cli.sources",
    "veille.cli.users",
    "babel",
    "rich.progress",
    "rich.table",
)

# What a cron `veille collect` that finds nothing due no longer imports (~0.3 s of its CPU):
# SQLAlchemy's ORM and the 24 mapped tables; `db/schema.py` holds the tables it reads.
ORM_ONLY = (
    "sqlalchemy.orm",
    "veille.db.tables",
    "veille.db.sources",
    "veille.db.data_version",
)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def probe(settings: Settings, *args: str, **env: str) -> dict[str, Any]:
    """Run `veille ARGS` (or the scheduler's tick with `tick`) in a fresh process."""
    environ = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "VEILLE_DATABASE_URL": settings.database_url,
        "VEILLE_CONFIG_FILE": str(settings.config_file),
        "VEILLE_ALLOW_PRIVATE_NETWORKS": "1",
        "VEILLE_PER_HOST_DELAY": "0",
        "VEILLE_EXTRACT_WORKERS": "1",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("PROBE"))
    found: dict[str, Any] = json.loads(line[5:])
    found["stdout"] = done.stdout
    return found


def probe_failing(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `veille ARGS` as `probe` does, for a run that may fail: its exit code and output."""
    environ = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "VEILLE_DATABASE_URL": settings.database_url,
        "VEILLE_CONFIG_FILE": str(settings.config_file),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "veille", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def heavy(found: dict[str, Any]) -> set[str]:
    return set(HEAVY) & set(found["modules"])


@pytest.mark.usefixtures("seed_model")  # the child loads it, never trains it
def test_nothing_due_imports_no_pipeline_and_starts_no_process(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mount_site(server)
    settings.config_file.write_text(feeds_yaml(server.base_url), encoding="utf-8")
    first = probe(settings, "collect", "--json")  # every source fetched: none due for a while
    assert '"new_articles": 6' in first["stdout"]
    assert heavy(first) >= {"veille.collect.pipeline", "trafilatura", "lxml"}  # the control

    for found in (probe(settings, "tick"), probe(settings, "collect", "--json")):
        assert heavy(found) == set()
        assert found["children"] == []
    assert '"sources_ok": 0' in found["stdout"] and '"new_articles": 0' in found["stdout"]
    assert set(OTHER_COMMANDS) & set(found["modules"]) == set()
    assert "rich.console" not in found["modules"]  # its JSON went to a pipe: no rich needed
    # Answered on a Core connection at most (`collect.due.due_if_synced`): no ORM, no mapped table.
    assert set(ORM_ONLY) & set(found["modules"]) == set()
    assert set(ORM_ONLY) <= set(first["modules"])  # the control: a cycle maps them
    # Answered on the driver alone, sqlite3 or psycopg (`db/quick_due.py`): no SQLAlchemy
    # at all. Settings need no pydantic-settings.
    assert "sqlalchemy" not in found["modules"]
    assert "sqlalchemy" in first["modules"]  # the control: a cycle needs it
    assert "pydantic_settings" not in found["modules"]
    # Its plain command line is read without typer (`cli/entry.py`, ~0.1 s of CPU), and its
    # two settings without pydantic (`config_env`: no VEILLE_* variable set could be refused).
    assert "typer" not in found["modules"]
    assert "pydantic" not in found["modules"] and "veille.config" not in found["modules"]
    assert "pydantic" in first["modules"]  # the control: a cycle builds the settings
    # A value the settings refuse is still reported, nothing due or not.
    refused = probe_failing(settings, "collect", "--json", VEILLE_CONCURRENCY="0")
    assert refused.returncode == 1 and "VEILLE_* invalide" in refused.stderr
    assert "concurrency" in refused.stderr and "Traceback" not in refused.stderr
    # Its end skips the interpreter's last collections over what it imported (0.17 s).
    assert found["frozen"] > 10_000
    # The control: `--help` lists every command, so it imports every command module.
    helped = probe(settings, "--help")
    assert helped["frozen"] == 0  # only `collect` asks for the quick end
    listed = helped["modules"]
    assert set(OTHER_COMMANDS[:7]) <= set(listed) and "babel" in listed
    assert "rich.console" in listed  # typer's help is drawn by rich
    assert "typer" in listed

    # A source added to feeds.yaml is due at once: the next tick runs a cycle.
    extra = f"  - key: autre\n    name: Autre\n    url: {server.base_url}/feeds/a.xml?autre\n"
    settings.config_file.write_text(feeds_yaml(server.base_url, extra), encoding="utf-8")
    assert "veille.collect.pipeline" in probe(settings, "tick")["modules"]


@pytest.mark.usefixtures("seed_model")  # the child loads it, never trains it
def test_a_cycle_of_a_few_pages_starts_no_extraction_process(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    mount_site(server)
    settings.config_file.write_text(feeds_yaml(server.base_url), encoding="utf-8")
    found = probe(settings, "collect", "--all", "--json")
    assert '"new_articles": 6' in found["stdout"]
    assert "trafilatura" in found["modules"]  # extracted here, in the collector's process
    assert found["children"] == []

    # The control, on a fresh database: with the threshold at 0, the same cycle starts the
    # extraction processes.
    again = probe(
        settings,
        "collect",
        "--json",
        VEILLE_EXTRACT_POOL_MIN_PAGES="0",
        VEILLE_DATABASE_URL=f"sqlite:///{tmp_path / 'control.db'}",
    )
    assert '"new_articles": 6' in again["stdout"]
    assert len(again["children"]) >= 1  # the forkserver, alive until the collector exits


# What a cycle in which every feed answers 304 has no use for: the store step of new
# pages, the story index, the classifier, the parsers and the extraction, the processes.
UNCHANGED_NEEDS_NONE_OF = (
    "veille.collect.store",
    "veille.collect.storyindex",
    "veille.collect.feeds",
    "veille.collect.extract",
    "veille.classify.service",
    "veille.classify.classifier",
    "numpy",
    "sklearn",
    "trafilatura",
    "lxml",
    "nh3",
    "multiprocessing",
    "click",  # httpx's command-line client, with rich's progress bar and pygments
    "pygments",
    "veille.sources",  # feeds.yaml did not change since the last sync: not parsed
    "yaml",
    # Claimed, saved, released and recorded on the Core tables of `db/schema.py`: no class
    # is mapped (~0.2 s of a new process's CPU).
    "veille.db.tables",
    "veille.db.sources",
    "veille.db.articles",
)


def test_a_cycle_of_unchanged_feeds_imports_neither_store_nor_parsers(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    pages = mount_site(server)
    base = server.base_url
    links = [(f"{base}/articles/{p.slug}", p) for p in pages]
    feeds = [ConditionalFeed(links[2 * n : 2 * n + 2], base) for n in range(3)]
    settings.config_file.write_text(mount_conditional_feeds(server, feeds), encoding="utf-8")
    first = probe(settings, "collect", "--all", "--json")  # the control: parsed, extracted
    assert '"new_articles": 6' in first["stdout"]
    # (six pages are extracted in-process, no cycle imports httpx's CLI, and a cached
    # model is loaded without scikit-learn)
    maybe = {"multiprocessing", "click", "pygments", "sklearn"}
    assert set(UNCHANGED_NEEDS_NONE_OF) - maybe <= set(first["modules"])

    again = probe(settings, "collect", "--all", "--json")
    assert '"sources_not_modified": 3' in again["stdout"]
    assert '"new_articles": 0' in again["stdout"]
    assert set(UNCHANGED_NEEDS_NONE_OF) & set(again["modules"]) == set()
    assert "typer" not in again["modules"]  # `collect --all --json`: read without typer
    assert "veille.collect.unchanged" in again["modules"] and again["children"] == []


def test_a_cycle_of_unchanged_feeds_asks_before_importing_the_orm(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    """`veille collect --all` whose feeds.yaml did not change claims on a Core connection:
    its first request goes out before SQLAlchemy's ORM is imported (that comes with the
    first session, while the hosts' spacing runs). Control: an edited feeds.yaml is synced
    through the ORM first."""
    pages = mount_site(server)
    base = server.base_url
    links = [(f"{base}/articles/{p.slug}", p) for p in pages]
    feeds = [ConditionalFeed(links[2 * n : 2 * n + 2], base) for n in range(3)]
    text = mount_conditional_feeds(server, feeds)
    settings.config_file.write_text(text, encoding="utf-8")
    port = str(server.port)
    first = probe(settings, "collect", "--all", "--json", PROBE_PORT=port)
    assert '"new_articles": 6' in first["stdout"]

    again = probe(settings, "collect", "--all", "--json", PROBE_PORT=port)
    assert '"sources_not_modified": 3' in again["stdout"]
    [before_request] = again["at_first_request"]
    assert set(ORM_ONLY) & set(before_request) == set()
    assert "veille.collect.pipeline" in before_request
    assert "sqlalchemy.orm" in again["modules"]  # then, to save the sources' health

    settings.config_file.write_text(text + "\n# edited\n", encoding="utf-8")
    edited = probe(settings, "collect", "--all", "--json", PROBE_PORT=port)
    assert '"sources_not_modified": 3' in edited["stdout"]
    [synced_first] = edited["at_first_request"]
    assert "sqlalchemy.orm" in synced_first


def test_the_tick_parses_feeds_yaml_again_only_when_it_changed(tmp_path: Path) -> None:
    from veille.scheduler import _feeds_file

    path = tmp_path / "feeds.yaml"
    path.write_text(feeds_yaml("http://exemple.fr"), encoding="utf-8")
    first = _feeds_file(path)
    parsed = first.config
    assert _feeds_file(path) is first  # same bytes: the parsed file is reused
    assert _feeds_file(path).config is parsed
    extra = "  - key: autre\n    name: Autre\n    url: http://exemple.fr/autre.xml\n"
    path.write_text(feeds_yaml("http://exemple.fr", extra), encoding="utf-8")
    assert [s.key for s in _feeds_file(path).config.sources][-1] == "autre"


def test_print_json_to_a_pipe_writes_what_rich_would(capsys: pytest.CaptureFixture[str]) -> None:
    """Scripts read the JSON of `--json` from a pipe: without rich, the same characters."""
    from rich.console import Console

    from veille.cli.common import print_json

    doc = {
        "texte": "Élus, données ouvertes 😀 \t\n\u0000\u2028 [bold]x[/] :smile: " + "w" * 300,
        "nombres": [1, 2.5, None, True, {}, [], 1e100, -0.0],
        "imbriqué": {"clé": {"vide": ""}},
    }
    text = json.dumps(doc)
    rich_file = io.StringIO()  # not a terminal, as a pipe
    Console(file=rich_file, soft_wrap=True).print_json(text)
    print_json(text)
    written = capsys.readouterr().out
    assert written == rich_file.getvalue()
    assert json.loads(written) == doc and "Élus" in written


# What a first cycle on a fresh database keeps out of the collector's process: Alembic
# and what it brings (Mako, whose error pages import Pygments), ~10 MB for one use.
MIGRATION_ONLY = ("alembic", "mako", "pygments")


@pytest.mark.usefixtures("seed_model")  # the child loads it, never trains it
def test_a_first_cycle_migrates_a_fresh_database_in_a_child_process(
    server: HostileServer, settings: Settings, tmp_path: Path
) -> None:
    from veille.db.engine import HEAD_REVISION, current_revision, make_engine

    mount_site(server)
    settings.config_file.write_text(feeds_yaml(server.base_url), encoding="utf-8")
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    found = probe(settings, "collect", "--json", VEILLE_DATABASE_URL=fresh)
    assert '"new_articles": 6' in found["stdout"]
    assert set(MIGRATION_ONLY) & set(found["modules"]) == set()
    engine = make_engine(fresh)
    assert current_revision(engine) == HEAD_REVISION
    engine.dispose()
    # The control: `veille db upgrade` migrates in its own process, Alembic and all.
    control = probe(settings, "db", "upgrade", VEILLE_DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}")
    assert set(MIGRATION_ONLY) <= set(control["modules"])


def test_a_database_the_child_cannot_open_is_one_clear_error(tmp_path: Path) -> None:
    environ = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "VEILLE_DATABASE_URL": f"sqlite:///{tmp_path / 'absent' / 'x.db'}",
        "VEILLE_CONFIG_FILE": str(REPO / "feeds.yaml"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "veille", "collect", "--json"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "Cannot open database" in done.stderr and "unable to open database" in done.stderr
