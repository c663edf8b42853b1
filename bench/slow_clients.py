"""Slow and idle clients against `infoshare serve`, each front measured in the same run.

For each worker class (``sync``, the previous front, and ``gthread``, the
default), on a fresh sqlite store with 2 workers:

1. throughput: ``POST /v1/decisions`` from 8 clients (``http_load.drive``),
   with the decisions found in the store against those acknowledged;
2. under attack: IDLE connections that send nothing and SLOW that send a
   request line and then one header line a second, kept open (each one the
   server closes is opened again), while one legitimate client sends
   ``POST /v1/evaluate`` requests one after another; each is timed from
   connect to the last byte, and one not answered within TIMEOUT counts as
   TIMEOUT.

It prints a table and writes it as JSON to bench/results/. ``--quick``: fewer
requests and shorter runs (the figures are then only indicative).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import threading
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import http_load
from corpus import make_corpus
from inprocess import percentile

from infoshare.engine import load_policy
from infoshare.engine.policy.loader import SHIPPED_POLICY

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 10.0
TARGET_P99_MS = 100.0


class Attack:
    """IDLE silent connections and SLOW slow-drip ones, reopened whenever the server closes one."""

    def __init__(self, port: int, idle: int, slow: int) -> None:
        self.port, self.idle, self.slow = port, idle, slow
        self.stopping = threading.Event()
        self.reopened = 0
        self.threads = [threading.Thread(target=self._hold, daemon=True)]

    def _open(self, slow: bool) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        except OSError:
            return None
        sock.setblocking(False)
        if slow:
            with suppress(OSError):
                sock.send(b"POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        return sock

    @staticmethod
    def _closed(sock: socket.socket) -> bool:
        try:
            return sock.recv(65536, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _hold(self) -> None:
        held: list[tuple[socket.socket | None, bool]] = [(self._open(False), False) for _ in range(self.idle)]
        held += [(self._open(True), True) for _ in range(self.slow)]
        self.opened.set()
        n = 0
        while not self.stopping.wait(1.0):
            n += 1
            for i, (sock, slow) in enumerate(held):
                if sock is None or self._closed(sock):
                    if sock is not None:
                        sock.close()
                    held[i] = (self._open(slow), slow)
                    self.reopened += 1
                elif slow:
                    with suppress(OSError):
                        sock.send(f"X-Drip-{n}: {n}\r\n".encode())
        for sock, _ in held:
            if sock is not None:
                sock.close()

    def __enter__(self) -> Attack:
        self.opened = threading.Event()
        for thread in self.threads:
            thread.start()
        self.opened.wait(60)
        time.sleep(1.5)  # the drips have started, the idle ones sit in the server's queues
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()


def timed(port: int, request: bytes) -> float:
    """Milliseconds from connect to the last byte of a 200, or TIMEOUT (also for any other answer)."""
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            sock.settimeout(max(0.01, TIMEOUT - (time.perf_counter() - started)))
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                sock.settimeout(max(0.01, TIMEOUT - (time.perf_counter() - started)))
    except OSError:
        return TIMEOUT * 1000
    if not b"".join(chunks).startswith(b"HTTP/1.1 200"):
        return TIMEOUT * 1000
    return (time.perf_counter() - started) * 1000


def under_attack(target: http_load.Server, requests: list[bytes], count: int, idle: int, slow: int) -> dict[str, Any]:
    with Attack(target.port, idle, slow) as attack:
        deadline = time.monotonic() + 4 * TIMEOUT
        samples = []
        for n in range(count):
            samples.append(timed(target.port, requests[n % len(requests)]))
            if time.monotonic() > deadline:
                break
    return {
        "idle": idle,
        "slow": slow,
        "requests": len(samples),
        "p50_ms": percentile(samples, 0.50),
        "p99_ms": percentile(samples, 0.99),
        "max_ms": max(samples),
        "timeouts": sum(1 for s in samples if s >= TIMEOUT * 1000),
        "reopened": attack.reopened,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--idle", type=int, default=200)
    parser.add_argument("--slow", type=int, default=50)
    args = parser.parse_args()
    seconds, count, rounds = (2, 100, 2) if args.quick else (5, 500, 4)
    corpus = make_corpus(load_policy(SHIPPED_POLICY), 2000)
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg()[0],
        "cores": os.cpu_count(),
        "fronts": {},
    }
    with (
        http_load.infoshare_server(2, worker_class="sync") as sync,
        http_load.infoshare_server(2, worker_class="gthread") as threaded,
    ):
        targets = {"sync": sync, "gthread": threaded}
        record = {
            name: [
                http_load.post("/v1/decisions", {"case_ref": f"SLOW-{n}", "facts": case}, target.token)
                for n, case in enumerate(corpus)
            ]
            for name, target in targets.items()
        }
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for _ in range(rounds):  # interleaved, so both fronts meet the same machine load
            for name, target in targets.items():
                before = target.recorded()
                run = http_load.drive(target, record[name], 8, seconds, 201)
                run["recorded"] = target.recorded() - before
                runs[name].append(run)
        for name, target in targets.items():
            evaluate = [http_load.post("/v1/evaluate", {"facts": case}, target.token) for case in corpus]
            report["fronts"][name] = {
                "decisions_8_clients": runs[name],
                "quiet": under_attack(target, evaluate, count, 0, 0),
                "attacked": under_attack(target, evaluate, count, args.idle, args.slow),
            }
    print(render(report))
    out = REPO / "bench" / "results" / f"slow-clients-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {out.relative_to(REPO)}")
    return 0


def render(report: dict[str, Any]) -> str:
    lines = [
        f"slow clients, {report['cores']} cores, load average at start {report['load_average']:.2f}",
        f"{'front':<9} {'decisions/s (8 clients)':>24} {'p99 ms':>7} {'lost':>5} "
        f"{'quiet p99 ms':>13} {'attacked p50 ms':>16} {'attacked p99 ms':>16} {'timeouts':>9}",
    ]
    for name, front in report["fronts"].items():
        runs, quiet, attacked = front["decisions_8_clients"], front["quiet"], front["attacked"]
        rate = sorted(run["per_second"] for run in runs)[len(runs) // 2]
        p99 = sorted(run["p99_ms"] for run in runs)[len(runs) // 2]
        lost = sum(run["ok"] - run["recorded"] for run in runs)
        lines.append(
            f"{name:<9} {rate:>24,.0f} {p99:>7.1f} {lost:>5} "
            f"{quiet['p99_ms']:>13.1f} {attacked['p50_ms']:>16.1f} {attacked['p99_ms']:>16.1f} "
            f"{attacked['timeouts']:>5}/{attacked['requests']}"
        )
    lines.append(
        "decisions/s and their p99: the median of the interleaved blocks ("
        + ", ".join(
            f"{name} " + " ".join(f"{r['per_second']:.0f}" for r in f["decisions_8_clients"])
            for name, f in report["fronts"].items()
        )
        + ")"
    )
    attacked = report["fronts"]["gthread"]["attacked"]
    lines.append(
        f"attack: {attacked['idle']} idle + {attacked['slow']} slow-drip connections held open; "
        f"target p99 <= {TARGET_P99_MS:.0f} ms: {'met' if attacked['p99_ms'] <= TARGET_P99_MS else 'MISSED'}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
