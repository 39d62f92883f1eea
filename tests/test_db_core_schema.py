"""The tables defined as Core in `db/schema.py` (what a nothing-due check reads without the
ORM) and their ORM mapping agree, and the modules of that check import no ORM."""

from __future__ import annotations

import subprocess
import sys
import typing

from sqlalchemy.orm import Mapped

from tests.conftest import REPO
from veille.db import schema
from veille.db.tables import Base, SourceRow


def _annotations(cls: type) -> dict[str, typing.Any]:
    import veille.db.tables as module

    return typing.get_type_hints(cls, globalns=vars(module), include_extras=True)


def test_source_row_annotations_are_its_columns_with_their_nullability() -> None:
    # A `__table__` mapping takes its columns from the table: an annotation naming no column
    # would be silently unmapped, a missing one leaves a column untyped.
    assert SourceRow.__table__ is schema.SOURCES
    hints = {
        name: hint
        for name, hint in _annotations(SourceRow).items()
        if typing.get_origin(hint) is Mapped
    }
    assert set(hints) == set(schema.SOURCES.c.keys())
    for column in schema.SOURCES.c:
        (inner,) = typing.get_args(hints[column.key])
        optional = type(None) in typing.get_args(inner)
        assert optional == bool(column.nullable), column.key
    assert SourceRow.__tablename__ == "sources"  # data_version.watch reads it from rows


def test_every_core_table_is_in_the_metadata_alembic_compares() -> None:
    assert Base.metadata is schema.METADATA
    for table in (schema.SOURCES, schema.FEEDS_SYNC):
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
    # The control: the claim's queries do need the mapped tables.
    control = subprocess.run(
        [sys.executable, "-c", code.replace("veille.cli.common", "veille.db.leases")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    assert control.stdout.strip() == "['sqlalchemy.orm', 'veille.db.tables']"
