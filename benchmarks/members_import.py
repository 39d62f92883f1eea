"""Members import: generate a 100,000-line spreadsheet export, time reading it.

Issue target: `veille members import` of a 100,000-line file in under 30 s, streaming. Timed
steps: the reader alone (`veille.members.csvfile.read_members_csv`: decoding, CSV, header
mapping, e-mail validation, themes, duplicates), then the real command `veille members
import FILE` in a subprocess (start-up, migrations, reading and the batched upsert) into a
fresh database, then the same command again (the idempotent re-import: all unchanged).
`--database-url` chooses the database (default: a temporary SQLite file).

The file imitates an export from a French spreadsheet: Windows-1252, `;` separator, CRLF,
French header, accented names, themes quoted with `|` and `,`, a few quoted newlines, blank
lines, a sprinkling of bad lines (invalid e-mail, unknown theme, duplicate in another case).

Run: python benchmarks/members_import.py [--lines 100000] [--encoding cp1252|utf-8-sig]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veille.members.csvfile import LineError, read_members_csv

SEED = 20261125
FIRST = ("Anne", "Élodie", "François", "Gaëlle", "Hélène", "Jérôme", "Léa", "Noël", "Zoé")
LAST = ("Martin", "Lefèvre", "Dubœuf", "Garçon", "N'Diaye", "Müller", "Le Goff", "Roché")
ORGS = ("Mairie de", "Communauté d’agglomération de", "Département de", "Métropole de")
PLACES = ("Brest", "Évry", "Saint-Étienne", "Gex", "Aÿ-Champagne", "L’Haÿ-les-Roses", "Uzès")
THEMES = ("", "open_data", '"open_data|ia"', '"ia,donnees_interet_general"', "IA")


def generate(path: Path, lines: int, encoding: str = "cp1252") -> int:
    """Write `lines` member lines after the header; returns how many should be rejected."""
    rng = random.Random(SEED)
    bad = 0
    previous = ""  # the last e-mail imported, to duplicate in upper case
    with path.open("w", encoding=encoding, newline="") as out:
        out.write("Courriel;Prénom Nom;Collectivité;Thèmes;Téléphone\r\n")
        for i in range(lines):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            org = f"{rng.choice(ORGS)} {rng.choice(PLACES)}"
            email = f"{name.split()[0].lower()}.{i}@{rng.choice(PLACES).lower()}-exemple.fr"
            email = email.encode("ascii", "ignore").decode().replace("'", "")
            themes = rng.choice(THEMES)
            roll = rng.random()
            if roll < 0.001:
                email, bad = email.replace("@", " at "), bad + 1
            elif roll < 0.002:
                themes, bad = "culture", bad + 1
            elif roll < 0.003 and previous:
                email, bad = previous.upper(), bad + 1
            elif roll < 0.004:
                org = f'"{org}\nService numérique"'
            elif roll < 0.005:
                out.write("\r\n")
            out.write(f"{email};{name};{org};{themes};01 23 45 67 {i % 100:02d}\r\n")
            if roll >= 0.003:
                previous = email
    return bad


def read_only(path: Path) -> tuple[int, int]:
    """The reader alone: (members, rejected lines)."""
    ok = rejected = 0
    for result in read_members_csv(path):
        if isinstance(result, LineError):
            rejected += 1
        else:
            ok += 1
    return ok, rejected


def cli_import(database_url: str) -> Callable[[Path], tuple[int, int]]:
    """The user's command, as a subprocess: (members created or unchanged, rejected)."""

    def step(path: Path) -> tuple[int, int]:
        env = {**os.environ, "VEILLE_DATABASE_URL": database_url}
        done = subprocess.run(
            [sys.executable, "-m", "veille", "members", "import", str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        summary = done.stdout.strip().splitlines()[-1]
        counts = {m.group(2): int(m.group(1)) for m in re.finditer(r"(\d+) ([a-z]+)", summary)}
        return counts["created"] + counts["unchanged"], counts["invalid"]

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--encoding", default="cp1252")
    parser.add_argument("--database-url", help="an empty database (default: temporary SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "membres.csv"
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        steps: dict[str, Callable[[Path], tuple[int, int]]] = {
            "read": read_only,
            "import": cli_import(database_url),
            "re-import": cli_import(database_url),
        }
        expected_bad = generate(path, args.lines, args.encoding)
        size = path.stat().st_size / 1e6
        print(f"{args.lines:,} lines, {size:.1f} MB, {args.encoding}, {expected_bad} bad lines")
        for name, step in steps.items():
            start = time.perf_counter()
            ok, rejected = step(path)
            elapsed = time.perf_counter() - start
            print(
                f"{name:>8}: {elapsed:6.2f} s  ({args.lines / elapsed:,.0f} lines/s; "
                f"{ok:,} members, {rejected} rejected)"
            )
            assert rejected == expected_bad, (rejected, expected_bad)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB (reader, this process), {child:.0f} MB (import command)")


if __name__ == "__main__":
    main()
