"""Storage: the only package that writes SQL.

Importing it imports nothing: a nothing-due `veille collect` uses `db.schema`, `db.engine`,
`db.feeds_sync` and `db.due` only, without the ORM (`tables.py` registers every table in
`Base.metadata` for Alembic, `create_all` and the schema checks).
"""
