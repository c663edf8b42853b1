"""Open the decision log's database from a URL and make sure its tables exist.

``DATABASE_URL`` picks the backend through ``playhouse.db_url``:
``sqlite:///relative/path``, ``sqlite:////absolute/path``, or
``postgresql://user@host:port/db`` (``postgresql+pool://`` keeps connections
open between requests). Query-string parameters are passed to the driver, so
``?timeout=1`` or ``?options=-csearch_path%3Dname`` work as peewee documents.

sqlite settings, chosen for a log that several worker processes append to:

- ``journal_mode=wal``: readers never block the writer and the writer never
  blocks readers, so the case file can be read while decisions are recorded.
- busy timeout of 5 s (peewee's ``timeout``): a writer that finds another
  process's write in progress waits for it instead of failing at once. Each
  write is a single short INSERT, so the wait is milliseconds in practice.
- ``synchronous=FULL``: a 201 means the decision is on disk. NORMAL would be
  faster but in WAL mode may lose the last acknowledged decisions on a power
  cut, and the protocol requires every decision to be in the case file.
- ``foreign_keys=1``: a review can only point at a recorded decision.
- writers take turns through a lock file beside the database (``write_turn``):
  sqlite admits one writer at a time and makes the others poll with sleeps
  of 1 to 100 ms, which left two busy workers mostly asleep; a blocking
  ``flock`` hands the turn over as soon as the previous commit is on disk.
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from peewee import Database, SqliteDatabase
from playhouse import db_url

from service.models import MODELS, Decision

SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "full", "foreign_keys": 1}
SQLITE_BUSY_TIMEOUT_SECONDS = 5


def open_store(url: str) -> Database:
    """Connect the models to the database at ``url`` and create missing tables.

    Safe to call on every start: table creation is ``IF NOT EXISTS``. The
    connection is closed again so that a process that forks workers after
    this call hands none of them a shared connection.
    """
    settings = db_url.parse(url)
    defaults: dict = {}
    if url.startswith("sqlite"):
        defaults = {"pragmas": SQLITE_PRAGMAS, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
        if settings["database"] != ":memory:":
            Path(settings["database"]).parent.mkdir(parents=True, exist_ok=True)
    database = db_url.connect(url, **{k: v for k, v in defaults.items() if k not in settings})
    database.bind(MODELS)
    with database.connection_context():
        database.create_tables(MODELS, safe=True)
    return database


def check_writable(database: Database) -> None:
    """Raise a peewee error unless a decision could be written right now.

    It runs a write that matches no row inside a transaction that is rolled
    back: the database must take the write lock (sqlite) or accept a write
    (PostgreSQL, not a read-only standby), and the table must exist, yet
    nothing is changed.
    """
    with database.atomic() as transaction:
        Decision.update(decision=Decision.decision).where(Decision.id == 0).execute()
        transaction.rollback()


_turns: dict[tuple[int, str], tuple[threading.Lock, int]] = {}
_turns_guard = threading.Lock()


@contextmanager
def write_turn(database: Database) -> Iterator[None]:
    """Hold the turn to write to ``database`` for the length of the block.

    Only for sqlite files; other databases queue writers themselves. The lock
    file is opened once per process (after gunicorn forks), and a thread lock
    in front of it keeps threads of one process in line too, as an flock is
    shared by everything that holds the same open file.
    """
    if not isinstance(database, SqliteDatabase) or database.database == ":memory:":
        yield
        return
    key = (os.getpid(), database.database)
    with _turns_guard:
        if key not in _turns:
            lock_file = os.open(f"{database.database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
            _turns[key] = (threading.Lock(), lock_file)
    in_process, lock_file = _turns[key]
    with in_process:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
