"""PostgreSQL: record a decision or review, queue its link and link it, in two round trips.

Recording on PostgreSQL is three steps (``service.logchain``): commit the
record with its ``log_pending`` row (waiting for the disk), then link every
pending record under the chain's advisory lock (not waiting for the disk).
Sent as separate statements they cost a round trip each, and each statement
was parsed and planned again on every request: at 8 clients the database
sessions spent ~0.3 ms of CPU a decision on the INSERT and the linking call
alone, with the machine's two cores shared with the service itself.

So each kind of record has a procedure, made at start from its model's
columns: ``CALL infoshare_append_decision(<columns>, <content hash>, <seal>,
<id>, NULL)`` inserts the record and its pending row, commits (the commit a 201
waits for), then links in a transaction of its own, and answers
whether it was linked. The id is drawn from the table's sequence first (the
other round trip), since the link's seal (``service.store.linkseal``) covers it
and is made here, with a secret the database must never see. PL/pgSQL keeps each statement's plan for the
session, so after a session's first call nothing is planned again; that is
what server-side prepared statements would buy, without a PREPARE per
session to track.

The linking runs inside its own exception block: a record that is committed
is answered even if linking fails (it stays pending and the next writer, or
the next start, links it), as before. A procedure commits only when called
outside a transaction, which is how the service records: a call inside
``atomic()`` fails with a store error instead of committing early.
"""

from __future__ import annotations

from typing import Any, cast

from peewee import Database, Model

from infoshare.service.store import linkseal, prepared


def procedure_name(model: type[Model]) -> str:
    return f"infoshare_append_{model._meta.table_name}"


def _columns(model: type[Model]) -> list[Any]:
    """The model's fields a record is written with: all but the generated id."""
    return [field for field in model._meta.sorted_fields if field is not model._meta.primary_key]


def procedure(model: type[Model], kind: str) -> str:
    """The CREATE PROCEDURE for ``model``'s records, parameters typed as their columns
    (``%%TYPE``: the driver reads ``%%`` as ``%``, as it binds parameters, even none)."""
    table = model._meta.table_name
    columns = _columns(model)
    parameters = ", ".join(f"p_{field.column_name} {table}.{field.column_name}%%TYPE" for field in columns)
    names = ", ".join(f'"{field.column_name}"' for field in columns)
    values = ", ".join(f"p_{field.column_name}" for field in columns)
    return f"""
CREATE OR REPLACE PROCEDURE {procedure_name(model)}({parameters}, p_content_hash text, p_seal text,
                                                    INOUT p_id bigint, INOUT p_linked boolean)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "{table}" (id, {names}) VALUES (p_id, {values});
    INSERT INTO log_pending (kind, record_id, content_hash, seal) VALUES ('{kind}', p_id, p_content_hash, p_seal);
    COMMIT;
    BEGIN
        PERFORM infoshare_link_pending();
        p_linked := true;
    EXCEPTION WHEN OTHERS THEN
        p_linked := false;
    END;
END $$
"""


def install(database: Database, kinds: dict[Any, str]) -> None:
    """(Re)make each kind's procedure; a newer server's columns make a procedure of its own
    signature, so servers of two versions sharing a store each call their own."""
    for model, kind in kinds.items():
        database.execute_sql(procedure(model, kind))


def append(model: type[Model], kind: str, row: Model, digest: str, case_ref: str | None) -> bool:
    """Record ``row`` (its fields as set, defaults filled) with its content hash; set its id.

    Returns whether it was linked too. Raises a peewee error if the record was not
    committed, or if the answer was lost after it was (the connection dropped): then it
    is stored but not acknowledged.
    """
    database = model._meta.database
    columns = _columns(model)
    call = prepared.sql(
        database,
        (model, "append"),
        lambda: f"CALL {procedure_name(model)}({', '.join(['%s'] * (len(columns) + 3))}, NULL)",
    )
    draw = prepared.sql(
        database, (model, "id"), lambda: f"SELECT nextval(pg_get_serial_sequence('\"{model._meta.table_name}\"', 'id'))"
    )
    (number,) = database.execute_sql(draw).fetchone()  # the id, known before the record commits, is sealed
    values = [field.db_value(row.__data__.get(field.name)) for field in columns]
    seal = linkseal.seal(kind, number, digest, case_ref)
    _, linked = database.execute_sql(call, [*values, digest, seal, number]).fetchone()
    cast(Any, row).id = number  # decisions and reviews: peewee's stubs do not see the field
    return bool(linked)
