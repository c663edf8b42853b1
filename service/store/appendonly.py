"""Database triggers that refuse UPDATE and DELETE on the decision log's tables and on the
policy versions its decisions were made under.

The service has no route that changes or removes a decision or review, and
these triggers make the database itself refuse to, whoever asks: on sqlite
and on PostgreSQL (where TRUNCATE is refused too). They are (re)installed at
every start, so a store whose triggers were dropped gets them back; what was
changed while they were gone is what ``infoshare log verify`` finds.
"""

from __future__ import annotations

from peewee import Database, SqliteDatabase

from infoshare.service.store.models import APPEND_ONLY

REFUSAL = "is append-only: its records are never changed or removed"


def install(database: Database) -> None:
    tables = [model._meta.table_name for model in APPEND_ONLY]
    if isinstance(database, SqliteDatabase):
        statements = [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} {REFUSAL}'); END"
            for table in tables
            for op in ("UPDATE", "DELETE")
        ]
    else:
        statements = [  # '%%' is the driver's escape for plpgsql's '%' placeholder
            "CREATE OR REPLACE FUNCTION infoshare_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '%% {REFUSAL}', TG_TABLE_NAME; END $$",
            *(
                f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION infoshare_append_only()"
                for table in tables
            ),
            *(
                f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION infoshare_append_only()"
                for table in tables
            ),
        ]
    with database.atomic():
        for statement in statements:
            database.execute_sql(statement)
