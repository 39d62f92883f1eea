"""What a collection cycle did: one `SourceReport` per source, summed by `CycleSummary`.

Plain data in its own module so that a cycle with nothing due can report without importing
the pipeline (`collect/due.py`); `cycle_report.py` words these figures for the delegate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SourceReport:
    key: str
    status: str = "ok"  # ok | not_modified | failed
    new: int = 0
    relisted: int = 0
    merged: int = 0
    partial: int = 0
    error: str | None = None
    warning: str | None = None


@dataclass
class CycleSummary:
    started_at: datetime
    finished_at: datetime | None = None
    sources: list[SourceReport] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for s in self.sources if s.status == status)

    @property
    def new_articles(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def duplicates_merged(self) -> int:
        return sum(s.relisted + s.merged for s in self.sources)

    def as_dict(self) -> dict[str, object]:
        return {
            "sources_ok": self.count("ok"),
            "sources_not_modified": self.count("not_modified"),
            "sources_failed": self.count("failed"),
            "new_articles": self.new_articles,
            "duplicates_merged": self.duplicates_merged,
            "partial_articles": sum(s.partial for s in self.sources),
            "seconds": round(self.seconds, 3),
            "failures": {s.key: s.error for s in self.sources if s.status == "failed"},
        }
