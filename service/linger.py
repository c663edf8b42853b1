"""A kept-alive connection's next request is answered by the thread that answered the last, if it comes at once.

gunicorn's ``gthread`` worker hands every request on a kept-alive connection
from its poller thread to a pool thread and back: the poller sees the socket
readable and queues the connection for a pool thread, which answers and
queues it back, through a pipe, for the poller to watch again. That is two
thread wake-ups, a pipe write and read and two ``epoll_ctl`` calls a request,
and with the interpreter lock shared, each wake-up is a hand-over of the lock
(measured at 8 kept-alive clients: ~14 voluntary context switches a recorded
decision). So once a pool thread has answered a request on a kept-alive
connection, it waits up to ``LINGER`` for the next one on that connection
(in ``poll``, without the lock) and answers it too; if none comes, the
connection goes back to the poller as before. A client that sends requests
back to back (a case system working through a batch, a load test) is then
answered by one thread; one that pauses costs a thread ``LINGER`` and one
``poll``. A stopping worker lingers no more. Nothing else changes: the
request is read, answered and kept alive (or not) by gunicorn's own code.
"""

from __future__ import annotations

import select
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

LINGER_MS = 2  # on a LAN the next request of a busy client comes well within it


class LingeringThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, whose pool threads answer a connection's next request if it comes at once."""

    def handle(self, conn: Any) -> Any:
        kept = super().handle(conn)
        while kept is True and self.alive and next_request_comes(conn, LINGER_MS):
            kept = super().handle(conn)
        return kept


def next_request_comes(conn: Any, within_ms: int) -> bool:
    """Whether the connection has more to read (or is closed) within ``within_ms``: bytes already
    read ahead (a pipelined request) count at once."""
    if conn.parser.unreader.buf.getvalue():
        return True
    waiting = select.poll()
    waiting.register(conn.sock.fileno(), select.POLLIN)
    return bool(waiting.poll(within_ms))
