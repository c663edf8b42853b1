"""A kept-alive connection's next request, answered by the thread that answered the last (``service.linger``)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

from gunicorn.workers.gthread import ThreadWorker
from service_cases import SHARE_FACTS
from test_service_live import environment, infoshare, serving

from infoshare.service import linger
from infoshare.service.linger import LingeringThreadWorker, next_request_comes


def connection(sock: socket.socket, buffered: bytes = b"") -> SimpleNamespace:
    """What ``next_request_comes`` reads of a gunicorn connection: its socket and what its parser read ahead."""
    return SimpleNamespace(sock=sock, parser=SimpleNamespace(unreader=SimpleNamespace(buf=_Buffer(buffered))))


class _Buffer:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def getvalue(self) -> bytes:
        return self.data


def test_a_request_that_comes_within_the_window_is_seen_and_one_that_does_not_is_not():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        started = time.monotonic()
        assert not next_request_comes(connection(ours), 20)
        assert time.monotonic() - started >= 0.015  # it waited the window out
        threading.Timer(0.005, theirs.sendall, [b"GET / HTTP/1.1\r\n"]).start()
        assert next_request_comes(connection(ours), 1000)
        ours.recv(100)
        assert next_request_comes(connection(ours, b"GET /next HTTP/1.1\r\n"), 0)  # read ahead: at once
        theirs.close()
        assert next_request_comes(connection(ours), 1000)  # closed: gunicorn's reader finds the end


def test_the_thread_answers_requests_while_they_come_and_hands_back_when_they_stop(monkeypatch):
    answered: list[str] = []
    coming = ["second", "third"]
    results = iter([True, True, True])

    def handle(self, conn):
        answered.append("request")
        return next(results)

    monkeypatch.setattr(ThreadWorker, "handle", handle)
    monkeypatch.setattr(linger, "next_request_comes", lambda conn, within: bool(coming and coming.pop()))
    worker = object.__new__(LingeringThreadWorker)
    worker.alive = True
    assert worker.handle(object()) is True  # back to the poller, kept alive
    assert len(answered) == 3

    answered.clear()
    coming[:] = ["second"]
    results = iter([True, False])  # the second asked to close: no lingering after it
    assert worker.handle(object()) is False
    assert len(answered) == 2

    answered.clear()
    coming[:] = ["second"]
    results = iter([True])
    worker.alive = False  # a stopping worker lingers no more
    assert worker.handle(object()) is True
    assert len(answered) == 1


def test_a_kept_alive_connection_is_answered_back_to_back_pipelined_and_after_a_pause(tmp_path):
    env = environment(tmp_path / "linger.sqlite3")
    token = infoshare("keys", "create", "--role", "case-system", "--name", "cms", env=env).stdout.split()[-1]
    body = json.dumps({"facts": SHARE_FACTS})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with serving(env, tmp_path / "server.log") as base:
        where = urlsplit(base)
        client = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        for n in range(50):
            client.request("POST", "/v1/evaluate", body=body, headers=headers)
            answer = client.getresponse()
            assert (answer.status, json.load(answer)["decision"]) == (200, "share"), n
            if n % 10 == 9:
                time.sleep(0.05)  # well past the linger: the connection waits on the poller meanwhile
        sock = client.sock
        request = (
            f"POST /v1/evaluate HTTP/1.1\r\nHost: {where.netloc}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
        missing = f"GET /v1/no-such-thing HTTP/1.1\r\nHost: {where.netloc}\r\n\r\n".encode()
        sock.sendall(request + missing + request)  # pipelined: answered in order
        reader = sock.makefile("rb")
        statuses = []
        for _ in range(3):
            statuses.append(reader.readline().split()[1])
            length = 0
            while (line := reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reader.read(length)
        assert statuses == [b"200", b"404", b"200"]
        client.close()
