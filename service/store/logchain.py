"""The hash chain that makes the decision log tamper-evident.

Every decision and every review is appended together with a ``LogLink``:
the sha256 of the record's canonical content, and a hash over that, the
record's kind and id, and the hash of the link before it, so one chain runs over the whole store in the order records were
written. Changing a record breaks its content hash; inserting or removing a
record, or rewriting a link, breaks the links after it (``service.logaudit``
walks them). The chain proves the log is unchanged up to its head; to prove
that no records were cut off the end, keep the head's hash somewhere else
(``infoshare log verify`` prints it).

Concurrent writers in any number of processes still form one chain, and
the cost on the hot path stays small on each backend:

- sqlite: the record and its link are written in one ``BEGIN IMMEDIATE``
  transaction (the link in one statement that reads the head itself; its
  content hash is computed before the lock). sqlite lets one writer commit
  at a time anyway, so taking its write lock at the start costs nothing
  more, and a 201 means linked.
- PostgreSQL: holding a lock across the commit would make every writer wait
  for every other's disk flush (measured at 8 writers: 1,400 inserts/s fell
  to 200/s). So the record is committed together with a ``log_pending`` row
  holding its content hash, in one statement and without a lock, and then the writer links every
  pending record at once in one call of the ``infoshare_link_pending()``
  function (installed at start; one round trip). It takes a
  transaction-scoped advisory lock keyed on the link table's oid (one chain
  per schema) and commits without waiting for the disk (``synchronous_commit
  off``), so the lock is held for microseconds and never across a flush.
  That is safe: the links and the removal of the pending rows commit
  together, PostgreSQL's log keeps commits in order, and the record's own
  commit did wait for the disk; a crash can only lose the newest links, and
  their records are pending again and linked at the next start. A record
  whose linking failed (the connection dropped right after its commit, say)
  is linked by the next writer or at the next start; until then ``verify``
  counts it as pending. The function computes each link's hash as
  ``link_hash`` does; ``verify`` recomputes every one in Python.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from peewee import Database, Model, PeeweeException, SqliteDatabase

from infoshare.service.store import prepared
from infoshare.service.store.models import Decision, LogLink, LogPending, Review
from infoshare.service.store.writeturn import write_turn

log = logging.getLogger("infoshare.logchain")

GENESIS = "0" * 64
BATCH = 500  # rows per INSERT, well under sqlite's limit on bound values
# The columns each kind's content hash covers (the id is in the link's hash), in the order they
# were defined; a
# column added later is not covered until it is added here (and to old links
# it then would not match), so this list is part of the log's format.
CONTENT_FIELDS: dict[str, tuple[str, ...]] = {
    "decision": (
        "case_ref",
        "facts",
        "verdict",
        "decision",
        "policy_id",
        "policy_version",
        "policy_digest",
        "requested_by",
        "key_name",
        "recorded_at",
    ),
    "review": ("decision_id", "final_decision", "rationale", "key_name", "reviewed_at"),
}
# Columns added after the log's format was set: covered when set, so the content (and hash)
# of a record made before them is what it was.
COVERED_WHEN_SET: dict[str, tuple[str, ...]] = {"decision": ("client",), "review": ("client", "reviewed_by")}
KINDS: dict[type[Decision] | type[Review], str] = {Decision: "decision", Review: "review"}
MODEL_OF = {kind: model for model, kind in KINDS.items()}

Record = TypeVar("Record", Decision, Review)


def content(kind: str, row: Model) -> dict[str, Any]:
    """The record's canonical content: the covered columns, datetimes in ISO 8601."""
    values = {}
    for name in CONTENT_FIELDS[kind]:
        value = getattr(row, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    for name in COVERED_WHEN_SET[kind]:
        if getattr(row, name) is not None:
            values[name] = getattr(row, name)
    return values


def content_hash(values: dict[str, Any]) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def link_hash(seq: int, kind: str, record_id: int, prev_hash: str, content_digest: str) -> str:
    text = f"{seq}\n{kind}\n{record_id}\n{prev_hash}\n{content_digest}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@contextmanager
def chain_lock(database: SqliteDatabase) -> Iterator[None]:
    """sqlite's write lock, taken at the start of the transaction (not at its first write),
    once this process's turn to write has come (``service.writeturn``)."""
    with write_turn(database), database.atomic("IMMEDIATE"):
        yield


def head() -> tuple[int, str]:
    """The last link's (seq, hash), or (0, GENESIS) for an empty chain."""
    last = LogLink.select(LogLink.seq, LogLink.hash).order_by(LogLink.seq.desc()).limit(1).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


def _insert_links(entries: list[tuple[str, int, str]]) -> None:
    """Link (kind, record id, content hash) entries, in order, after the head (under the lock)."""
    seq, prev_hash = head()
    links: list[dict[str, Any]] = []
    for kind, record_id, digest in entries:
        seq += 1
        links.append(
            {
                "seq": seq,
                "kind": kind,
                "record_id": record_id,
                "content_hash": digest,
                "prev_hash": prev_hash,
                "hash": link_hash(seq, kind, record_id, prev_hash, digest),
            }
        )
        prev_hash = links[-1]["hash"]
    for start in range(0, len(links), BATCH):
        LogLink.insert_many(links[start : start + BATCH]).execute()


def append(model: type[Record], **fields: Any) -> Record:
    """Create a decision or review and chain it (see the module's docstring for how, per backend).

    Raises a peewee error if the record could not be committed; once it is
    committed it is returned, linked or (PostgreSQL, rarely) pending.
    """
    database = model._meta.database
    kind = KINDS[model]
    row = model(**fields)  # defaults (the timestamp) filled in, so the content is final
    digest = content_hash(content(kind, row))  # hashed before any lock is taken
    if isinstance(database, SqliteDatabase):
        with chain_lock(database):
            row.id = prepared.insert(model, row)
            database.execute_sql(LINK_ONE, (kind, row.id, digest, kind, row.id, digest))
        return row
    params: list[Any]  # declared: mypy does not infer it through the constrained Record type
    statement, params = prepared.insert_statement(model, row)
    cursor = database.execute_sql(  # one statement, one round trip, committed at once
        f"WITH added AS ({statement} RETURNING id) INSERT INTO log_pending (kind, record_id, content_hash) "
        "SELECT %s, id, %s FROM added RETURNING record_id",
        [*params, kind, digest],
    )
    row.id = cursor.fetchone()[0]
    try:
        link_pending(database)
    except PeeweeException as exc:
        log.error(
            "%s %s is recorded; linking it failed (%s) and is left to the next writer", kind, row.id, type(exc).__name__
        )
    return row


def link_pending(database: Database) -> None:
    """Link every pending record into the chain, oldest first."""
    if not isinstance(database, SqliteDatabase):
        database.execute_sql("SELECT infoshare_link_pending()")
        return
    with chain_lock(database):
        pending = list(LogPending.select().order_by(LogPending.id))
        _insert_links([(entry.kind, entry.record_id, entry.content_hash) for entry in pending])
        if pending:  # nothing else writes while the lock is held
            LogPending.delete().where(LogPending.id <= pending[-1].id).execute()


def adopt_unchained(database: Database) -> None:
    """Chain the records of a store made before the chain existed, oldest first.

    Called only when the link table is first created: afterwards an unchained
    record is one written around the service, and verification reports it.
    """
    rows = [*Decision.select(), *Review.select()]
    rows.sort(
        key=lambda row: (
            row.recorded_at if isinstance(row, Decision) else row.reviewed_at,
            KINDS[type(row)] == "review",
            row.id,
        )
    )
    pending = [
        {"kind": KINDS[type(row)], "record_id": row.id, "content_hash": content_hash(content(KINDS[type(row)], row))}
        for row in rows
    ]
    with database.atomic():
        for start in range(0, len(pending), BATCH):
            LogPending.insert_many(pending[start : start + BATCH]).execute()
    link_pending(database)


# sqlite: link one record after the head in one statement (under the write lock);
# infoshare_link_hash is link_hash, registered on the connection by install().
LINK_ONE = f"""
INSERT INTO log_link (seq, kind, record_id, content_hash, prev_hash, hash)
SELECT head.seq + 1, ?, ?, ?, head.hash, infoshare_link_hash(head.seq + 1, ?, ?, head.hash, ?)
FROM (SELECT seq, hash FROM log_link UNION ALL SELECT 0, '{GENESIS}' ORDER BY seq DESC LIMIT 1) AS head
"""

LINK_PENDING_FUNCTION = """
CREATE OR REPLACE FUNCTION infoshare_link_pending() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash text;
    entry record;
    linked bigint[] := '{}';
BEGIN
    PERFORM pg_advisory_xact_lock('log_link'::regclass::oid::bigint);
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT seq, hash INTO last_seq, last_hash FROM log_link ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    FOR entry IN SELECT id, kind, record_id, content_hash FROM log_pending ORDER BY id LOOP
        last_seq := last_seq + 1;
        INSERT INTO log_link (seq, kind, record_id, content_hash, prev_hash, hash)
        VALUES (last_seq, entry.kind, entry.record_id, entry.content_hash, last_hash,
                encode(sha256(convert_to(last_seq || E'\\n' || entry.kind || E'\\n' || entry.record_id
                                         || E'\\n' || last_hash || E'\\n' || entry.content_hash, 'UTF8')),
                       'hex'))
        RETURNING hash INTO last_hash;
        linked := linked || entry.id;
    END LOOP;
    DELETE FROM log_pending WHERE id = ANY(linked);
    RETURN cardinality(linked);
END $$
"""


def install(database: Database) -> None:
    """Give the store what linking needs: link_hash as an SQL function on sqlite
    connections, the linking function in PostgreSQL."""
    if isinstance(database, SqliteDatabase):
        database.register_function(link_hash, "infoshare_link_hash", 5, deterministic=True)
    else:
        database.execute_sql(LINK_PENDING_FUNCTION)
