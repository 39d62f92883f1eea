"""The tables defined as Core in `db/schema.py` (what a nothing-due check reads, and what a
cycle of 304s writes, without mapping a class) and their ORM mapping agree, and the
modules of that check import no ORM."""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest
from sqlalchemy import Table
from sqlalchemy.orm import Mapped

from tests.conftest import REPO
from veille.db import schema
from veille.db.tables import Base, CycleRow, DataVersionRow, SourceRow


@pytest.mark.parametrize(
    ("row", "table"),
    [
        (SourceRow, schema.SOURCES),
        (CycleRow, schema.CYCLES),
        (DataVersionRow, schema.DATA_VERSION),
    ],
)
def test_mapped_annotations_are_the_core_columns_with_their_nullability(
    row: type, table: Table
) -> None:
    # A `__table__` mapping takes its columns from the table: an annotation naming no column
    # would be silently unmapped, a missing one leaves a column untyped.
    assert row.__table__ is table  # type: ignore[attr-defined]
    module = sys.modules[row.__module__]
    hints = {
        name: hint
        for name, hint in typing.get_type_hints(
            row, globalns=vars(module), include_extras=True
        ).items()
        if typing.get_origin(hint) is Mapped
    }
    assert set(hints) == set(table.c.keys())
    for column in table.c:
        (inner,) = typing.get_args(hints[column.key])
        optional = type(None) in typing.get_args(inner)
        assert optional == bool(column.nullable), column.key
    # data_version.watch reads it from the rows a flush changed
    assert row.__tablename__ == table.name  # type: ignore[attr-defined]


def test_every_core_table_is_in_the_metadata_alembic_compares() -> None:
    assert Base.metadata is schema.METADATA
    for table in (schema.SOURCES, schema.FEEDS_SYNC, schema.CYCLES, schema.DATA_VERSION):
        assert Base.metadata.tables[table.name] is table


def test_the_nothing_due_check_imports_no_orm() -> None:
    code = (
        "import sys\n"
        "import veille.collect.due, veille.cli.common\n"
        "print(sorted(m for m in sys.modules if m == 'sqlalchemy.orm' or "
        "m == 'veille.db.tables'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    assert done.stdout.strip() == "[]"
    # The control: the sources' sync (a changed feeds.yaml) does need the mapped tables.
    control = subprocess.run(
        [sys.executable, "-c", code.replace("veille.cli.common", "veille.db.sources")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    assert control.stdout.strip() == "['sqlalchemy.orm', 'veille.db.tables']"
