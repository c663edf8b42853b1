"""Each answer's head and body leave in one socket write.

gunicorn writes a response's status line and headers with one ``sendall``
and its body with another. On the loopback and on a LAN each send is a TCP
segment the kernel processes for the sender and wakes the reader for, and
most of infoshare's answers are one small JSON body: profiled under load,
the two writes were the largest single part of a request thread's time. So
the first body write of a response whose head is still unsent goes out
together with the head, in one ``sendall``. Everything else (chunked
bodies, files, later writes, an empty body) goes through gunicorn as it is.

It works through gunicorn's own ``Response.write``, pointed for that one
call at a buffer rather than the socket, so the head and the body's framing
are gunicorn's, byte for byte; only the number of writes changes.
"""

from __future__ import annotations

from typing import Any

from gunicorn.http import wsgi


class _Collected:
    """Where a response's writes go while the head and the first body bytes are gathered."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.parts.append(data)


class OneWriteResponse(wsgi.Response):
    """gunicorn's response, but the head leaves with the first body bytes (see the module)."""

    def write(self, arg: Any) -> None:
        if self.headers_sent or self.chunked or not isinstance(arg, bytes) or not arg:
            super().write(arg)
            return
        response: Any = self  # gunicorn's attributes are untyped
        sock, collected = response.sock, _Collected()
        response.sock = collected
        try:
            super().write(arg)
        finally:
            response.sock = sock
        sock.sendall(b"".join(collected.parts))


def install() -> None:
    """Make gunicorn build every HTTP/1 response as a ``OneWriteResponse`` (its ``wsgi.create``
    looks the class up when each request comes)."""
    wsgi.Response = OneWriteResponse
