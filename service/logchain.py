"""The hash chain that makes the decision log tamper-evident.

Every decision and every review is appended together with a ``LogLink``:
the sha256 of the record's canonical content and the hash of the link
before it, so one chain runs over the whole store in the order records were
written. Changing a record breaks its content hash; inserting or removing a
record, or rewriting a link, breaks the links after it (``service.logaudit``
walks them). The chain proves the log is unchanged up to its head; to prove
that no records were cut off the end, keep the head's hash somewhere else
(``infoshare log verify`` prints it).

Appending takes the store's write lock first, so concurrent writers in any
number of processes still form one chain: ``BEGIN IMMEDIATE`` on sqlite (the
lock every sqlite write takes anyway, only taken at the start), and a
transaction-scoped advisory lock keyed on the link table's oid on
PostgreSQL (held from reading the head to the commit; one per schema).
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator, TypeVar

from peewee import Database, Model, SqliteDatabase

from service.models import Decision, LogLink, Review

GENESIS = "0" * 64
# The columns each kind's hash covers, in the order they were defined; a
# column added later is not covered until it is added here (and to old links
# it then would not match), so this list is part of the log's format.
CONTENT_FIELDS: dict[str, tuple[str, ...]] = {
    "decision": ("id", "case_ref", "facts", "verdict", "decision", "policy_id", "policy_version",
                 "policy_digest", "requested_by", "key_name", "recorded_at"),
    "review": ("id", "decision_id", "final_decision", "rationale", "key_name", "reviewed_at"),
}
KINDS: dict[type[Model], str] = {Decision: "decision", Review: "review"}
MODEL_OF = {kind: model for model, kind in KINDS.items()}

Record = TypeVar("Record", Decision, Review)


def content(kind: str, row: Model) -> dict[str, Any]:
    """The record's canonical content: the covered columns, datetimes in ISO 8601."""
    values = {}
    for name in CONTENT_FIELDS[kind]:
        value = getattr(row, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values


def content_hash(values: dict[str, Any]) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def link_hash(seq: int, kind: str, prev_hash: str, content_digest: str) -> str:
    return hashlib.sha256(f"{seq}\n{kind}\n{prev_hash}\n{content_digest}".encode("ascii")).hexdigest()


@contextmanager
def chain_lock(database: Database) -> Iterator[None]:
    """A write transaction that holds the chain for this process until it commits."""
    if isinstance(database, SqliteDatabase):
        with database.atomic("IMMEDIATE"):
            yield
        return
    with database.atomic():
        database.execute_sql("SELECT pg_advisory_xact_lock(to_regclass('log_link')::oid::bigint)")
        yield


def head() -> tuple[int, str]:
    """The last link's (seq, hash), or (0, GENESIS) for an empty chain."""
    last = LogLink.select(LogLink.seq, LogLink.hash).order_by(LogLink.seq.desc()).limit(1).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


def _link(row: Model, seq: int, prev_hash: str) -> LogLink:
    kind = KINDS[type(row)]
    digest = content_hash(content(kind, row))
    return LogLink.create(seq=seq, kind=kind, record_id=row.id, content_hash=digest, prev_hash=prev_hash,
                          hash=link_hash(seq, kind, prev_hash, digest))


def append(model: type[Record], **fields: Any) -> Record:
    """Create a decision or review and chain it, in one transaction under the chain lock."""
    with chain_lock(model._meta.database):
        seq, prev_hash = head()
        row = model.create(**fields)
        _link(row, seq + 1, prev_hash)
    return row


def adopt_unchained(database: Database) -> int:
    """Chain the records of a store made before the chain existed, oldest first.

    Called only when the link table is first created: afterwards an unchained
    record is one written around the service, and verification reports it.
    """
    with chain_lock(database):
        seq, prev_hash = head()
        rows = [*Decision.select(), *Review.select()]
        rows.sort(key=lambda row: (row.recorded_at if isinstance(row, Decision) else row.reviewed_at,
                                   KINDS[type(row)] == "review", row.id))
        for row in rows:
            seq += 1
            prev_hash = _link(row, seq, prev_hash).hash
    return len(rows)
