"""Send an edition to every active member exactly once, resumable after any interruption.

The database is the ledger. Before any SMTP call, `deliveries.prepare_deliveries` writes
one delivery row per active member (unique per edition and member: preparing again adds
only the members who became active since). Sending then loops over small claims:

1. claim a batch of `pending` rows: they become `sending`, attempts + 1, in one commit;
2. for each row: render (the `Renderer` caches per theme set), hand the message to the SMTP
   server, and commit `sent` with the Message-ID right after the server's 250 reply — one
   small commit per message.

A row is final (`sent`, `failed`, `skipped`) only after the server answered, and a final
row is never sent again, so a crash, a `kill -9` or an SMTP outage followed by `veille
edition send N` (or the scheduler) reaches exactly the members not yet served. The one
window left is a crash between the server's 250 and our commit (microseconds): that member
gets the edition twice, with the same deterministic Message-ID, so the copy is recognisable
(and most mail systems drop a second message with a Message-ID they already hold). SMTP
offers no way to close that window; shortening it is all a client can do.

Who may touch `sending` rows: a run holds the edition's send lock (`send_lock`) for its
whole life (a PostgreSQL session advisory lock, or an flock on a file beside the SQLite
database; both vanish with the process, even on `kill -9`). Holding it, a new run knows
every `sending` row belongs to a dead run, puts them back to `pending` (noting it) and
sends them again. A second run started meanwhile (a double click, the scheduler) finds the
lock taken and reports `busy` without touching anything.

Speed: `connections` worker threads, each with its own `Sender` (one reused SMTP
connection) and its own database session; claims never overlap (the UPDATE of a claim is
conditional on `pending` and RETURNs the rows it took; PostgreSQL also skips rows another
claim has locked). `settings.send_rate` is the overall rate: each worker gets rate / N.

Failures: a temporary error (4xx, network) that outlives the sender's own retries puts the
row back to `pending` and stops the run (`interrupted`; the edition stays `sending` and the
next run resumes). A permanent error (5xx) marks the row `failed` and counts towards the
pause rule (`PauseRule`): when it trips — the server is refusing much of the list, a sign
of a blocklisting or a bad list — the edition goes `paused` until someone looks.
A member paused or unsubscribed after preparation is `skipped` at send time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from veille.config import Settings
from veille.db import editions as edition_db
from veille.db.engine import transaction
from veille.db.tables import DeliveryRow, MemberRow
from veille.errors import PermanentMailError, TemporaryMailError
from veille.mail.sender import FileSender, Sender, make_sender
from veille.mail.verp import bounce_address
from veille.members.bounces import refused_at_send
from veille.members.mails import links_for
from veille.members.subscriptions import themes_of
from veille.newsletter.deliveries import item_themes, prepare_deliveries
from veille.newsletter.editions import EditionError, get, set_status
from veille.newsletter.render import (
    Renderer,
    edition_message,
    edition_view,
    message_bytes,
    sign_message,
)
from veille.newsletter.send_lock import edition_send_lock
from veille.sources import theme_labels_from

BATCH = 50
RESUMED_NOTE = "interrupted while sending: sent again with the same Message-ID"

SenderFactory = Callable[..., Sender]
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PauseRule:
    """When permanent refusals pause the edition, counted over the current run: at least
    `min_failures` failures that are at least `min_ratio` of the messages tried, or
    `in_a_row` failures in a row. A few dead addresses in a large list never pause it;
    a server refusing everything does so within 20 messages."""

    min_failures: int = 20
    min_ratio: float = 0.10
    in_a_row: int = 50

    def reached(self, tried: int, failed: int, in_a_row: int) -> bool:
        if in_a_row >= self.in_a_row:
            return True
        return failed >= self.min_failures and failed >= self.min_ratio * max(tried, 1)


@dataclass
class SendReport:
    """What a run did (`sent`, `failed`, `skipped` count this run) and where the edition
    stands (`counts`, over all runs). `outcome`: sent | interrupted | paused | busy | dry_run."""

    number: int
    outcome: str
    reason: str = ""
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    resumed: int = 0  # rows a dead run left `sending`, sent again
    pending: int = 0  # still to send after this run
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    connections: int = 0
    files: list[Path] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.outcome in ("sent", "dry_run")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"] = [str(p) for p in self.files]
        data["seconds"] = round(self.seconds, 3)
        return data


# --- the run ----------------------------------------------------------------------------


class _Run:
    """State shared by the workers of one run: counters, the pause rule, the stop flag."""

    def __init__(self, pause: PauseRule) -> None:
        self.pause = pause
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.outcome = ""
        self.reason = ""
        self.sent = self.failed = self.skipped = 0
        self.in_a_row = 0

    def halt(self, outcome: str, reason: str) -> None:
        with self.lock:
            if not self.outcome:
                self.outcome, self.reason = outcome, reason
        self.stop.set()

    def count(self, status: str) -> None:
        with self.lock:
            if status == "sent":
                self.sent += 1
                self.in_a_row = 0
            elif status == "skipped":
                self.skipped += 1
            elif status == "failed":
                self.failed += 1
                self.in_a_row += 1
                tried = self.sent + self.failed
                if self.pause.reached(tried, self.failed, self.in_a_row):
                    trip = (
                        f"{self.failed} of {tried} messages refused by the mail server "
                        f"({self.in_a_row} in a row)"
                    )
                    if not self.outcome:
                        self.outcome, self.reason = "paused", trip
                    self.stop.set()


@dataclass(frozen=True)
class _Job:
    """What every worker needs, read-only."""

    sessions: sessionmaker[Session]
    settings: Settings
    edition_id: int
    number: int
    view: Any
    sender_factory: SenderFactory
    rate: float | None
    clock: Clock
    batch: int


def _worker(job: _Job, run: _Run) -> None:
    renderer = Renderer(job.view, job.settings, track=True)
    with job.sessions() as session, job.sender_factory(job.settings, rate=job.rate) as sender:
        while not run.stop.is_set():
            with session.begin():
                ids = edition_db.claim_deliveries(session, job.edition_id, job.batch, job.clock())
            if not ids:
                return
            with session.begin():
                claimed = edition_db.claimed_with_members(session, ids)
                session.expunge_all()
            untried = {delivery.id for delivery, _ in claimed}
            try:
                for delivery, member in claimed:
                    if run.stop.is_set():
                        break
                    untried.discard(delivery.id)
                    _deliver(job, run, session, renderer, sender, delivery, member)
            finally:
                # Ours and never tried (the run stops, or an error escapes): back to pending
                # now rather than waiting for the next run's recovery.
                with session.begin():
                    edition_db.release_deliveries(
                        session, sorted(untried), job.clock(), uncount=True
                    )


def _finish(
    job: _Job, run: _Run, session: Session, delivery_id: int, status: str, **values: Any
) -> None:
    with session.begin():
        edition_db.finish_delivery(session, delivery_id, status, job.clock(), **values)
    run.count(status)


def _deliver(
    job: _Job,
    run: _Run,
    session: Session,
    renderer: Renderer,
    sender: Sender,
    delivery: DeliveryRow,
    member: MemberRow,
) -> None:
    if member.status != "active":
        _finish(
            job, run, session, delivery.id, "skipped", error=f"member {member.status} at send time"
        )
        return
    links = links_for(job.settings, member, job.clock)  # stamped by the send's clock
    rendered = renderer.render(themes_of(member), links, member.name)
    if rendered is None:
        _finish(job, run, session, delivery.id, "skipped", error="no item in the member's themes")
        return
    try:
        message = sign_message(
            edition_message(
                job.settings, rendered, member.email, member.name, job.number, member.id, links
            ),
            job.settings,
        )
    except ValueError as exc:  # an address the mail library cannot write
        _finish(job, run, session, delivery.id, "failed", error=f"cannot build the mail: {exc}")
        return
    message_id = str(message["Message-ID"])
    return_path = bounce_address(job.settings, job.number, member.id)  # VERP: bounces name us
    try:
        sender.send(message, message_bytes(message), mail_from=return_path)
    except PermanentMailError as exc:
        _finish(job, run, session, delivery.id, "failed", message_id=message_id, error=str(exc))
        with session.begin():  # a 5xx for this address: never mail it again (veille.bounces)
            refused_at_send(session, delivery, member.email, exc, job.clock())
        return
    except TemporaryMailError as exc:
        with session.begin():
            edition_db.release_deliveries(session, [delivery.id], job.clock(), error=str(exc))
        run.halt("interrupted", str(exc))
        return
    _finish(job, run, session, delivery.id, "sent", message_id=message_id)


def send_edition(
    sessions: sessionmaker[Session],
    settings: Settings,
    number: int,
    *,
    actor: str,
    clock: Clock = _utcnow,
    sender_factory: SenderFactory = make_sender,
    dry_run_dir: Path | None = None,
    connections: int | None = None,
    theme_labels: Mapping[str, str] | None = None,
    pause: PauseRule = PauseRule(),
    batch: int = BATCH,
) -> SendReport:
    """Send (or resume sending) edition `number`; see the module docstring. A draft is
    approved on the way. `connections` defaults to `settings.send_connections`."""
    started = time.monotonic()
    labels = (
        dict(theme_labels) if theme_labels is not None else theme_labels_from(settings.config_file)
    )
    if dry_run_dir is not None:
        return _dry_run(sessions, settings, number, labels, dry_run_dir, started, clock)
    workers = max(1, connections or settings.send_connections)
    with sessions() as session:
        edition_id = get(session, number).id
    with edition_send_lock(sessions, edition_id) as acquired:
        if not acquired:
            with sessions() as session:
                counts = edition_db.delivery_counts(session, edition_id)
            return SendReport(
                number,
                "busy",
                f"Edition {number} is being sent by another process; it will finish it.",
                pending=counts["pending"] + counts["sending"],
                counts=counts,
                seconds=time.monotonic() - started,
            )
        with transaction(sessions) as session:
            edition = get(session, number)
            if edition.status == "sent":
                counts = edition_db.delivery_counts(session, edition_id)
                return SendReport(number, "sent", "already sent", counts=counts)
            if not item_themes(session, edition):
                raise EditionError(f"Edition {number} has no item: there is nothing to send.")
            now = clock()
            set_status(session, edition, "sending", actor=actor, now=now)
            resumed = edition_db.reset_interrupted(session, edition_id, now, RESUMED_NOTE)
            prepared = prepare_deliveries(session, edition, now)
            view = edition_view(session, edition, labels)
        rate = settings.send_rate / workers if settings.send_rate > 0 else None
        job = _Job(sessions, settings, edition_id, number, view, sender_factory, rate, clock, batch)
        run = _Run(pause)
        _run_workers(job, run, workers)
        with transaction(sessions) as session:
            edition = get(session, number)
            counts = edition_db.delivery_counts(session, edition_id)
            remaining = counts["pending"] + counts["sending"]
            outcome, reason = run.outcome, run.reason
            if outcome == "paused":
                set_status(session, edition, "paused", actor=actor, now=clock(), reason=reason)
            elif remaining == 0:
                outcome, reason = "sent", ""
                set_status(session, edition, "sent", actor=actor, now=clock(), **counts)
            elif not outcome:  # every worker ran dry while rows were claimed elsewhere
                outcome, reason = "interrupted", f"{remaining} deliveries still pending"
    return SendReport(
        number,
        outcome,
        reason,
        sent=run.sent,
        failed=run.failed,
        skipped=run.skipped + prepared.skipped,
        resumed=resumed,
        pending=remaining,
        counts=counts,
        seconds=time.monotonic() - started,
        connections=workers,
    )


def _run_workers(job: _Job, run: _Run, workers: int) -> None:
    """Run the workers to the end; on an error or Ctrl-C, stop them cleanly (each finishes
    its current message and releases the rest of its claim), then raise."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send") as pool:
        futures = [pool.submit(_worker, job, run) for _ in range(workers)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            run.halt("interrupted", "the send was stopped")
            for future in futures:
                if not future.done():
                    future.exception()
            raise


def _dry_run(
    sessions: sessionmaker[Session],
    settings: Settings,
    number: int,
    labels: Mapping[str, str],
    directory: Path,
    started: float,
    clock: Callable[[], datetime],
) -> SendReport:
    """One .eml per active member with matching items; no delivery nor edition changes."""
    with sessions() as session:
        edition = get(session, number)
        view = edition_view(session, edition, labels)
        members = list(session.query(MemberRow).filter(MemberRow.status == "active"))
        session.expunge_all()
    renderer = Renderer(view, settings, track=True)
    sender = FileSender(directory)
    skipped = 0
    for member in members:
        links = links_for(settings, member, clock)
        rendered = renderer.render(themes_of(member), links, member.name)
        if rendered is None:
            skipped += 1
            continue
        message = edition_message(
            settings, rendered, member.email, member.name, number, member.id, links
        )
        signed = sign_message(message, settings)
        sender.send(signed, message_bytes(signed))
    return SendReport(
        number,
        "dry_run",
        f"{len(sender.written)} messages written to {directory}",
        sent=len(sender.written),
        skipped=skipped,
        seconds=time.monotonic() - started,
        files=list(sender.written),
    )
