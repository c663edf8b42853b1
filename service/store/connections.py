"""How a process holds its PostgreSQL sessions: a pool of its own, checked, never inherited, closed at exit.

``postgresql://`` opens a pool in each process (peewee's playhouse pool):
a request takes its thread's connection from the pool and gives it back
when it ends. A session per request cost ~6 ms to connect, and its first
statements ~2.5 ms each against ~0.5 ms on a warm session (the server
loads its catalogue caches and compiles the linking function once per
session), which held the service to about a fifth of its pooled rate.
The settings below are defaults; the URL's query string overrides any of
them (``?max_connections=4``).

- ``max_connections`` (8): a process holds at most one connection per
  thread that is using the store at that moment, and idle ones stay open
  for the next request; a threaded worker (many threads, several requests
  in flight) is bounded by the cap. A thread that finds the cap reached
  waits up to ``timeout`` (10 s) for one to be given back, then fails with
  ``PoolExhausted`` (a 503, never a 500).
- checked on checkout, with a round trip only where one is needed: a
  server sends nothing to an idle session except to end it (the FATAL
  message of a restart, a failover, an idle timeout or
  ``pg_terminate_backend``, then the end of the stream), so a connection
  whose socket has anything to read is discarded at once. A session ended
  a moment ago may not have said so yet (measured: a socket check alone
  let a statement run on a just-ended session in 2 of 6 tries), so before
  a checkout's first statement the pool still runs ``SELECT 1`` and
  replaces the connection if it fails, unless that statement is a read
  that is retried once on a new connection when its session turns out to
  be ended (``read_retried``). The reads every request starts with (the
  API key's revocation check, the active policy version) are such reads,
  so recording a decision spends no round trip on the check, and sessions
  the server ended are replaced without a failed request either way. A
  connection that breaks during a write fails that request (503), since
  the write may or may not have been committed, and is not returned to
  the pool.
- ``stale_timeout`` (300 s): a connection older than this is closed instead
  of reused, so sessions move to a new primary after a failover even when
  the old one still answers.
- ``connect_timeout`` (5 s): an unreachable server fails a request in
  seconds, not after the operating system's TCP timeout.
- ``application_name`` (``infoshare``): the service's sessions are found by
  name in ``pg_stat_activity``.

A forked child never uses its parent's connections. Two processes on one
socket read each other's answers: with the pool opened by the gunicorn
master before it forked (its start-up queries' connection was given back to
the pool, not closed), every worker inherited that one session; 386 of
2,279 requests in 10 s read another query's row (a 500 at the key check),
and after SIGTERM a worker waited in ``poll`` for an answer its sibling had
read, until the master killed it 10 s later. The server therefore closes every
connection before forking (``release``), and in any child that inherits
connections anyway they are detached: the child's copy of each socket is
pointed at ``/dev/null`` so that closing it sends nothing to the parent's
session, and the child opens its own.
"""

from __future__ import annotations

import os
import select
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg2
from peewee import Database, DatabaseError, InterfaceError, OperationalError
from playhouse.pool import MaxConnectionsExceeded, PooledDatabase, PooledPostgresqlDatabase
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_UNKNOWN

POOL_DEFAULTS: dict[str, Any] = {
    "max_connections": 8,
    "timeout": 10,
    "stale_timeout": 300,
    "connect_timeout": 5,
    "application_name": "infoshare",
}


class PoolExhausted(OperationalError):
    """Every connection this process may open is in use, and none was given back in time."""


class PostgresqlPool(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool, safe across fork, with an exhausted pool as a store error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _pools.add(self)

    def connect(self, reuse_if_open: bool = False) -> bool:
        try:
            opened = super().connect(reuse_if_open)
        except MaxConnectionsExceeded as exc:
            raise PoolExhausted(str(exc)) from None
        if opened:
            self._state.unchecked = True  # type: ignore[attr-defined]  # peewee's per-thread state
        return opened

    def cursor(self, named_cursor: Any = None) -> Any:
        """A cursor on this thread's connection; a checkout's first statement runs on a session
        known to be alive (``SELECT 1``, replacing dead ones) unless it is a retried read."""
        state: Any = self._state  # type: ignore[attr-defined]  # peewee's per-thread state
        cursor = super().cursor(named_cursor)
        for _ in range(self._max_connections + 1):  # each failed try discards one pooled connection
            if not getattr(state, "unchecked", False) or getattr(state, "retried_read", False):
                break
            try:
                state.conn.cursor().execute("SELECT 1")
                break
            except psycopg2.Error:
                self.replace_connection()
                cursor = super().cursor(named_cursor)
        state.unchecked = False
        return cursor

    def _is_closed(self, conn: Any) -> bool:
        """Whether a pooled connection may not be handed out: closed, in an unknown state,
        in a transaction that cannot be rolled back, or with something from the server waiting."""
        if conn.closed:
            return True
        status = conn.info.transaction_status
        if status == TRANSACTION_STATUS_UNKNOWN:
            return True
        if status != TRANSACTION_STATUS_IDLE:
            try:
                conn.rollback()
            except psycopg2.Error:
                return True
            return False
        waiting = select.poll()
        waiting.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        return bool(waiting.poll(0))

    def session_ended(self) -> bool:
        """Whether this thread's connection is one the server has ended (or the network lost)."""
        return not self.is_closed() and self.connection().closed != 0

    def replace_connection(self) -> None:
        """Drop this thread's connection, without returning it to the pool, and take another,
        inside the same ``connection_context`` blocks (peewee forgets them on close)."""
        state: Any = self._state  # type: ignore[attr-defined]  # peewee's per-thread state
        blocks = state.ctx
        self.manual_close()
        self.connect()
        state.ctx = blocks

    @contextmanager
    def retried_read(self) -> Iterator[None]:
        state: Any = self._state  # type: ignore[attr-defined]  # peewee's per-thread state
        state.retried_read = True
        try:
            yield
        finally:
            state.retried_read = False

    def detach_inherited(self) -> None:
        """In a forked child: forget the parent's connections without touching their sessions."""
        inherited = [conn for _, _, conn in self._connections]
        inherited += [entry.connection for entry in self._in_use.values()]
        with open(os.devnull, "wb") as sink:
            for conn in inherited:
                if not conn.closed:
                    os.dup2(sink.fileno(), conn.fileno())  # the parent's socket stays open in the parent only
        self._connections, self._in_use = [], {}
        # Locks another thread held at the fork would stay held in the child.
        self._lock = threading.Lock()
        self._pool_lock = threading.RLock()
        self._pool_available = threading.Condition(self._pool_lock)
        self._state.reset()  # type: ignore[attr-defined]  # peewee's per-thread state; its stubs leave it out


_pools: weakref.WeakSet[PostgresqlPool] = weakref.WeakSet()

T = TypeVar("T")


def read_retried(database: Database, read: Callable[[], T]) -> T:
    """``read()``, run again on another connection for as long as its session turns out to have
    been ended (every pooled session may have been ended at once, by a failover).

    Only for statements that change nothing: a write whose session ended may
    have been committed, so running it again could record twice. Inside a
    transaction nothing is retried (the transaction went with the session).
    """
    if not isinstance(database, PostgresqlPool):
        return read()
    with database.retried_read():
        for _ in range(database._max_connections):  # each failed try discards one pooled connection
            try:
                return read()
            except (DatabaseError, InterfaceError):  # a session cut mid-answer can raise any of them
                if database.in_transaction() or not database.session_ended():
                    raise
            database.replace_connection()
        return read()


def _detach_in_child() -> None:
    for pool in list(_pools):
        pool.detach_inherited()


os.register_at_fork(after_in_child=_detach_in_child)


def release(database: Database) -> None:
    """Close every connection this process holds on ``database``, pooled or in use.

    The server calls it before it forks a worker (none may inherit a
    session), and as each worker and the master exit (no session outlives
    its process, even for the moment the server takes to notice).
    """
    if isinstance(database, PooledDatabase):
        database.close_all()
    elif not database.is_closed():
        database.close()
