"""`veille members import`: apply the lines of a membership CSV to the members table.

Idempotent: an address (whatever its case) is one member; a re-import updates the name,
organisation and, when the line gives them, the themes — never the member's own choices
otherwise. Someone who unsubscribed stays unsubscribed: a membership list is not consent
to write again. Lines are applied in batches, so a 100,000-line file streams.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from veille.db import members as member_db
from veille.members.csvfile import LineError, MemberLine
from veille.members.subscriptions import CONSENT_WORDING, normalise_themes

BATCH = 500


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_unsubscribed: int = 0
    errors: list[LineError] = field(default_factory=list)
    to_confirm: list[int] = field(default_factory=list)  # member ids awaiting the opt-in mail

    @property
    def valid(self) -> int:
        return self.created + self.updated + self.unchanged + self.kept_unsubscribed


def import_lines(
    session: Session,
    lines: Iterable[MemberLine | LineError],
    *,
    now: datetime,
    require_confirmation: bool = False,
) -> ImportReport:
    """Apply every valid line, collect every invalid one. The caller owns the transaction
    (a dry run rolls it back)."""
    report = ImportReport()
    batch: list[MemberLine] = []
    with member_db.bulk_lookups(session):
        for item in lines:
            if isinstance(item, LineError):
                report.errors.append(item)
                continue
            batch.append(item)
            if len(batch) >= BATCH:
                _apply(session, batch, now, require_confirmation, report)
                batch = []
        if batch:
            _apply(session, batch, now, require_confirmation, report)
    return report


def _apply(
    session: Session,
    batch: list[MemberLine],
    now: datetime,
    require_confirmation: bool,
    report: ImportReport,
) -> None:
    existing = member_db.existing_by_key(session, [line.key for line in batch])
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    new_keys: list[str] = []
    for line in batch:
        themes = normalise_themes(line.themes) if line.themes is not None else None
        row = existing.get(line.key)
        if row is None:
            inserts.append(
                {
                    "email": line.email,
                    "email_key": line.key,
                    "name": line.name,
                    "organisation": line.organisation,
                    "status": "pending" if require_confirmation else "active",
                    "themes": themes,
                    "consent_at": None if require_confirmation else now,
                    "consent_method": None if require_confirmation else "import",
                    "consent_wording": None if require_confirmation else CONSENT_WORDING,
                    "consent_ip": None,
                    "token_salt": member_db.new_salt(),
                    "created_at": now,
                    "updated_at": now,
                    "confirmed_at": None,
                    "unsubscribed_at": None,
                    "last_activity_at": None,
                }
            )
            if require_confirmation:
                new_keys.append(line.key)
            continue
        if row.status == "unsubscribed":
            report.kept_unsubscribed += 1
            continue
        change: dict[str, Any] = {}
        if line.name and line.name != row.name:
            change["name"] = line.name
        if line.organisation and line.organisation != row.organisation:
            change["organisation"] = line.organisation
        if line.themes is not None and themes != row.themes:
            change["themes"] = themes
        if row.status == "pending" and not require_confirmation:
            change.update(
                status="active",
                consent_at=now,
                consent_method="import",
                consent_wording=CONSENT_WORDING,
            )
        if change:
            change.update(id=row.id, updated_at=now)
            updates.append(change)
            report.updated += 1
        else:
            report.unchanged += 1
        if row.status == "pending" and require_confirmation:
            report.to_confirm.append(row.id)
    member_db.insert_many(session, inserts)
    member_db.update_many(session, updates)
    report.created += len(inserts)
    if new_keys:
        created = member_db.existing_by_key(session, new_keys)
        report.to_confirm.extend(created[key].id for key in new_keys if key in created)
    session.expunge_all()
