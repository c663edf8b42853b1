"""HTTP load from other processes: start a server, drive it on 127.0.0.1, count what it stored.

The load driver is plain Python (sockets), so the benchmark needs nothing
but the project's own install. Client processes (one per core, each with
its share of the clients as threads) send prebuilt requests, one connection
per request as gunicorn's sync workers close each connection after the
response, and time each request from connect to the last byte.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from inprocess import percentile

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(port: int, server: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    sys.exit("the server did not become ready in time")


class Server:
    """A running server: its port, its process and, for infoshare, its store's URL and a case-system key."""

    def __init__(self, process: subprocess.Popen, port: int, database_url: str = "", token: str = ""):
        self.process, self.port, self.database_url, self.token = process, port, database_url, token

    def worker_pids(self) -> list[int]:
        """gunicorn's worker processes: the children of the master."""
        with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as children:
            return [int(pid) for pid in children.read().split()]

    def recorded(self) -> int:
        """Decisions found in the store, read by a connection of our own."""
        return recorded(self.database_url)


def recorded(database_url: str) -> int:
    """Decisions in the sqlite file or PostgreSQL schema that ``database_url`` names."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            return db.execute("SELECT count(*) FROM decision").fetchone()[0]
    import psycopg2

    dsn, _, query = database_url.partition("?")
    schema = query.partition("search_path%3D")[2].partition("&")[0] or "public"
    with psycopg2.connect(dsn.replace("+pool", "")) as db, db.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {schema}.decision")
        return cursor.fetchone()[0]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used: unlike requests/s, hardly moved by other load."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except FileNotFoundError:  # a worker that died (and was replaced) during the run
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> dict[str, int]:
    """Resident (VmRSS) and peak resident (VmHWM) memory of a process."""
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


@contextmanager
def _serving(
    command: list[str], port: int, env: dict[str, str], log: Path, tree: Path = REPO
) -> Iterator[subprocess.Popen]:
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=tree, env=env, stdout=out, stderr=out)
    try:
        _wait_ready(port, process, log)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def infoshare_server(
    workers: int,
    database_url: str | None = None,
    token: str | None = None,
    env: dict[str, str] | None = None,
    worker_class: str | None = None,
    tree: Path | None = None,
) -> Iterator[Server]:
    """`infoshare serve` with its production settings on a store and a case-system key.

    By default the store is a fresh sqlite file and the key a fresh one; a
    second server on the same store is given the first one's URL and key.
    ``env`` adds to the server's environment; ``worker_class`` replaces the
    default front (``--worker-class``); ``tree`` is another checkout to serve
    from, with its own ``.venv`` (an earlier commit, to compare in one run).
    """
    with tempfile.TemporaryDirectory(prefix="infoshare-bench-") as tmp:
        database_url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        # One key drives all the load here; the per-key rate limit is for real callers, so it is off.
        # The log's checkpoints are per store: a fresh store gets a fresh checkpoint file.
        checkpoints = {"INFOSHARE_LOG_CHECKPOINT_FILE": str(Path(tmp) / "log-checkpoints.jsonl")}
        env = {**os.environ, **checkpoints, **(env or {}), "DATABASE_URL": database_url, "INFOSHARE_RATE_LIMIT": "0"}
        infoshare = [str(tree / ".venv" / "bin" / "python") if tree else sys.executable, "-m", "service"]
        if token is None:
            created = subprocess.run(
                [*infoshare, "keys", "create", "--role", "case-system", "--name", "bench"],
                cwd=tree or REPO,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            token = created.stdout.strip().splitlines()[-1]
        port = free_port()
        command = [*infoshare, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        if worker_class is not None:
            command += ["--worker-class", worker_class]
        with _serving(command, port, env, Path(tmp) / "server.log", tree or REPO) as process:
            server = Server(process, port, database_url, token)
            settled(server)
            yield server


def settled(server: Server, seconds: float = 120) -> None:
    """Wait until the server's workers are idle: each works out its policy's first interview
    answers in the background after it starts (a few seconds of CPU, ``service.warmup``),
    which would otherwise be measured as the first block's latency (p99 ~290 ms against
    ~30 ms a block later, measured)."""
    deadline = time.monotonic() + seconds
    pids = server.worker_pids()
    before = cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pids)
        if now - before < 0.05 * len(pids):  # under a twentieth of a core each over half a second
            return
        before = now


@contextmanager
def floor_server(workers: int) -> Iterator[Server]:
    """bench/floor_app.py: a constant answer under the same server settings."""
    with tempfile.TemporaryDirectory(prefix="infoshare-floor-") as tmp:
        port = free_port()
        command = [sys.executable, str(REPO / "bench" / "floor_app.py"), "--port", str(port), "--workers", str(workers)]
        with _serving(command, port, dict(os.environ), Path(tmp) / "server.log") as process:
            yield Server(process, port)


def post(path: str, body: dict[str, Any], token: str = "") -> bytes:
    """One complete HTTP/1.1 request, built once and sent many times."""
    data = json.dumps(body).encode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + data


def _client_process(
    ports: list[int], requests: list[bytes], threads: int, deadline: float, budget: int, first: int, conn: Any
) -> None:
    results = []

    def client(offset: int, limit: int, port: int) -> None:
        samples = array("d")
        statuses: dict[int, int] = {}
        socket_errors = 0
        started = time.monotonic()
        n = 0
        while n < limit and time.monotonic() < deadline:
            request = requests[(offset + n) % len(requests)]
            n += 1
            t0 = time.perf_counter()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sock.sendall(request)
                    chunks = []
                    while chunk := sock.recv(65536):
                        chunks.append(chunk)
            except OSError:
                socket_errors += 1
                continue
            samples.append((time.perf_counter() - t0) * 1000)
            response = b"".join(chunks)
            status = int(response[9:12]) if response[:5] == b"HTTP/" else 0
            statuses[status] = statuses.get(status, 0) + 1
        results.append((samples, statuses, socket_errors, started, time.monotonic()))

    per_thread = [budget // threads + (1 if i < budget % threads else 0) for i in range(threads)]
    workers = [
        threading.Thread(target=client, args=(first + i * 7919, per_thread[i], ports[i % len(ports)]))
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    conn.send([(s.tobytes(), st, e, a, b) for s, st, e, a, b in results])
    conn.close()


def drive(
    server: Server | list[Server],
    requests: list[bytes],
    clients: int,
    seconds: float,
    expect: int,
    total: int = 10**9,
) -> dict[str, Any]:
    """`clients` concurrent clients for at most `seconds` and at most `total` requests,
    split evenly between the servers if there are several."""
    servers = server if isinstance(server, list) else [server]
    ports = [each.port for each in servers]
    workers = [pid for each in servers for pid in each.worker_pids()]
    cpu_before = cpu_seconds(workers)
    processes = max(1, min(clients, os.cpu_count() or 1))
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    budgets = [total * share // clients for share in shares]
    budgets[0] += total - sum(budgets)
    context = multiprocessing.get_context("fork")
    deadline = time.monotonic() + seconds
    pipes, children = [], []
    for i, (share, budget) in enumerate(zip(shares, budgets)):
        receive, send = context.Pipe(duplex=False)
        child = context.Process(
            target=_client_process, args=(ports[i:] + ports[:i], requests, share, deadline, budget, i * 104729, send)
        )
        child.start()
        pipes.append(receive)
        children.append(child)
    gathered = [item for receive in pipes for item in receive.recv()]
    for child in children:
        child.join()
    samples = array("d")
    statuses: dict[int, int] = {}
    socket_errors = 0
    for raw, st, errors, _, _ in gathered:
        part = array("d")
        part.frombytes(raw)
        samples.extend(part)
        socket_errors += errors
        for code, count in st.items():
            statuses[code] = statuses.get(code, 0) + count
    cpu = cpu_seconds(workers) - cpu_before
    wall = max(g[4] for g in gathered) - min(g[3] for g in gathered)
    ok = statuses.get(expect, 0)
    return {
        "clients": clients,
        "seconds": round(wall, 2),
        "requests": len(samples),
        "ok": ok,
        "per_second": ok / wall if wall else 0.0,
        "p50_ms": percentile(samples, 0.50) if samples else None,
        "p95_ms": percentile(samples, 0.95) if samples else None,
        "p99_ms": percentile(samples, 0.99) if samples else None,
        "errors": len(samples) - ok + socket_errors,
        "server_cpu_ms_per_request": 1000 * cpu / len(samples) if samples else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }
