"""The hash chain that makes the decision log tamper-evident.

Everything that decides is appended together with a ``LogLink``: decisions
and reviews, the policy versions (their full text) and their activations,
clients, and key creations and revocations (``CONTENT_FIELDS`` says what of
each is covered). A link holds the sha256 of the record's canonical content, and a hash over that, the
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
  holding its content hash, without a lock, and then the writer links every
  pending record at once with the ``infoshare_link_pending()`` function
  (installed at start); both steps are one procedure call, one round trip
  after the one that draws the record's id, which its link's seal covers
  (``service.store.pgappend``). The linking takes a
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
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from peewee import Database, Model, ModelSelect, PeeweeException, SqliteDatabase, fn

from infoshare.service.store import linkseal, pgappend, prepared
from infoshare.service.store.canonicaljson import canonical
from infoshare.service.store.models import (
    ApiKey,
    Client,
    Decision,
    LogLink,
    LogPending,
    LogScope,
    PolicyActivation,
    PolicyVersion,
    Review,
)
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
    "policy_version": ("digest", "policy_id", "version", "files", "stored_at"),  # its full text
    "activation": ("digest", "activated_by", "activated_at"),
    "client": ("name", "role", "created_at"),
    "key": ("name", "role", "key_hash", "created_at"),
    "key_revocation": ("name", "revoked_at"),  # the key's row again, once revoked
    "scope": ("kinds", "adopted", "recorded_at"),
}
# Columns added after the log's format was set: covered when set, so the content (and hash)
# of a record made before them is what it was.
COVERED_WHEN_SET: dict[str, tuple[str, ...]] = {
    "decision": ("client",),
    "review": ("client", "reviewed_by"),
    "activation": ("tests", "signature"),
    "key": ("key_id", "salt", "client_id"),
}
MODEL_OF: dict[str, type[Model]] = {
    "decision": Decision,
    "review": Review,
    "policy_version": PolicyVersion,
    "activation": PolicyActivation,
    "client": Client,
    "key": ApiKey,
    "key_revocation": ApiKey,
    "scope": LogScope,
}
FIRST_KINDS = ("decision", "review")
"""What a chain made before ``LogScope`` covers: the kinds it was first made for."""
WHEN: dict[str, str] = {
    "decision": "recorded_at",
    "review": "reviewed_at",
    "policy_version": "stored_at",
    "activation": "activated_at",
    "client": "created_at",
    "key": "created_at",
    "key_revocation": "revoked_at",
    "scope": "recorded_at",
}
"""The column that says when a record of each kind was made: the order existing ones are adopted in."""

Record = TypeVar("Record", Decision, Review)


def record_id(kind: str, row: Any) -> int:
    """The id a link names its record by: the row's id, or for a policy version (keyed by its
    digest) the digest's first 60 bits, which fit the link's integer column."""
    return int(row.digest[:15], 16) if kind == "policy_version" else row.id


def rows_of(kind: str, ids: list[int]) -> dict[int, Model]:
    """The records of ``kind`` with these link ids, by id (absent ones left out)."""
    model: Any = MODEL_OF[kind]
    if kind == "policy_version":
        query = model.select().where(fn.SUBSTR(PolicyVersion.digest, 1, 15).in_([f"{i:015x}" for i in ids]))
    else:
        query = model.select().where(model.id.in_(ids))
        if kind == "key_revocation":
            query = query.where(ApiKey.revoked_at.is_null(False))
    return {record_id(kind, row): row for row in query}


def records_of(kind: str) -> ModelSelect:
    """Every record of ``kind`` in the store, as a query."""
    query = MODEL_OF[kind].select()
    return query.where(ApiKey.revoked_at.is_null(False)) if kind == "key_revocation" else query


def content(kind: str, row: Model) -> dict[str, Any]:
    """The record's canonical content: the covered columns, datetimes in ISO 8601."""
    values = {}
    for name in CONTENT_FIELDS[kind]:
        value = getattr(row, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    for name in COVERED_WHEN_SET.get(kind, ()):
        if getattr(row, name) is not None:
            values[name] = getattr(row, name)
    return values


def case_of(kind: str, row: Any) -> str | None:
    """The case a record belongs to, which its link's seal covers: a decision's own, a review's
    decision's; None for the other kinds."""
    if kind == "decision":
        return row.case_ref
    return row.decision.case_ref if kind == "review" else None


def content_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


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


def _insert_links(entries: list[tuple[str, int, str, str | None]]) -> None:
    """Link (kind, record id, content hash, seal) entries, in order, after the head (under the lock)."""
    seq, prev_hash = head()
    links: list[dict[str, Any]] = []
    for kind, record_id, digest, seal in entries:
        seq += 1
        links.append(
            {
                "seq": seq,
                "kind": kind,
                "record_id": record_id,
                "content_hash": digest,
                "prev_hash": prev_hash,
                "hash": link_hash(seq, kind, record_id, prev_hash, digest),
                "seal": seal,
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
    kind = "decision" if model is Decision else "review"
    row = model(**fields)  # defaults (the timestamp) filled in, so the content is final
    digest, case = content_hash(content(kind, row)), case_of(kind, row)  # before any lock is taken
    if isinstance(database, SqliteDatabase):
        with chain_lock(database):
            row.id = prepared.insert(model, row)
            seal = linkseal.seal(kind, row.id, digest, case)
            database.execute_sql(LINK_ONE, (kind, row.id, digest, kind, row.id, digest, seal))
        return row
    if not pgappend.append(model, kind, row, digest, case):
        log.error("%s %s is recorded; linking it failed and is left to the next writer", kind, row.id)
    return row


def link_pending(database: Database) -> None:
    """Link every pending record into the chain, oldest first."""
    if not isinstance(database, SqliteDatabase):
        database.execute_sql("SELECT infoshare_link_pending()")
        return
    with chain_lock(database):
        pending = list(LogPending.select().order_by(LogPending.id))
        _insert_links([(entry.kind, entry.record_id, entry.content_hash, entry.seal) for entry in pending])
        if pending:  # nothing else writes while the lock is held
            LogPending.delete().where(LogPending.id <= pending[-1].id).execute()


_writing = threading.local()  # how deep this thread is in chained_writes


@contextmanager
def chained_writes(database: Database) -> Iterator[None]:
    """One transaction for the rare records (policy versions, activations, clients, keys):
    each row and its link (``chain``) commit together or not at all.

    sqlite: under the chain's write lock, linked at once. PostgreSQL: such writers take
    turns on an advisory lock of their own (so a check such as "is this version stored
    yet" holds until the commit), and their records are linked right after the commit, as
    decisions are. Nested blocks join the outer one.
    """
    if getattr(_writing, "depth", 0):
        _writing.depth += 1
        try:
            yield
        finally:
            _writing.depth -= 1
        return
    _writing.depth = 1
    try:
        if isinstance(database, SqliteDatabase):
            with chain_lock(database):
                yield
            return
        with database.atomic():
            database.execute_sql(
                "SELECT pg_advisory_xact_lock(hashtext('infoshare chained writes ' || current_schema()))"
            )
            yield
    finally:
        _writing.depth = 0
    _link_or_leave(database, "a record")


def chain(kind: str, row: Model) -> None:
    """Chain ``row``, just written, as a record of ``kind``; only inside ``chained_writes``."""
    assert getattr(_writing, "depth", 0), "chain() runs inside chained_writes()"
    digest = content_hash(content(kind, row))
    number = record_id(kind, row)
    database = row._meta.database
    seal = linkseal.seal(kind, number, digest, case_of(kind, row))
    if isinstance(database, SqliteDatabase):
        database.execute_sql(LINK_ONE, (kind, number, digest, kind, number, digest, seal))
    else:
        LogPending.create(kind=kind, record_id=number, content_hash=digest, seal=seal)


def _link_or_leave(database: Database, what: str) -> None:
    try:
        link_pending(database)
    except PeeweeException as exc:
        log.error("%s is recorded; linking it failed (%s) and is left to the next writer", what, type(exc).__name__)


def covered_kinds() -> set[str]:
    """The kinds the chain covers: the kinds it was first made for, and those its scope records
    name. Only scope records that match the content hash of their link (or pending link) count:
    what decides which records the service adopts into the chain at its start (and seals as its
    own) must not be a row anyone with the store can edit (``altered_scope``)."""
    if not LogScope._meta.database.table_exists(LogScope._meta.table_name):
        return set(FIRST_KINDS)
    altered = set(altered_scope())
    return set(FIRST_KINDS) | {kind for row in LogScope.select() if row.id not in altered for kind in row.kinds}


def altered_scope() -> list[int]:
    """The ids of scope records whose content is not what their link (or pending link) holds,
    or that have neither."""
    linked = LogLink.select(LogLink.record_id, LogLink.content_hash).where(LogLink.kind == "scope")
    pending = LogPending.select(LogPending.record_id, LogPending.content_hash).where(LogPending.kind == "scope")
    digests: dict[int, set[str]] = {}
    for number, digest in [*linked.tuples(), *pending.tuples()]:
        digests.setdefault(number, set()).add(digest)
    return [
        row.id for row in LogScope.select() if content_hash(content("scope", row)) not in digests.get(row.id, set())
    ]


def unchained(kind: str) -> Iterator[Model]:
    """The records of ``kind`` with no link and none pending, by id."""
    linked = LogLink.select(LogLink.record_id).where(LogLink.kind == kind)
    pending = LogPending.select(LogPending.record_id).where(LogPending.kind == kind)
    if kind == "policy_version":
        known = {number for (number,) in linked.union_all(pending).tuples()}
        return iter(
            sorted(
                (row for row in records_of(kind) if record_id(kind, row) not in known),
                key=lambda row: record_id(kind, row),
            )
        )
    model: Any = MODEL_OF[kind]
    return iter(records_of(kind).where(model.id.not_in(linked) & model.id.not_in(pending)).order_by(model.id))


def adopt_unchained(database: Database, kinds: list[str]) -> None:
    """Chain the existing records of ``kinds``, oldest first, in a store made before the
    chain covered them, and append the scope record that says so (and is itself chained).

    Called at start only for kinds the chain's scope does not name yet: afterwards an
    unchained record of a covered kind is one written around the service, and
    verification reports it. Every adoption is in the application log.
    """
    if not kinds:
        return
    rows = [(kind, row) for kind in kinds for row in unchained(kind)]
    rows.sort(key=lambda entry: (getattr(entry[1], WHEN[entry[0]]), list(MODEL_OF).index(entry[0]), record_id(*entry)))
    pending = [_pending(kind, row) for kind, row in rows]
    with database.atomic():
        for start in range(0, len(pending), BATCH):
            LogPending.insert_many(pending[start : start + BATCH]).execute()
    link_pending(database)
    adopted = {kind: sum(1 for entry in rows if entry[0] == kind) for kind in kinds}
    with chained_writes(database):
        chain("scope", LogScope.create(kinds=kinds, adopted=adopted))
    if any(adopted.values()):
        log.warning(
            "the decision log now also covers %s; existing records adopted into its chain: %s",
            ", ".join(kinds),
            ", ".join(f"{count} {kind}" for kind, count in adopted.items() if count),
        )


def _pending(kind: str, row: Model) -> dict[str, Any]:
    number, digest = record_id(kind, row), content_hash(content(kind, row))
    seal = linkseal.seal(kind, number, digest, case_of(kind, row))
    return {"kind": kind, "record_id": number, "content_hash": digest, "seal": seal}


# sqlite: link one record after the head in one statement (under the write lock);
# infoshare_link_hash is link_hash, registered on the connection by install().
LINK_ONE = f"""
INSERT INTO log_link (seq, kind, record_id, content_hash, prev_hash, hash, seal)
SELECT head.seq + 1, ?, ?, ?, head.hash, infoshare_link_hash(head.seq + 1, ?, ?, head.hash, ?), ?
FROM (SELECT seq, hash FROM log_link UNION ALL SELECT 0, '{GENESIS}' ORDER BY seq DESC LIMIT 1) AS head
"""

LINK_PENDING_FUNCTION = """
CREATE OR REPLACE FUNCTION infoshare_link_pending() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash text;
    entry record;
    linked bigint := 0;
BEGIN
    PERFORM pg_advisory_xact_lock('log_link'::regclass::oid::bigint);
    SET LOCAL synchronous_commit = off;
    SELECT seq, hash INTO last_seq, last_hash FROM log_link ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    -- The pending rows are taken out and linked by one statement: the rows linked are exactly
    -- the rows removed (a separate DELETE cost the database ~0.04 ms of CPU a record, measured).
    FOR entry IN WITH taken AS (DELETE FROM log_pending RETURNING id, kind, record_id, content_hash, seal)
                 SELECT * FROM taken ORDER BY id LOOP
        last_seq := last_seq + 1;
        INSERT INTO log_link (seq, kind, record_id, content_hash, prev_hash, hash, seal)
        VALUES (last_seq, entry.kind, entry.record_id, entry.content_hash, last_hash,
                encode(sha256(convert_to(last_seq || E'\\n' || entry.kind || E'\\n' || entry.record_id
                                         || E'\\n' || last_hash || E'\\n' || entry.content_hash, 'UTF8')),
                       'hex'),
                entry.seal)
        RETURNING hash INTO last_hash;
        linked := linked + 1;
    END LOOP;
    RETURN linked;
END $$
"""


def install(database: Database) -> None:
    """Give the store what linking needs: link_hash as an SQL function on sqlite
    connections, the linking function in PostgreSQL."""
    if isinstance(database, SqliteDatabase):
        database.register_function(link_hash, "infoshare_link_hash", 5, deterministic=True)
    else:
        database.execute_sql(LINK_PENDING_FUNCTION)
        pgappend.install(database, {Decision: "decision", Review: "review"})
