"""Whether a collection cycle has anything to do, answered with the database layer only.

The scheduler asks every minute (`collect_due`) and most ticks find nothing due; `veille
collect` from cron is the same. Answering costs one transaction (feeds.yaml synced, one
COUNT), and neither the pipeline nor its workers' modules (httpx, lxml, nh3, trafilatura,
the classifier) are imported, no process is started and no model is loaded: they come
with the first due source (`pipeline.refresh_due`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from veille.db import sources as source_db
from veille.db.engine import transaction
from veille.sources import FeedsConfig


def anything_due(
    sessions: sessionmaker[Session],
    config: FeedsConfig | None,
    now: datetime,
    *,
    keys: Sequence[str] | None = None,
    force: bool = False,
) -> bool:
    """Sync feeds.yaml into the sources table (a source just added is due at once), then
    tell whether a cycle would find a due source."""
    with transaction(sessions) as session:
        if config is not None:
            source_db.sync_sources(session, config.sources, now)
        return source_db.count_due(session, now, keys=keys, force=force) > 0
