"""`python -m veille.db.migrate`: the schema brought to head in a process of its own.

`engine.upgrade_apart` runs it, so that the collector's and the scheduler's processes
never import Alembic (with Mako and Pygments, ~10 MB they would keep). The database URL
comes in MIGRATE_URL_VARIABLE; a failure is one line on stderr and exit code 1, which the
parent raises as the `DatabaseError` it is.
"""

from __future__ import annotations

import os
import sys

from veille.db.engine import MIGRATE_URL_VARIABLE, make_engine, upgrade
from veille.errors import DatabaseError


def main() -> int:
    url = os.environ.get(MIGRATE_URL_VARIABLE)
    if not url:
        print(f"{MIGRATE_URL_VARIABLE} is not set.", file=sys.stderr)
        return 2
    try:
        engine = make_engine(url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
    except DatabaseError as exc:
        print(str(exc).replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
