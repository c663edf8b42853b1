"""Idempotency-Key bookkeeping: find the decision a key made, and claim a key while it is answered.

The key and the digest of the request are written in the decision's own
row (``Decision.idempotency_key``, ``Decision.request_digest``), in the same
transaction as the record, so whatever happens after the commit (a lost
connection, the server killed before it answered), a retry finds it. While
a request is between its claim and its record, its claim row tells others
it is in flight.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import Database, SqliteDatabase

from infoshare.service.store.models import Decision, IdempotencyClaim, utcnow
from infoshare.service.store.writeturn import write_turn

IN_FLIGHT_SECONDS = 30
"""A claim older than this is one a killed server left: no request runs so long (the
server's worker timeout is as long, and the store's busy timeout is 5 s)."""


def recorded_under(client: str, key: str, since: datetime) -> Decision | None:
    """The latest decision ``client`` recorded with ``key`` at or after ``since``."""
    return (
        Decision.select()
        .where((Decision.client == client) & (Decision.idempotency_key == key) & (Decision.recorded_at >= since))
        .order_by(Decision.id.desc())
        .first()
    )


def claim(client: str, key: str) -> bool:
    """Take the key for a request about to be answered; False if another request holds it."""
    now = utcnow()
    stale = now - timedelta(seconds=IN_FLIGHT_SECONDS)
    query = IdempotencyClaim.insert(client=client, key=key, claimed_at=now).on_conflict(
        conflict_target=[IdempotencyClaim.client, IdempotencyClaim.key],
        update={IdempotencyClaim.claimed_at: now},
        where=IdempotencyClaim.claimed_at < stale,
    )
    database: Database = IdempotencyClaim._meta.database
    sql, params = query.sql()
    if not isinstance(database, SqliteDatabase):
        sql = sql.split(" RETURNING ")[0]  # peewee asks PostgreSQL for the id; the row count is what tells
    with write_turn(database):
        return database.execute_sql(sql, params).rowcount == 1


def release(client: str, key: str) -> None:
    """The request under the key has ended (recorded or failed)."""
    database: Database = IdempotencyClaim._meta.database
    with write_turn(database):
        IdempotencyClaim.delete().where((IdempotencyClaim.client == client) & (IdempotencyClaim.key == key)).execute()
