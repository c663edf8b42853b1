"""Crash safety: SIGKILL a loaded server, master and workers at once, at random moments.

`infoshare serve` runs with three workers while eight clients record
decisions; the whole process group is killed with SIGKILL several times and
started again on the same store. Afterwards every decision a client got a 201
for must read back exactly as it was returned, no request may have been
recorded twice, nothing may be recorded that no client sent, and the hash
chain must verify. On sqlite and on PostgreSQL. INFOSHARE_CRASH_KILLS sets
the number of kills (3 here; `make soak` kills 20 times per store).
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from service_cases import BARE_FACTS, SETUP_RECORDS, SHARE_FACTS
from test_service_live import call, infoshare, start_server

KILLS = int(os.environ.get("INFOSHARE_CRASH_KILLS", "3"))
CLIENTS = 8
WORKERS = 3
CASES = [
    SHARE_FACTS,
    BARE_FACTS,
    {**SHARE_FACTS, "consent": "refused", "harm_concern": "yes"},
    {**SHARE_FACTS, "information": [{**SHARE_FACTS["information"][0], "item": "Ünïcödé – “quoted” 😀"}]},
]


class Server:
    """`infoshare serve` in a process group of its own, so one signal reaches master and workers."""

    def __init__(self, env: dict, log: Path) -> None:
        self.process, self.base = start_server(env, log, WORKERS, start_new_session=True)
        self.killed_at: float | None = None

    def kill(self) -> None:
        self.killed_at = time.monotonic()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


class Clients:
    """Eight clients recording decisions, each request with a case_ref of its own, never resent.

    Every answer is counted by its status, JSON or not. A request with no answer (refused, reset,
    cut off, timed out) is kept with the server it went to and when it started and ended: it is
    excused only if that server had been killed by the time it failed."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.server: Server | None = None
        self.stopping = threading.Event()
        self.acknowledged: dict[str, dict] = {}
        self.sent: set[str] = set()
        self.other: list[tuple[int, object]] = []
        self.unanswered: list[tuple[Server, float, float, str]] = []
        self.answered: list[tuple[Server, float, float]] = []  # (server, started, ended) of every answer
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(CLIENTS)]

    def run(self, client: int) -> None:
        n = 0
        while not self.stopping.is_set():
            server = self.server
            if server is None:  # the first server is still starting
                time.sleep(0.02)
                continue
            n += 1
            case_ref = f"CRASH-{client}-{n}"
            with self.lock:
                self.sent.add(case_ref)
            started = time.monotonic()
            try:
                status, body = call(
                    "POST",
                    f"{server.base}/v1/decisions",
                    {"case_ref": case_ref, "facts": CASES[n % len(CASES)]},
                    self.token,
                )
            except (OSError, http.client.HTTPException) as error:
                with self.lock:
                    self.unanswered.append((server, started, time.monotonic(), repr(error)))
                time.sleep(0.02)
                continue
            with self.lock:
                self.answered.append((server, started, time.monotonic()))
                if status == 201:
                    self.acknowledged[case_ref] = body
                else:
                    self.other.append((status, body))

    def __enter__(self) -> Clients:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)


def crash_and_check(env: dict, tmp_path: Path, stored_case_refs) -> None:
    token = infoshare("keys", "create", "--role", "case-system", "--name", "crash", env=env).stdout.split()[-1]
    log = tmp_path / "server.log"
    rng = random.Random()
    killed = []
    with Clients(token) as clients:
        for _ in range(KILLS):
            server = Server(env, log)
            clients.server = server
            time.sleep(rng.uniform(0.5, 2.5))
            server.kill()
            killed.append(server)
        server = Server(env, log)
        clients.server = server
        time.sleep(1.0)
    try:
        acknowledged = dict(clients.acknowledged)
        assert acknowledged, "no decision was acknowledged"
        assert [status for status, _ in clients.other if status >= 500] == [], clients.other[:3]
        unexplained = [
            (error, round(ended - started, 3))
            for dead_or_alive, started, ended, error in clients.unanswered
            if dead_or_alive.killed_at is None or ended < dead_or_alive.killed_at
        ]
        assert unexplained == [], f"requests lost with no kill to explain them: {unexplained[:5]}"

        # Every kill lands on a loaded server: requests to it were in flight. Some of those may
        # have been answered already, their answers on the way when the kill came (a client
        # process of 8 threads can be slower to read them than the server is to answer), but
        # the kills must cut requests off in all: at least one for each kill, on average.
        def spanning(dead: Server, spans: list) -> int:
            return sum(1 for to, started, ended, *_ in spans if to is dead and started < dead.killed_at <= ended)

        in_flight = [spanning(dead, clients.unanswered) + spanning(dead, clients.answered) for dead in killed]
        interrupted = [spanning(dead, clients.unanswered) for dead in killed]
        assert all(in_flight), f"a kill found no request in flight (per kill: {in_flight})"
        assert sum(interrupted) >= len(killed), f"kills cut off too few requests (per kill: {interrupted})"

        def read_back(item: tuple[str, dict]) -> tuple[str, bool]:
            case_ref, made = item
            status, stored = call("GET", f"{server.base}/v1/decisions/{made['id']}", token=token)
            return case_ref, status == 200 and stored == made

        with ThreadPoolExecutor(max_workers=4) as pool:
            lost_or_changed = [case_ref for case_ref, same in pool.map(read_back, acknowledged.items()) if not same]
    finally:
        server.stop()

    stored = stored_case_refs()
    twice = sorted({ref for ref in stored if stored.count(ref) > 1})
    phantom = sorted(set(stored) - clients.sent)
    print(
        f"\nkilled runs: {KILLS}; requests each kill cut off: {interrupted}; "
        f"decisions acknowledged: {len(acknowledged)}; lost or changed: "
        f"{len(lost_or_changed)}; recorded but cut off before the answer: {len(set(stored) - set(acknowledged))}; "
        f"recorded twice: {len(twice)}"
    )
    assert lost_or_changed == []
    assert twice == [] and phantom == []
    assert set(acknowledged) <= set(stored)
    verified = infoshare("log", "verify", env=env)
    assert verified.stdout.startswith(f"OK: {len(stored) + SETUP_RECORDS} records"), verified.stdout + verified.stderr


def test_sigkill_under_load_loses_no_acknowledged_decision_on_sqlite(tmp_path):
    database = tmp_path / "crash.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "INFOSHARE_POLICY": ""}

    def stored_case_refs() -> list[str]:
        with sqlite3.connect(database) as db:
            return [ref for (ref,) in db.execute("SELECT case_ref FROM decision")]

    crash_and_check(env, tmp_path, stored_case_refs)


def test_sigkill_under_load_loses_no_acknowledged_decision_on_postgresql(tmp_path, pg_url):
    psycopg2 = pytest.importorskip("psycopg2")
    env = {**os.environ, "DATABASE_URL": pg_url, "INFOSHARE_POLICY": ""}

    def stored_case_refs() -> list[str]:
        with psycopg2.connect(pg_url) as db, db.cursor() as cursor:
            cursor.execute("SELECT case_ref FROM decision")
            return [ref for (ref,) in cursor.fetchall()]

    crash_and_check(env, tmp_path, stored_case_refs)
