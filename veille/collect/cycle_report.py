"""A collection cycle's summary in the delegate's words: the column labels of the terminal
table (`veille collect`, `veille demo`) and the one line the scheduler logs after a cycle.

The figures come from `CycleSummary.as_dict()`, whose keys are the `--json` contract and
stay English; only what a person reads is French. Kept as plain functions over that dict,
so the terminal and the log cannot say the same cycle in two ways.
"""

from __future__ import annotations

from collections.abc import Mapping

from veille.frenchformat import number

TITLE = "Collecte"
FAILED_TITLE = "Sources en échec"
# (key of as_dict(), column label), in the table's order; the duration comes last.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("sources_ok", "sources lues"),
    ("sources_not_modified", "inchangées"),
    ("sources_failed", "en échec"),
    ("new_articles", "nouveaux articles"),
    ("duplicates_merged", "doublons fusionnés"),
    ("partial_articles", "partiels"),
)
DURATION = "durée"


def seconds_text(seconds: float) -> str:
    """`3,2 s`: one decimal, French comma."""
    return f"{seconds:.1f}".replace(".", ",") + " s"


def table_row(data: Mapping[str, object]) -> list[str]:
    """The table's cells for one cycle, in the order of COLUMNS then the duration."""
    return [number(int(str(data[key]))) for key, _ in COLUMNS] + [
        seconds_text(float(str(data["seconds"])))
    ]


def _count(value: object, one: str, many: str) -> str:
    amount = int(str(value))
    return f"{number(amount)} {one if amount <= 1 else many}"


def summary_line(data: Mapping[str, object]) -> str:
    """One French sentence for the log, e.g. `Collecte : 11 sources lues, 0 inchangée,
    1 en échec ; 4 nouveaux articles, 1 doublon fusionné, 0 partiel (3,2 s).`"""
    return (
        "Collecte : "
        f"{_count(data['sources_ok'], 'source lue', 'sources lues')}, "
        f"{_count(data['sources_not_modified'], 'inchangée', 'inchangées')}, "
        f"{number(int(str(data['sources_failed'])))} en échec ; "
        f"{_count(data['new_articles'], 'nouvel article', 'nouveaux articles')}, "
        f"{_count(data['duplicates_merged'], 'doublon fusionné', 'doublons fusionnés')}, "
        f"{_count(data['partial_articles'], 'partiel', 'partiels')} "
        f"({seconds_text(float(str(data['seconds'])))})."
    )
