"""sqlite writers take turns through a lock file beside the database.

sqlite admits one writer at a time and makes the others poll with sleeps of
1 to 100 ms, which left two busy workers mostly asleep; a blocking ``flock``
hands the turn over as soon as the previous commit is on disk. The lock is
released by the kernel when its holder dies, SIGKILL included.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from peewee import Database, SqliteDatabase

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
