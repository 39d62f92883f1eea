"""Archive benchmark: load N synthetic French articles through `veille.db.bulk`, then time
the real web app (`veille serve` in a subprocess) on varied archive requests.

    python benchmarks/archive.py --articles 1000000 --backend sqlite
    python benchmarks/archive.py --articles 1000000 --backend postgresql \
        --postgres-url postgresql://postgres@127.0.0.1:55432/postgres
    python benchmarks/archive.py --articles 20000 --backend both      # quick run

Times are server-side (the app's `Server-Timing: app;dur=…` header) with the client-side
loopback time beside them. The web process RSS is sampled from /proc after every request.
Text is generated from original French sentence templates: 300 sources, the 3 themes plus
off-topic articles, 5 years, 1–2 KB per article, a long tail of place names.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veille.db.bulk import BulkArticle, bulk_insert_articles
from veille.db.engine import make_engine, normalise_url, session_factory, upgrade
from veille.db.tables import SourceRow

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
YEARS = 5
SOURCES = 300

SUBJECTS = {
    "open_data": [
        "La métropole",
        "Le département",
        "La région",
        "La commune",
        "Le syndicat mixte",
        "L'intercommunalité",
        "Le conseil municipal",
        "La mission Etalab",
        "Le portail régional",
        "L'association des élus",
    ],
    "ia": [
        "Le service numérique",
        "La préfecture",
        "Une start-up d'État",
        "Le laboratoire public",
        "La direction des systèmes d'information",
        "Le comité d'éthique",
        "Le ministère",
        "Une équipe de chercheurs",
        "La mairie",
        "L'agence régionale",
    ],
    "donnees_interet_general": [
        "Le délégataire",
        "L'opérateur de transport",
        "Le concessionnaire",
        "Le fournisseur d'énergie",
        "Le gestionnaire de réseau",
        "La société d'eau",
        "Le prestataire",
        "L'exploitant",
        "Le bailleur social",
        "La régie",
    ],
    "other": [
        "Le club de football",
        "La médiathèque",
        "Le comité des fêtes",
        "Le théâtre municipal",
        "L'office de tourisme",
        "Le marché couvert",
        "La chorale",
        "Le festival",
        "Le cinéma",
        "La fanfare",
    ],
}
VERBS = {
    "open_data": [
        "publie",
        "ouvre",
        "met à jour",
        "documente",
        "diffuse sous licence ouverte",
        "moissonne",
        "réutilise",
        "recense",
        "standardise",
        "valorise",
    ],
    "ia": [
        "expérimente",
        "déploie",
        "évalue",
        "entraîne",
        "encadre",
        "audite",
        "explique",
        "teste",
        "abandonne",
        "présente",
    ],
    "donnees_interet_general": [
        "transmet",
        "doit communiquer",
        "refuse de partager",
        "met à disposition",
        "restitue",
        "négocie",
        "fournit",
        "ouvre enfin",
        "retarde",
        "décrit",
    ],
    "other": [
        "annonce",
        "organise",
        "reporte",
        "célèbre",
        "accueille",
        "inaugure",
        "programme",
        "rénove",
        "présente",
        "prolonge",
    ],
}
OBJECTS = {
    "open_data": [
        "ses données ouvertes",
        "un jeu de données sur les budgets",
        "le registre des arrêtés",
        "les horaires des transports",
        "la base adresse locale",
        "les délibérations du conseil",
        "un catalogue de données",
        "les données de qualité de l'air",
        "le schéma de données",
        "les subventions versées",
        "les marchés publics",
        "l'inventaire des équipements",
    ],
    "ia": [
        "un algorithme de tri des courriers",
        "un agent conversationnel",
        "un modèle de langage",
        "un système de vidéoprotection algorithmique",
        "un outil de détection des fraudes",
        "l'intelligence artificielle générative",
        "un assistant pour les agents",
        "un algorithme public",
        "la transcription automatique des séances",
        "un modèle de prévision des inondations",
        "la reconnaissance d'images",
    ],
    "donnees_interet_general": [
        "les données d'intérêt général",
        "les données de la délégation de service public",
        "les comptages de fréquentation",
        "les relevés de consommation d'eau",
        "les données du réseau de chaleur",
        "les informations sur les collectes de déchets",
        "les données de stationnement",
        "les indicateurs du contrat de concession",
        "les données énergétiques",
        "le fichier des points de recharge",
    ],
    "other": [
        "un concert en plein air",
        "la fête de la musique",
        "un tournoi de pétanque",
        "la saison culturelle",
        "un marché de Noël",
        "une exposition de photographies",
        "la rénovation du gymnase",
        "un spectacle pour les enfants",
        "la brocante annuelle",
        "une course solidaire",
    ],
}
TAILS = [
    "après plusieurs mois de travail",
    "malgré les réserves de la CNIL",
    "pour les habitants",
    "avec l'appui de l'État",
    "dans le cadre de la loi pour une République numérique",
    "selon un rapport publié cette semaine",
    "en lien avec les communes voisines",
    "pour la première fois",
    "sous la pression des associations",
    "avant la fin de l'année",
    "à titre expérimental",
    "au grand regret des élus d'opposition",
    "sans concertation",
    "avec un budget de {n} euros",
    "pour {n} habitants",
    "sur {n} communes",
]
SYLLABLES = [
    "bel",
    "mont",
    "ville",
    "champ",
    "roc",
    "val",
    "fleur",
    "lac",
    "bois",
    "mar",
    "sain",
    "ber",
    "gny",
    "court",
    "lieu",
    "mesnil",
    "ry",
    "vaux",
    "pré",
    "lune",
]


def _places(rng: random.Random, n: int) -> list[str]:
    out = set()
    while len(out) < n:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        out.add(("Saint-" if rng.random() < 0.2 else "") + name.capitalize())
    return sorted(out)


@dataclass
class Corpus:
    sentences: dict[str, list[str]]
    titles: dict[str, list[str]]
    places: list[str]


def build_corpus(seed: int = 7) -> Corpus:
    rng = random.Random(seed)
    places = _places(rng, 8000)
    sentences: dict[str, list[str]] = {}
    titles: dict[str, list[str]] = {}
    for topic in SUBJECTS:
        pool = []
        for _ in range(6000):
            tail = rng.choice(TAILS).format(n=rng.randint(2, 900) * 100)
            where = f" à {rng.choice(places)}" if rng.random() < 0.6 else ""
            pool.append(
                f"{rng.choice(SUBJECTS[topic])}{where} {rng.choice(VERBS[topic])} "
                f"{rng.choice(OBJECTS[topic])} {tail}."
            )
        sentences[topic] = pool
        titles[topic] = [
            f"{rng.choice(OBJECTS[topic]).capitalize()} : {rng.choice(SUBJECTS[topic]).lower()} "
            f"{rng.choice(VERBS[topic])}"
            for _ in range(3000)
        ]
    return Corpus(sentences, titles, places)


TOPIC_WEIGHTS = [
    ("open_data", 0.35),
    ("ia", 0.25),
    ("donnees_interet_general", 0.15),
    ("other", 0.25),
]


def articles(n: int, source_ids: list[int], seed: int = 11) -> Iterator[BulkArticle]:
    corpus = build_corpus()
    rng = random.Random(seed)
    topics = [t for t, _ in TOPIC_WEIGHTS]
    weights = [w for _, w in TOPIC_WEIGHTS]
    span = YEARS * 365 * 86400
    # Sources have very different volumes, as real ones do.
    source_weights = [1 / (i + 1) ** 0.8 for i in range(len(source_ids))]
    chosen_sources = rng.choices(source_ids, source_weights, k=n)
    chosen_topics = rng.choices(topics, weights, k=n)
    for i in range(n):
        topic = chosen_topics[i]
        second = rng.choice(topics) if rng.random() < 0.25 else topic
        pool = corpus.sentences[topic]
        count = rng.randint(7, 14)
        body = " ".join(
            rng.choice(pool if k % 3 else corpus.sentences[second]) for k in range(count)
        )
        fetched = END - timedelta(seconds=span * (i / n) ** 0.8 + rng.random() * 3600)
        published = None if rng.random() < 0.1 else fetched - timedelta(hours=rng.random() * 12)
        themes = {}
        if topic != "other":
            themes[topic] = round(0.6 + rng.random() * 0.4, 3)
        if second not in ("other", topic):
            themes[second] = round(0.5 + rng.random() * 0.3, 3)
        yield BulkArticle(
            url=f"https://bench.example/{i}-{uuid.UUID(int=rng.getrandbits(128)).hex[:8]}",
            source_id=chosen_sources[i],
            title=rng.choice(corpus.titles[topic]),
            summary=body[: body.find(".") + 1],
            text=body,
            fetched_at=fetched,
            published_at=published,
            score=None if rng.random() < 0.05 else round(rng.random(), 3),
            themes=themes,
        )


# ---------------------------------------------------------------------------- loading


def prepare_database(backend: str, workdir: Path, pg_admin: str | None) -> str:
    if backend == "sqlite":
        path = workdir / "archive-bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    assert pg_admin, "--postgres-url is required for PostgreSQL"
    name = "veille_bench_archive"
    admin = create_engine(normalise_url(pg_admin), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{pg_admin.rsplit('/', 1)[0]}/{name}"


def load(url: str, n: int) -> float:
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        rows = [
            SourceRow(key=f"source-{i:03d}", name=f"Source n°{i}", url=f"https://s{i}.example/")
            for i in range(SOURCES)
        ]
        session.add_all(rows)
        session.flush()
        source_ids = [r.id for r in rows]
    started = time.perf_counter()
    done = bulk_insert_articles(engine, articles(n, source_ids))
    elapsed = time.perf_counter() - started
    assert done == n
    engine.dispose()
    return elapsed


# ---------------------------------------------------------------------------- requests

WORDS = [
    "données",
    "donnee",
    "algorithme",
    "intelligence artificielle",
    "délibérations",
    "transport",
    "énergie",
    "concert",
    "budget",
    "cnil",
    "catalogue",
    "subventions",
    "vidéoprotection",
    "chaleur",
    "stationnement",
    "inondations",
]


GROUP_PARAM = ""  # "&group=none" with --group none


def mark_duplicates(url: str, share: float) -> None:
    """Mark `share` of the articles as story members that are not the representative, as
    `veille.db.stories.refresh` would (bulk loads carry no stories)."""
    from veille.db.fulltext import DUPLICATE_BIT

    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(
            text(
                f"UPDATE articles SET theme_mask = theme_mask | {DUPLICATE_BIT} "
                "WHERE (id * 7919) % 1000 < :cut"
            ),
            {"cut": int(share * 1000)},
        )
    engine.dispose()


def request_mix(rng: random.Random, kind: str, places: list[str]) -> str:
    path = _request_mix(rng, kind, places)
    if GROUP_PARAM:
        path += ("&" if "?" in path else "?") + GROUP_PARAM.lstrip("&")
    return path


def _request_mix(rng: random.Random, kind: str, places: list[str]) -> str:
    theme = rng.choice(["open_data", "ia", "donnees_interet_general"])
    if kind == "theme_period":
        if rng.random() < 0.5:
            period = rng.choice(["semaine", "mois", "annee"])
            extra = f"&period={period}"
        else:
            start = END.date() - timedelta(days=rng.randint(30, YEARS * 365))
            stop = start + timedelta(days=rng.randint(7, 365))
            extra = f"&from={start}&to={stop}"
        sort = "&sort=score" if rng.random() < 0.3 else ""
        page = f"&page={rng.randint(2, 20)}" if rng.random() < 0.2 else ""
        return f"/?theme={theme}{extra}{sort}{page}"
    if kind == "text_theme":
        r = rng.random()
        if r < 0.6:
            q = rng.choice(WORDS)
        elif r < 0.8:
            q = rng.choice(places)
        else:
            q = f'"{rng.choice(["données ouvertes", "intérêt général", "modèle de langage"])}"'
            q += " -" + rng.choice(["cnil", "budget", "transport"])
        return f"/?theme={theme}&q={httpx.QueryParams({'q': q})['q']}"
    if kind == "feed":
        if rng.random() < 0.5:
            return f"/feeds/{theme}.atom"
        return f"/feeds/search.atom?theme={theme}&q={rng.choice(WORDS)}"
    raise ValueError(kind)


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def measure_http(url: str, requests: int, port: int) -> dict[str, object]:
    env = dict(os.environ, VEILLE_DATABASE_URL=url, VEILLE_BASE_URL=f"http://127.0.0.1:{port}")
    veille = Path(sys.executable).with_name("veille")
    cmd = [str(veille)] if veille.exists() else [sys.executable, "-m", "veille"]
    proc = subprocess.Popen(
        [*cmd, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        for _ in range(300):
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "exited")
            time.sleep(0.1)
        rng = random.Random(3)
        places = build_corpus().places
        pids = [proc.pid, *_children(proc.pid)]
        results: dict[str, object] = {}
        rss: list[int] = []
        for kind in ("theme_period", "text_theme", "feed"):
            urls = [request_mix(rng, kind, places) for _ in range(requests)]
            client.get(urls[0])  # warm the connection pool, templates
            server: list[float] = []
            wall: list[float] = []
            statuses: dict[int, int] = {}
            for path in urls:
                t0 = time.perf_counter()
                response = client.get(path)
                wall.append((time.perf_counter() - t0) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                timing = response.headers.get("server-timing", "")
                found = re.search(r"dur=([0-9.]+)", timing)
                server.append(float(found.group(1)) if found else float("nan"))
                rss.append(sum(rss_kb(p) for p in pids))
            results[kind] = {
                "server_p50": _pct(server, 50),
                "server_p95": _pct(server, 95),
                "wall_p95": _pct(wall, 95),
                "max": max(server),
                "statuses": statuses,
            }
        results["rss_mb"] = (min(rss) / 1024, max(rss) / 1024, rss[-1] / 1024)
        return results
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _pct(values: list[float], p: int) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def measure_direct(url: str, requests: int) -> dict[str, object]:
    """`search()` timed in-process: the cost of the archive backend without HTTP."""
    from veille.archive.query import parse_query
    from veille.archive.search import search

    engine = make_engine(url)
    factory = session_factory(engine)
    rng = random.Random(5)
    places = build_corpus().places
    out: dict[str, object] = {}
    for kind in ("theme_period", "text_theme"):
        times = []
        for _ in range(requests):
            path = request_mix(rng, kind, places)
            params = httpx.QueryParams(path.split("?", 1)[1])
            query = parse_query({k: params.get_list(k) for k in params}, today=END.date())
            with factory() as session:
                t0 = time.perf_counter()
                search(session, query)
                times.append((time.perf_counter() - t0) * 1000)
        out[kind] = {"p50": _pct(times, 50), "p95": _pct(times, 95), "max": max(times)}
    engine.dispose()
    return out


def machine() -> str:
    """CPUs, RAM and load average, printed with the figures (the box may be shared)."""
    mem = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        "0",
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, {int(mem) / 2**20:.1f} GiB RAM, load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("VEILLE_TEST_POSTGRES_URL"))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--skip-load", action="store_true", help="reuse the loaded database")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    parser.add_argument(
        "--duplicates",
        type=float,
        default=0.0,
        help="share of articles marked as non-representative members of a story after "
        "loading (the bit `veille.db.stories` keeps), so the default one-per-story listing "
        "has rows to skip",
    )
    parser.add_argument(
        "--group",
        choices=["story", "none"],
        default="story",
        help="none: every request lists every article (group=none), to compare with stories",
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"machine: {machine()}", flush=True)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="veille-archive-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for backend in backends:
        if args.skip_load:
            url = (
                f"sqlite:///{workdir / 'archive-bench.db'}"
                if backend == "sqlite"
                else f"{args.postgres_url.rsplit('/', 1)[0]}/veille_bench_archive"
            )
        else:
            url = prepare_database(backend, workdir, args.postgres_url)
            seconds = load(url, args.articles)
            print(
                f"[{backend}] loaded {args.articles:,} articles in {seconds:.1f} s "
                f"({args.articles / seconds:,.0f}/s)",
                flush=True,
            )
            if backend == "sqlite":
                size = Path(url.removeprefix("sqlite:///")).stat().st_size
                print(f"[{backend}] database file {size / 2**30:.2f} GiB", flush=True)
        if args.duplicates and not args.skip_load:
            mark_duplicates(url, args.duplicates)
        global GROUP_PARAM
        GROUP_PARAM = "&group=none" if args.group == "none" else ""
        print(f"[{backend}] search() in-process: {measure_direct(url, args.requests)}", flush=True)
        print(f"[{backend}] HTTP: {measure_http(url, args.requests, args.port)}", flush=True)
        print(f"machine: {machine()}", flush=True)
    if not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
