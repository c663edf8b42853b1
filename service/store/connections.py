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
- checked on checkout: peewee's pool runs ``SELECT 1`` on an idle
  connection before handing it out and discards one that fails, so
  sessions ended by the server (a restart, a failover, an idle timeout,
  ``pg_terminate_backend``) are replaced without a failed request. A
  connection that breaks during a request fails that request (503) and is
  not returned to the pool.
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
import threading
import weakref
from typing import Any

from peewee import Database, OperationalError
from playhouse.pool import MaxConnectionsExceeded, PooledDatabase, PooledPostgresqlDatabase

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
            return super().connect(reuse_if_open)
        except MaxConnectionsExceeded as exc:
            raise PoolExhausted(str(exc)) from None

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
