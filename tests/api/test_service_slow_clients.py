"""Idle and slow-drip connections do not stop `infoshare serve` answering everyone else.

Sockets that connect and send nothing, and sockets that send a request line
and then one header line at a time, are held open against a started server
while a legitimate client sends requests one after another; every one must
be answered, promptly. INFOSHARE_SLOW_IDLE and INFOSHARE_SLOW_DRIP set how
many (20 and 10 here; `make soak` holds 200 and 50); bench/slow_clients.py
measures the latencies against the previous front.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from urllib.parse import urlsplit

from test_service_live import call, environment, serving

IDLE = int(os.environ.get("INFOSHARE_SLOW_IDLE", "20"))
DRIP = int(os.environ.get("INFOSHARE_SLOW_DRIP", "10"))
LEGITIMATE = 60
ANSWER_WITHIN_SECONDS = 5  # the sync front answered nothing within 35 s with 4 drips open


def test_legitimate_requests_are_answered_while_idle_and_slow_drip_connections_are_held(tmp_path):
    with serving(environment(tmp_path / "slow.sqlite3"), tmp_path / "server.log") as base:
        where = urlsplit(base)
        address = (where.hostname, where.port)
        idle = [socket.create_connection(address) for _ in range(IDLE)]
        drips = [socket.create_connection(address) for _ in range(DRIP)]
        for sock in drips:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        stop = threading.Event()

        def drip() -> None:
            n = 0
            while not stop.wait(0.5):
                n += 1
                for sock in drips:
                    with contextlib.suppress(OSError):
                        sock.sendall(f"X-Drip-{n}: {n}\r\n".encode())

        dripping = threading.Thread(target=drip)
        dripping.start()
        try:
            stop.wait(1.5)  # every drip has begun its headers and every idle socket is queued
            latencies = []
            for _ in range(LEGITIMATE):
                started = time.perf_counter()
                status, _ = call("GET", f"{base}/readyz")
                latencies.append(time.perf_counter() - started)
                assert status == 200
        finally:
            stop.set()
            dripping.join()
            for sock in idle + drips:
                sock.close()
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(
        f"\n{IDLE} idle + {DRIP} slow-drip held: {LEGITIMATE} requests, p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
    )
    assert latencies[-1] < ANSWER_WITHIN_SECONDS, latencies[-5:]
