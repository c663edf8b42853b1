"""A kept-alive connection's next request, answered by the thread that answered the last (``service.linger``)."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

from gunicorn.workers.gthread import ThreadWorker
from service_cases import SHARE_FACTS
from test_service_live import environment, free_port, infoshare, serving

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
        # Read ahead (pipelined): not taken here, gunicorn queues the connection behind the others.
        theirs.sendall(b"more")
        assert not next_request_comes(connection(ours, b"GET /next HTTP/1.1\r\n"), 1000)
        ours.recv(100)
        theirs.close()
        assert next_request_comes(connection(ours), 1000)  # closed: gunicorn's reader finds the end


class _Pool:
    def __init__(self) -> None:
        self.waiting: list[object] = []
        self._work_queue = self

    def empty(self) -> bool:
        return not self.waiting


def lingering(monkeypatch, results: list[bool], coming: list[bool]) -> tuple[LingeringThreadWorker, list[str]]:
    """A worker whose gunicorn ``handle`` answers with ``results`` in turn, and whose connection's
    next request comes (or not) as ``coming`` says, one entry per wait."""
    answered: list[str] = []
    answers, comes = iter(results), iter(coming)

    def handle(self, conn):
        answered.append("request")
        return next(answers)

    monkeypatch.setattr(ThreadWorker, "handle", handle)
    monkeypatch.setattr(linger, "next_request_comes", lambda conn, within: next(comes, False))
    worker = object.__new__(LingeringThreadWorker)
    worker.alive = True
    worker.tpool = _Pool()
    return worker, answered


def test_the_thread_answers_requests_while_they_come_and_hands_back_when_they_stop(monkeypatch):
    worker, answered = lingering(monkeypatch, [True, True, True], [True, True, False])
    assert worker.handle(object()) is True  # back to the poller, kept alive
    assert len(answered) == 3


def test_a_request_that_asks_to_close_ends_the_lingering(monkeypatch):
    worker, answered = lingering(monkeypatch, [True, False], [True, True])
    assert worker.handle(object()) is False
    assert len(answered) == 2


def test_a_stopping_worker_does_not_linger(monkeypatch):
    worker, answered = lingering(monkeypatch, [True, True], [True])
    worker.alive = False
    assert worker.handle(object()) is True
    assert len(answered) == 1


def test_a_connection_waiting_for_a_thread_ends_the_lingering(monkeypatch):
    worker, answered = lingering(monkeypatch, [True, True], [True, True])
    worker.tpool.waiting.append("another connection")
    assert worker.handle(object()) is True
    assert len(answered) == 1


def test_one_connection_is_answered_at_most_so_many_times_in_a_row(monkeypatch):
    worker, answered = lingering(monkeypatch, [True] * 100, [True] * 100)
    assert worker.handle(object()) is True
    assert len(answered) == linger.MOST_REQUESTS


APP = """
import time

def app(environ, start_response):
    time.sleep(0.001)
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]
"""


def test_busy_connections_on_every_thread_do_not_keep_a_new_one_waiting(tmp_path):
    """As many clients as the worker has threads, each sending its next request the moment the
    last is answered (one by one, or pipelined): a new connection is still answered at once."""
    (tmp_path / "tiny.py").write_text(APP)
    port = free_port()
    threads = 4
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(tmp_path),
            "-w",
            "1",
            "--threads",
            str(threads),
            "-k",
            "infoshare.service.linger.LingeringThreadWorker",
            "--keep-alive",
            "5",
            "-b",
            f"127.0.0.1:{port}",
            "tiny:app",
        ],
        stderr=subprocess.DEVNULL,
    )
    stop = threading.Event()
    request = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"

    def busy(batch: int) -> None:
        with socket.create_connection(("127.0.0.1", port)) as sock, sock.makefile("rb") as answers:
            while not stop.is_set():
                sock.sendall(request * batch)
                for _ in range(batch):
                    while answers.readline() not in (b"\r\n", b""):
                        pass
                    answers.read(2)

    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.05)
        for batch in (1, 20):
            stop.clear()
            clients = [threading.Thread(target=busy, args=(batch,)) for _ in range(threads)]
            for client in clients:
                client.start()
            time.sleep(0.5)
            waits = []
            for _ in range(5):
                started = time.monotonic()
                with socket.create_connection(("127.0.0.1", port), timeout=10) as newcomer:
                    newcomer.sendall(request)
                    assert newcomer.recv(100).startswith(b"HTTP/1.1 200")
                waits.append(time.monotonic() - started)
            stop.set()
            for client in clients:
                client.join(10)
            assert max(waits) < 1.0, (batch, waits)
    finally:
        stop.set()
        server.terminate()
        server.wait(10)


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
