"""A kept-alive connection's next request is answered by the thread that answered the last, if it comes at once.

gunicorn's ``gthread`` worker hands every request on a kept-alive connection
from its poller thread to a pool thread and back: the poller sees the socket
readable and queues the connection for a pool thread, which answers and
queues it back, through a pipe, for the poller to watch again. That is two
thread wake-ups, a pipe write and read and two ``epoll_ctl`` calls a request,
and with the interpreter lock shared, each wake-up is a hand-over of the lock
(measured at 8 kept-alive clients: ~14 voluntary context switches a recorded
decision). So once a pool thread has answered a request on a kept-alive
connection, it waits up to ``LINGER_MS`` for the next one on that connection
(in ``poll``, without the lock) and answers it too; if none comes, the
connection goes back to the poller as before.

It lingers only while no other connection waits for a thread (the pool's
queue is empty, before the wait and after it), and for ``MOST_REQUESTS`` at a
time, so connections still take turns: without that, a client keeping as many
busy connections as a worker has threads held every thread, and a new
connection waited seconds or for ever. A request already read ahead (a
pipelined client) goes back through gunicorn, which queues it behind the
others. A stopping worker lingers no more. Nothing else changes: each request
is read, answered and kept alive (or not) by gunicorn's own code.
"""

from __future__ import annotations

import select
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

LINGER_MS = 2  # on a LAN the next request of a busy client comes well within it
MOST_REQUESTS = 16  # then the connection goes back to the poller, behind whatever else waits


class LingeringThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, whose pool threads answer a connection's next request if it comes at once."""

    def handle(self, conn: Any) -> Any:
        kept = super().handle(conn)
        answered = 1
        while kept is True and answered < MOST_REQUESTS and self.alive and self._pool_idle():
            if not (next_request_comes(conn, LINGER_MS) and self._pool_idle()):
                break
            kept = super().handle(conn)
            answered += 1
        return kept

    def _pool_idle(self) -> bool:
        """No connection waits in the pool's queue for a thread (the executor's own queue: it has no public count)."""
        return bool(self.tpool._work_queue.empty())


def next_request_comes(conn: Any, within_ms: int) -> bool:
    """Whether the connection's next request starts arriving (or the client closes) within ``within_ms``.
    A request already read ahead does not count: gunicorn queues that connection itself."""
    if conn.parser.unreader.buf.getvalue():
        return False
    waiting = select.poll()
    waiting.register(conn.sock.fileno(), select.POLLIN)
    return bool(waiting.poll(within_ms))
