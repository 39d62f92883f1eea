"""The cycle summary in the delegate's words: one French sentence for the log (singulars
and plurals agreeing, French decimals), the table's cells in the order of its columns."""

from __future__ import annotations

from veille.collect.cycle_report import COLUMNS, summary_line, table_row

CYCLE = {
    "sources_ok": 11,
    "sources_not_modified": 1,
    "sources_failed": 1,
    "new_articles": 1,
    "duplicates_merged": 12,
    "partial_articles": 0,
    "seconds": 3.249,
    "failures": {"casse": "HTTP 500"},
}


def test_summary_line_is_french_and_agrees_in_number() -> None:
    assert summary_line(CYCLE) == (
        "Collecte : 11 sources lues, 1 inchangée, 1 en échec ; 1 nouvel article, "
        "12 doublons fusionnés, 0 partiel (3,2\u00a0s)."
    )
    many = {**CYCLE, "new_articles": 1500, "sources_not_modified": 2}
    assert "1\u202f500 nouveaux articles" in summary_line(many)
    assert "2 inchangées" in summary_line(many)


def test_table_row_follows_the_columns() -> None:
    row = table_row(CYCLE)
    assert len(row) == len(COLUMNS) + 1
    assert dict(zip([key for key, _ in COLUMNS], row, strict=False)) == {
        "sources_ok": "11",
        "sources_not_modified": "1",
        "sources_failed": "1",
        "new_articles": "1",
        "duplicates_merged": "12",
        "partial_articles": "0",
    }
    assert row[-1] == "3,2\u00a0s"
