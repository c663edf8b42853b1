"""Spread a server's connections evenly over its workers.

gunicorn's workers share one listening socket, and the kernel wakes every
idle one for each new connection: whichever calls ``accept`` first takes
it. A caller that keeps a few connections open (a case system's HTTP pool,
a load test's 8) so lands them unevenly, 5 and 3 or 6 and 2, and stays so
for as long as they are kept alive. A worker's requests share one
interpreter lock, so the busier worker's answers queue while the other's
core has room: measured at 8 kept-alive clients, a 5/3 split answered
1,040/s with p99 22.9 ms, 4/4 splits 1,158 to 1,306/s with p99 15.7 to
19.2 ms, in one run. It helps clients that open a connection per request
too: ``POST /v1/evaluate`` at 8 such clients, 2,708 and 2,871/s at p99 7.7
and 6.8 ms, against 2,520 and 2,550/s at p99 9.1 and 9.0 ms with
gunicorn's own worker, alternating in one run.

Each worker keeps its count of open connections in a slot of a table in
memory the master shares with its workers (``prepare`` before the first
fork; ``assign`` gives each new worker a free slot, ``free`` takes it back
when the worker exits, and a worker leaving its loop marks its slot free
itself). A worker holding more connections than the least loaded other
worker stops listening, so that one takes the connection, until it is no
longer the busier (its loop looks after every event) or ``DEFER`` has
passed. If no other worker accepted a connection in that whole pause
(counted in a second table), nobody else is taking connections (a worker
stuck in a request, stopping after a reload, or still starting): this
worker takes what waits, and does not stand back again for ``BACK_OFF``, so
that such a worker costs the others one pause a second, not one per
connection. A worker that is merely still the busier after a pause in
which the others accepted goes on standing back. The least loaded worker
always listens. Nothing waits meanwhile: the worker goes on serving the
connections it has. (Sleeping in the worker's poller instead halved the
requests/s of clients that open a connection per request, 1,086 against
2,006/s; a fixed pause let two workers pause at once, as their counts
moved, with nobody listening; backing off whenever a pause ran out with
the worker still the busier let a client's churn turn balancing off.)
"""

from __future__ import annotations

import time
from multiprocessing.sharedctypes import RawArray
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

DEFER = 0.01  # seconds; a worker's poller wakes within a few ms when its process has a core
BACK_OFF = 1.0  # seconds a worker does not stand back after nobody else took a connection
FREE = -1

_table: Any = None  # one int per slot: a worker's open connections, or FREE
_accepted: Any = None  # one counter per slot: the connections its workers have accepted


def prepare(workers: int) -> None:
    """In the master, before any fork: room for twice the workers, since on a reload the new ones
    start before the old ones stop."""
    global _table, _accepted
    _table = RawArray("i", [FREE] * (2 * workers + 1))
    _accepted = RawArray("q", [0] * (2 * workers + 1))


def assign(arbiter: Any, worker: Any) -> None:
    """gunicorn's pre_fork (in the master): give `worker` a slot no live worker holds, if any is left."""
    if _table is None:
        return
    taken = {getattr(other, "slot", None) for other in arbiter.WORKERS.values()}
    for n in range(len(_table)):  # a slot no live worker holds is free, however its worker went
        if n not in taken:
            _table[n] = FREE
    worker.slot = next((n for n in range(len(_table)) if n not in taken), None)
    if worker.slot is not None:
        _table[worker.slot] = 0


def free(worker: Any) -> None:
    """gunicorn's child_exit (in the master): the worker is gone, its slot is free."""
    slot = getattr(worker, "slot", None)
    if _table is not None and slot is not None:
        _table[slot] = FREE


def busier(table: Any, slot: int, mine: int) -> bool:
    """Whether a worker holding `mine` connections holds more than the least loaded other one."""
    others = [count for n, count in enumerate(table) if n != slot and count != FREE]
    return bool(others) and mine > min(others)


class BalancedThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, which lets a less loaded worker take a new connection first."""

    _paused_until = 0.0  # monotonic time: until then, while it is the busier, this worker does not listen
    _pass_until = 0.0  # a pause ran out with no other worker accepting: what waits before then is taken
    _others_at_pause = 0  # the other workers' accepts when the pause began
    _deferring_from = 0.0  # a connection nobody else took: this worker does not stand back before then
    _leaving = False  # out of its loop: it accepts nothing more, and no other waits for it
    slot: int | None = None  # its place in the tables, given by ``assign`` before the fork

    @property
    def nr_conns(self) -> int:
        return self._open

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:
        self._open = value
        self._publish(value)

    def accept(self, listener: Any) -> None:
        now = time.monotonic()
        if now < self._pass_until:
            # No other worker accepted anything in a whole pause (it is stuck, stopping or
            # starting): take what waits, and if it was there to take, do not stand back for a
            # while, or every connection would wait a pause.
            self._pass_until = 0.0
            if self._accept(listener):
                self._deferring_from = now + BACK_OFF
        elif now >= self._deferring_from and self._busier():
            self._paused_until = now + DEFER
            self._others_at_pause = self._others_accepted()
            super().set_accept_enabled(False)
        else:
            self._accept(listener)

    def _accept(self, listener: Any) -> bool:
        """gunicorn's accept; whether it took a connection (another worker may have been first)."""
        before = self._open
        super().accept(listener)
        took = self._open > before
        if took and _accepted is not None and self.slot is not None:
            _accepted[self.slot] += 1
        return took

    def set_accept_enabled(self, enabled: bool) -> None:
        """The worker's loop turns listening back on whenever it has room (it runs after every event
        and at the end of a pause): while paused, only once this worker is no longer the busier,
        or the pause has run out. Turned off once the worker is leaving, its slot says so."""
        if not enabled and not self.alive:
            self._leaving = True
            self._publish(FREE)
        if enabled and self._paused_until:
            now = time.monotonic()
            if not self._busier():
                self._paused_until = 0.0
            elif now >= self._paused_until:
                self._paused_until = 0.0
                if self._others_accepted() == self._others_at_pause:  # nobody else is taking any
                    self._pass_until = now + DEFER
            else:
                return
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """Wake when a pause runs out (the loop waits up to a second for an event otherwise)."""
        pause = self._paused_until - time.monotonic() if self._paused_until else 0.0
        super().wait_for_and_dispatch_events(min(timeout, pause) if pause > 0 else timeout)

    def _publish(self, count: int) -> None:
        if _table is not None and self.slot is not None and (count == FREE or not self._leaving):
            _table[self.slot] = count

    def _others_accepted(self) -> int:
        return sum(count for n, count in enumerate(_accepted) if n != self.slot) if _accepted is not None else 0

    def _busier(self) -> bool:
        return _table is not None and self.slot is not None and busier(_table, self.slot, self._open)
