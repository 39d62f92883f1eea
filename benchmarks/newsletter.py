"""Newsletter: render and send one edition to 10,000 members.

Issue targets: render all personalised messages in under 20 s; send them to a local
aiosmtpd in under 60 s (at least 200 messages/s over reused connections); peak RSS of the
sender under 400 MB.

Set-up (deterministic from --seed): a fresh SQLite database (or --database-url), 10,000
active members with random theme sets (a third "all themes", the rest one or two of the
three), an approved edition of 30 items over 3 themes (10 each, ~450-character summaries,
some with a delegate's comment, an edito in Markdown).

Timed steps:
(a) render, in this process: for every member, the signed links, `Renderer.render` and
    `edition_message` (the MIME message), serialised to bytes as it goes on the wire;
(b) send: the real command `python -m veille edition send 1 --yes` in a subprocess
    (start-up and migrations included in the wall time; the command's own report gives
    the sending time) to an aiosmtpd sink running in another process, with
    VEILLE_SEND_RATE high so the throttle does not bind;
(c) peak RSS of that sender subprocess (`os.wait4`).

Run: python benchmarks/newsletter.py [--members 10000] [--connections 2]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from veille.config import get_settings
from veille.db import members as member_db
from veille.db.engine import make_engine, session_factory, upgrade
from veille.db.tables import DeliveryRow, EditionItemRow, EditionRow
from veille.members.mails import links_for
from veille.members.subscriptions import themes_of
from veille.newsletter.editions import get
from veille.newsletter.render import Renderer, edition_message, edition_view, message_bytes
from veille.sources import THEME_IDS, theme_labels_from

SEED = 20261130
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
FIRST = ("Anne", "Élodie", "François", "Gaëlle", "Hélène", "Jérôme", "Léa", "Noël", "Zoé")
LAST = ("Martin", "Lefèvre", "Dubœuf", "Garçon", "N'Diaye", "Müller", "Le Goff", "Roché")
WORDS = [
    "données",
    "ouvertes",
    "collectivité",
    "publication",
    "jeu",
    "portail",
    "réutilisation",
    "intelligence",
    "artificielle",
    "algorithme",
    "transparence",
    "territoire",
    "commune",
    "métropole",
    "licence",
    "qualité",
    "standard",
    "schéma",
    "interopérabilité",
    "gouvernance",
    "souveraineté",
    "hébergement",
    "archive",
]

SINK = textwrap.dedent(
    """
    import socket, sys
    from aiosmtpd.controller import Controller

    class Sink:
        count = 0
        size = 0
        async def handle_DATA(self, server, session, envelope):
            Sink.count += 1
            Sink.size += len(envelope.original_content or b"")
            return "250 OK"

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    for line in sys.stdin:
        print(Sink.count, Sink.size, flush=True)
    controller.stop()
    """
)


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def populate(database_url: str, members: int, seed: int) -> None:
    rng = random.Random(seed)
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    choices: list[list[str] | None] = [None, *([t] for t in THEME_IDS)]
    choices += [[a, b] for i, a in enumerate(THEME_IDS) for b in THEME_IDS[i + 1 :]]
    rows = []
    for i in range(members):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        email = f"membre.{i}@commune-{i % 997}.exemple.fr"
        themes = None if rng.random() < 0.33 else rng.choice(choices[1:])
        rows.append(
            {
                "email": email,
                "email_key": member_db.email_key(email),
                "name": name,
                "organisation": f"Commune {i % 997}",
                "status": "active",
                "themes": themes,
                "token_salt": member_db.new_salt(),
                "consent_at": NOW,
                "consent_method": "import",
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    with sessions.begin() as session:
        for start in range(0, len(rows), 2000):
            member_db.insert_many(session, rows[start : start + 2000])
        edition = EditionRow(
            number=1,
            title="Lettre de veille n° 1 — semaine du 23 novembre 2026",
            edito="Cette semaine, **trois sujets** :\n\n"
            "- les portails de données ;\n- l'IA dans les collectivités ;\n- la qualité.\n",
            status="approved",
            period_start=NOW - timedelta(days=7),
            period_end=NOW,
            section_order=list(THEME_IDS),
            created_at=NOW,
            created_by="benchmark",
            approved_at=NOW,
            approved_by="benchmark",
            version=1,
        )
        session.add(edition)
        session.flush()
        for theme in THEME_IDS:
            for position in range(10):
                session.add(
                    EditionItemRow(
                        edition_id=edition.id,
                        theme=theme,
                        position=position,
                        title=sentence(rng, 9)[:-1],
                        url=f"https://actualites.exemple.fr/{theme}/{position}-{rng.random():.6f}",
                        source_name=f"Source {rng.randint(1, 40)}",
                        summary=" ".join(sentence(rng, 18) for _ in range(3)),
                        comment=sentence(rng, 14) if rng.random() < 0.3 else "",
                        published_at=NOW - timedelta(hours=rng.randint(1, 160)),
                    )
                )
    engine.dispose()


def time_render(database_url: str) -> tuple[float, float, int, int, int]:
    """(build seconds, serialise seconds, messages, members without items, total bytes):
    building = links + render + MIME message; serialising = the bytes smtplib sends."""
    settings = get_settings(database_url=database_url, mail_from="veille@exemple.fr")
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    labels = theme_labels_from(settings.config_file)
    with sessions() as session:
        view = edition_view(session, get(session, 1), labels)
        members = list(member_db.iter_all(session))
        session.expunge_all()
    renderer = Renderer(view, settings)
    messages = skipped = size = 0
    build = serialise = 0.0
    for member in members:
        started = time.perf_counter()
        links = links_for(settings, member)
        rendered = renderer.render(themes_of(member), links, member.name)
        if rendered is None:
            skipped += 1
            build += time.perf_counter() - started
            continue
        message = edition_message(
            settings, rendered, member.email, member.name, 1, member.id, links
        )
        built = time.perf_counter()
        size += len(message_bytes(message))  # what the sender puts on the wire
        serialise += time.perf_counter() - built
        build += built - started
        messages += 1
    engine.dispose()
    return build, serialise, messages, skipped, size


def time_send(
    database_url: str, connections: int, rate: float
) -> tuple[float, float | None, int, float, int, int, int]:
    """(wall s, report s, peak RSS KB, sender CPU s, sink messages, sink bytes, rows sent)."""
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert sink.stdin is not None and sink.stdout is not None
    port = int(sink.stdout.readline())
    env = {
        **os.environ,
        "VEILLE_DATABASE_URL": database_url,
        "VEILLE_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "VEILLE_SEND_RATE": str(rate),
        "VEILLE_SEND_CONNECTIONS": str(connections),
        "VEILLE_MAIL_FROM": "veille@exemple.fr",
        "VEILLE_CONFIG_FILE": "/nonexistent/feeds.yaml",
    }
    started = time.perf_counter()
    sender = subprocess.Popen(
        [sys.executable, "-m", "veille", "edition", "send", "1", "--yes"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output = sender.stdout.read() if sender.stdout else ""
    errors = sender.stderr.read() if sender.stderr else ""
    _, status, usage = os.wait4(sender.pid, 0)
    wall = time.perf_counter() - started
    sender.returncode = os.waitstatus_to_exitcode(status)
    if sender.returncode != 0:
        print(output, errors, file=sys.stderr)
        raise SystemExit(f"the send failed (exit {sender.returncode})")
    sink.stdin.write("count\n")
    sink.stdin.flush()
    count, size = (int(x) for x in sink.stdout.readline().split())
    sink.stdin.close()
    sink.wait(10)
    found = re.search(r"in this run \(([\d.]+) s", output)
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        sent = int(
            session.scalar(
                select(func.count()).select_from(DeliveryRow).where(DeliveryRow.status == "sent")
            )
            or 0
        )
    engine.dispose()
    cpu = usage.ru_utime + usage.ru_stime
    return wall, float(found.group(1)) if found else None, usage.ru_maxrss, cpu, count, size, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--rate", type=float, default=100_000.0)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        populate(url, args.members, args.seed)
        print(f"set-up: {args.members} members, 30 items ({time.perf_counter() - started:.1f} s)")

        build, serialise, messages, skipped, size = time_render(url)
        print(
            f"(a) render: {messages} messages ({skipped} members without items), "
            f"{size / max(messages, 1) / 1024:.1f} KB/message: built (links, render, MIME) "
            f"in {build:.2f} s, serialised to bytes in {serialise:.2f} s, "
            f"total {build + serialise:.2f} s  [target < 20 s]"
        )

        wall, in_run, rss_kb, cpu, received, received_bytes, sent = time_send(
            url, args.connections, args.rate
        )
        rate = sent / in_run if in_run else sent / wall
        print(
            f"(b) send: {sent} delivered ({received} received by the sink, "
            f"{received_bytes / 2**20:.0f} MB) in {wall:.1f} s wall "
            f"(command incl. start-up), {in_run} s sending = {rate:.0f} msg/s over "
            f"{args.connections} connections  [target < 60 s, >= 200 msg/s]"
        )
        print(
            f"    sender CPU {cpu:.1f} s in all = {cpu / max(sent, 1) * 1000:.1f} ms/message "
            f"(start-up included): {sent / cpu:.0f} msg/s per core of the sender alone"
        )
        print(f"(c) peak RSS of the sender process: {rss_kb / 1024:.0f} MB  [target < 400 MB]")


if __name__ == "__main__":
    main()
