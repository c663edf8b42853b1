"""Statements run on every request, as server-side prepared statements on PostgreSQL.

psycopg2 sends every statement as text with its values in it, so the server
parses and plans it again each time; for a one-row lookup by primary key
that is most of the statement's cost. On PostgreSQL such a statement is
therefore run as ``EXECUTE name(values)`` of a statement ``PREPARE``d in the
session, and prepared on first use in each session: when the server says
the session has no such statement (SQLSTATE 26000: a new session, or a
pooler that handed over another server session) it is prepared and run
again. sqlite has no such step (its statements are compiled in process and
cached by the driver), so there the statement runs as written.
"""

from __future__ import annotations

from typing import Any

from peewee import Database, DatabaseError, PostgresqlDatabase

UNDEFINED_PREPARED_STATEMENT = "26000"


def execute(database: Database, name: str, sql: str, params: list[Any]) -> Any:
    """Run ``sql`` (parameters written ``%s``, as peewee's PostgreSQL dialect writes them) with
    ``params``; on PostgreSQL as the prepared statement ``name``. Returns the cursor."""
    if not isinstance(database, PostgresqlDatabase):
        return database.execute_sql(sql.replace("%s", database.param), params)
    call = f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}"
    try:
        return database.execute_sql(call, params)
    except DatabaseError as exc:
        if getattr(getattr(exc, "orig", None), "pgcode", None) != UNDEFINED_PREPARED_STATEMENT:
            raise
    numbered = sql
    for n in range(1, len(params) + 1):
        numbered = numbered.replace("%s", f"${n}", 1)
    database.execute_sql(f"PREPARE {name} AS {numbered.replace('%', '%%')}")
    return database.execute_sql(call, params)
