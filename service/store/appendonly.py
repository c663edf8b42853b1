"""Database triggers that refuse UPDATE and DELETE on the decision log's tables and on the
policy versions its decisions were made under.

The service has no route that changes or removes a decision or review, and
these triggers make the database itself refuse to, whoever asks: on sqlite
and on PostgreSQL (where TRUNCATE is refused too). The service's start
(re)installs them and logs each one it had to put back; ``infoshare log
verify`` installs nothing and reports a trigger that is missing, disabled or
altered (``missing``), since one that was gone is the trace of a store
opened to changes, and what was changed meanwhile is what the chain finds.
"""

from __future__ import annotations

from peewee import Database, SqliteDatabase

from infoshare.service.store.models import APPEND_ONLY

REFUSAL = "is append-only: its records are never changed or removed"
# '%%' is the driver's escape for plpgsql's '%' placeholder
FUNCTION_BODY = f" BEGIN RAISE EXCEPTION '%% {REFUSAL}', TG_TABLE_NAME; END "
# PostgreSQL: trigger name suffix -> what pg_get_triggerdef says of it
PG_TRIGGERS = {
    "append_only": "BEFORE DELETE OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION infoshare_append_only()",
    "no_truncate": "BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION infoshare_append_only()",
}


def _tables() -> list[str]:
    return [model._meta.table_name for model in APPEND_ONLY]


def _sqlite_triggers() -> dict[str, str]:
    """Name -> the statement as sqlite keeps it (without IF NOT EXISTS)."""
    return {
        f"{table}_no_{op.lower()}": f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} {REFUSAL}'); END"
        for table in _tables()
        for op in ("UPDATE", "DELETE")
    }


def install(database: Database) -> list[str]:
    """Put every trigger in place; returns what was not in place before (``missing``)."""
    absent = missing(database)
    if isinstance(database, SqliteDatabase):
        statements = [
            *(f"DROP TRIGGER IF EXISTS {name}" for name in _altered_sqlite(database)),
            *(
                statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1)
                for statement in _sqlite_triggers().values()
            ),
        ]
    else:
        statements = [
            "CREATE OR REPLACE FUNCTION infoshare_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$${FUNCTION_BODY}$$",
            *(
                f"CREATE OR REPLACE TRIGGER {table}_{suffix} {definition.format(table=table)}"
                for table in _tables()
                for suffix, definition in PG_TRIGGERS.items()
            ),
            *(f"ALTER TABLE {table} ENABLE TRIGGER USER" for table in _tables()),
        ]
    with database.atomic():
        for statement in statements:
            database.execute_sql(statement)
    return absent


def _altered_sqlite(database: Database) -> list[str]:
    present = dict(database.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    return [name for name, statement in _sqlite_triggers().items() if name in present and present[name] != statement]


def missing(database: Database) -> list[str]:
    """Each append-only trigger (and on PostgreSQL their function) that is not as ``install``
    makes it, in words: "trigger decision_no_update is missing", "... is disabled", "... was altered"."""
    if isinstance(database, SqliteDatabase):
        present = dict(database.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
        return [
            f"trigger {name} is missing" if name not in present else f"trigger {name} was altered"
            for name, statement in _sqlite_triggers().items()
            if present.get(name) != statement
        ]
    found: list[str] = []
    source = database.execute_sql(
        "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.proname = 'infoshare_append_only' AND n.nspname = current_schema()"
    ).fetchone()
    if source is None:
        found.append("function infoshare_append_only is missing")
    elif source[0] != FUNCTION_BODY.replace("%%", "%"):
        found.append("function infoshare_append_only was altered")
    schema, rows = (
        database.execute_sql("SELECT current_schema()").fetchone()[0],
        database.execute_sql(
            "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid) FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT t.tgisinternal"
        ).fetchall(),
    )
    present = {name: (enabled, shown.replace(f"{schema}.", "")) for name, enabled, shown in rows}
    for table in _tables():
        for suffix, definition in PG_TRIGGERS.items():
            name = f"{table}_{suffix}"
            if name not in present:
                found.append(f"trigger {name} is missing")
            elif present[name][0] == "D":
                found.append(f"trigger {name} is disabled")
            elif present[name][1] != f"CREATE TRIGGER {name} {definition.format(table=table)}":
                found.append(f"trigger {name} was altered")
    return found
