"""Rendered public answers shared by the worker processes of one machine.

Each worker keeps its own LRU (`veille.web.response_cache`), so when the data version moves
— an edition just sent, i.e. right before its readers arrive — every page was rendered
once per worker: with two workers, twice the cold renders in the seconds where the crowd
is largest. Measured under wrk (benchmarks/README.md, « Load »), those second renders of
pages the other worker had just rendered were the remaining p99 tail.

`veille serve --workers N` therefore gives its workers one small SQLite file (in a private
temporary folder, removed when the server stops; `SHARED_ANSWERS_ENV`): a worker missing
an answer reads it there before rendering, and writes what it renders. The key is the
response cache's (method, path, normalised query, variant headers, data version, day), so
an answer of an older version is never found, and rows of older versions are deleted by
the first write of a newer one. Only what the response cache keeps goes there: public
archive answers, never the desk's or members' pages.

A cache, not a record: no fsync (`synchronous=OFF`), and any error of the file (disk full,
deleted) only means rendering as before — logged once, never a failed request.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

SHARED_ANSWERS_ENV = "VEILLE_SHARED_ANSWERS_FILE"  # set by `veille serve` for its workers
MAX_ROWS = 2048  # per machine, as one worker's LRU; oldest first beyond it or MAX_BYTES
MAX_BYTES = 128 * 1024 * 1024
# A claim older than this is a render that died (or a worker killed): taken over. Well
# above the slowest render measured under load (1.3 s at 0.4 of a core).
CLAIM_SECONDS = 5.0
_PRUNE_EVERY = 64  # writes between two checks of the bound

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_version ON answers (version);
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    at REAL NOT NULL
);
"""

Headers = list[tuple[bytes, bytes]]


def _key(key: tuple[str, ...]) -> str:
    return "\x00".join(key)


def prepare(path: Path) -> None:
    """Create the file in WAL mode with its tables (idempotent): by `veille serve` before
    it starts the workers, and by each worker at start, before any crowd."""
    with contextlib.closing(sqlite3.connect(path, timeout=10.0, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)


class SharedAnswers:
    """One SQLite file; a connection per thread (reads on the event loop, writes in
    threads), WAL so a write never blocks the other workers' reads."""

    def __init__(
        self,
        path: Path,
        max_rows: int = MAX_ROWS,
        max_bytes: int = MAX_BYTES,
        claim_seconds: float = CLAIM_SECONDS,
    ) -> None:
        self.path = path
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.claim_seconds = claim_seconds
        self._local = threading.local()
        self._newest = -1  # the newest version this process wrote; older rows go then
        self._writes = 0
        self._warned = False
        prepare(path)

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection. The file's mode and tables are set once, by
        `prepare`: under a crowd, a new thread's `journal_mode` change or CREATE would wait
        for the other workers' write lock."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=1.0, isolation_level=None)
            db.execute("PRAGMA synchronous=OFF")
            self._local.db = db
        return db

    def _failed(self, error: sqlite3.Error) -> None:
        """A miss, not a failed request; said once per worker (a busy file under a crowd
        is transient, so nothing is switched off)."""
        if not self._warned:
            log.warning("shared answers file %s: %s (rendering instead)", self.path, error)
        self._warned = True

    def get(self, key: tuple[str, ...]) -> tuple[int, Headers, bytes] | None:
        """The answer another worker (or this one) kept for `key`, or None."""
        try:
            row = (
                self._connection()
                .execute("SELECT status, headers, body FROM answers WHERE key = ?", (_key(key),))
                .fetchone()
            )
        except sqlite3.Error as error:
            self._failed(error)
            return None
        if row is None:
            return None
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in json.loads(row[1])]
        return int(row[0]), headers, bytes(row[2])

    def claim(self, key: tuple[str, ...], version: int) -> bool:
        """Announce this worker renders `key` (blocking: call it in a thread). False when
        another worker announced it first and is still within `claim_seconds`: wait for
        its answer (`claimed`, `get`) instead of rendering the same page at the same time
        — a crowd asks both workers for each page within milliseconds."""
        try:
            db = self._connection()
            db.execute(
                "DELETE FROM claims WHERE key = ? AND at < ?",
                (_key(key), time.time() - self.claim_seconds),
            )
            cursor = db.execute(
                "INSERT OR IGNORE INTO claims (key, version, at) VALUES (?, ?, ?)",
                (_key(key), version, time.time()),
            )
            return cursor.rowcount == 1
        except sqlite3.Error as error:
            self._failed(error)
            return True

    def claimed(self, key: tuple[str, ...]) -> bool:
        """Whether a live claim on `key` is still held (its answer not yet written)."""
        try:
            row = self._connection().execute(
                "SELECT 1 FROM claims WHERE key = ? AND at >= ?",
                (_key(key), time.time() - self.claim_seconds),
            ).fetchone()
        except sqlite3.Error as error:
            self._failed(error)
            return False
        return row is not None

    def release(self, key: tuple[str, ...]) -> None:
        """Drop this worker's claim: its answer was not one to keep (a 404, a cookie), so
        the waiting workers render their own (blocking: call it in a thread)."""
        try:
            self._connection().execute("DELETE FROM claims WHERE key = ?", (_key(key),))
        except sqlite3.Error as error:
            self._failed(error)

    def put(
        self, key: tuple[str, ...], version: int, status: int, headers: Headers, body: bytes
    ) -> None:
        """Keep an answer of data version `version` (blocking: call it in a thread)."""
        pairs = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in headers]
        try:
            db = self._connection()
            if version > self._newest:  # every older answer is stale for every worker
                db.execute("DELETE FROM answers WHERE version < ?", (version,))
                db.execute("DELETE FROM claims WHERE version < ?", (version,))
                self._newest = version
            db.execute("BEGIN")
            try:
                db.execute(
                    "INSERT OR REPLACE INTO answers (key, version, status, headers, body) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (_key(key), version, status, json.dumps(pairs), body),
                )
                db.execute("DELETE FROM claims WHERE key = ?", (_key(key),))
                db.execute("COMMIT")
            except sqlite3.Error:
                db.execute("ROLLBACK")
                raise
            self._writes += 1
            if self._writes % _PRUNE_EVERY == 0:
                self._prune(db)
        except sqlite3.Error as error:
            self._failed(error)

    def _prune(self, db: sqlite3.Connection) -> None:
        """Drop the oldest answers beyond `max_rows` answers or `max_bytes` of bodies."""
        db.execute(
            "DELETE FROM answers WHERE rowid IN (SELECT rowid FROM ("
            " SELECT rowid, row_number() OVER newest AS n, sum(length(body)) OVER newest AS total"
            " FROM answers WINDOW newest AS (ORDER BY rowid DESC)"
            ") WHERE n > ? OR total > ?)",
            (self.max_rows, self.max_bytes),
        )
