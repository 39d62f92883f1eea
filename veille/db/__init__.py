"""Storage: the only package that writes SQL."""

# Mapped outside tables.py (the module that owns its queries): imported here so that every
# use of `Base.metadata` (Alembic, schema checks) sees the table.
from veille.db import feeds_sync as _feeds_sync  # noqa: F401
from veille.db import rate_limits as _rate_limits  # noqa: F401
