"""POST /v1/decisions on sqlite and on PostgreSQL in one run: 8 and 32 clients, one and two servers.

Each server is `infoshare serve` with its defaults (two workers); two
servers share one store, with the clients split between them. The load is
wrk (keep-alive connections, a C client that leaves the cores to the
servers), one wrk per server. For every run it prints requests/s, latency
percentiles (with two servers, the higher of the two wrk runs'), errors,
decisions acknowledged against decisions found in the store, and what
bounds the rate: the CPU the servers' workers and (on PostgreSQL) the
service's database sessions spent per decision, the machine's idle CPU,
the WAL flushes per decision, and where the database sessions spent their
time, sampled from ``pg_stat_activity`` every 20 ms:

- ``lock``: waiting for the chain's advisory lock (the one point where all
  writers take turns);
- ``flush``: waiting for the WAL to reach the disk (a commit's flush);
- ``cpu``: running a statement;
- ``app``: idle or waiting for the service's next message (the time is the
  server's: Python, the engine, the network).

    .venv/bin/python bench/store_load.py [--seconds 10] [--clients 8 32] [--servers 1 2]
        [--stores sqlite postgresql] [--postgres postgresql://postgres@127.0.0.1:5432/test]
        [--against DIR]

``--stores`` takes sqlite and any PostgreSQL URL scheme (``postgresql``,
``postgresql+pool``: the same pool since pooling became the default).
``--against DIR`` also runs every row from another checkout of the project
with its own ``.venv`` (an earlier commit: ``git worktree add DIR SHA && make
-C DIR install``), marked ``before``, alternating with this tree's, so a
change is measured against what it replaced in one run.

Figures on a shared machine are noisy: compare rows of one run. Each
store's rows from this tree and the other follow each other, so that a
change in the machine's other load shows in both. ``db cpu`` counts the
sessions present at the end of a run (one opened during it from zero; one
that ended during it took its CPU with it, so the figure can be low).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import http_load
import wrk_load
from corpus import make_corpus

from infoshare.engine import load_policy
from infoshare.engine.policy.loader import SHIPPED_POLICY

WORKERS = 2  # `infoshare serve`'s default
TARGET = "POST /v1/decisions on PostgreSQL >= 1,000/s at 8 clients (wrk), p99 <= 20 ms, 0 errors, 0 lost"


class Sessions:
    """The service's PostgreSQL sessions (by application_name): their CPU, their waits, the WAL's flushes."""

    def __init__(self, dsn: str, name: str) -> None:
        import psycopg2

        self.name = name
        self.db = psycopg2.connect(dsn)
        self.db.autocommit = True
        self.waits: Counter[str] = Counter()
        self.stopping = threading.Event()

    def pids(self) -> list[int]:
        with self.db.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (self.name,))
            return [pid for (pid,) in cursor.fetchall()]

    def flushes(self) -> int:
        with self.db.cursor() as cursor:
            cursor.execute("SELECT wal_sync FROM pg_stat_wal")
            return cursor.fetchone()[0]

    def _sample(self) -> None:
        import psycopg2

        sampler = psycopg2.connect(self.db.dsn)
        sampler.autocommit = True
        with sampler.cursor() as cursor:
            while not self.stopping.wait(0.02):
                cursor.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE application_name = %s",
                    (self.name,),
                )
                for state, kind, event in cursor.fetchall():
                    if state != "active" or kind == "Client":
                        self.waits["app"] += 1
                    elif kind == "Lock" and event == "advisory":
                        self.waits["lock"] += 1
                    elif event in ("WALSync", "WALWrite", "WALInitSync") or kind == "IPC" and "Sync" in event:
                        self.waits["flush"] += 1
                    elif kind is None:
                        self.waits["cpu"] += 1
                    else:
                        self.waits[f"{kind}:{event}"] += 1
        sampler.close()

    @contextmanager
    def watching(self) -> Iterator[dict[str, Any]]:
        """Measure the sessions while the block runs; the figures fill the dict yielded."""
        found: dict[str, Any] = {}
        cpu = {pid: http_load.cpu_seconds([pid]) for pid in self.pids()}
        flushes = self.flushes()
        self.waits.clear()
        self.stopping.clear()
        sampler = threading.Thread(target=self._sample)
        sampler.start()
        try:
            yield found
        finally:
            self.stopping.set()
            sampler.join()
            # sessions opened during the run count from zero; one that ended took its CPU with it
            found["db_cpu_s"] = sum(http_load.cpu_seconds([pid]) - cpu.get(pid, 0.0) for pid in self.pids())
            found["flushes"] = self.flushes() - flushes
            found["sessions"] = len(self.pids())
            total = sum(self.waits.values()) or 1
            found["waits"] = {kind: round(100 * n / total) for kind, n in self.waits.most_common()}

    def close(self) -> None:
        self.db.close()


def idle_cpu() -> float:
    """Seconds all cores have been idle since boot (from /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def postgres_schema(dsn: str) -> Iterator[str]:
    import psycopg2

    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    schema = f"infoshare_bench_{uuid.uuid4().hex[:8]}"
    admin.cursor().execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        admin.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def measure(
    store: str,
    servers: int,
    clients: list[int],
    seconds: float,
    bodies: list[dict],
    dsn: str,
    tree: Path | None = None,
) -> list[dict[str, Any]]:
    rows = []
    label = f"{store}{' (before)' if tree else ''}"
    with ExitStack() as stack:
        sessions = None
        url = None
        if store != "sqlite":
            schema = stack.enter_context(postgres_schema(dsn))
            name = f"infoshare-bench-{schema[-8:]}"
            separator = "&" if "?" in dsn else "?"
            url = f"{store}:{dsn.partition(':')[2]}{separator}options=-csearch_path%3D{schema}&application_name={name}"
            sessions = Sessions(dsn, name)
            stack.callback(sessions.close)
        first = stack.enter_context(http_load.infoshare_server(WORKERS, url, tree=tree))
        running = [first]
        for _ in range(servers - 1):
            running.append(
                stack.enter_context(http_load.infoshare_server(WORKERS, first.database_url, first.token, tree=tree))
            )
        settle(running)  # each worker's start-up work in the background (the interview's first answers) done
        drive(running, bodies, 8, 1.0)  # every worker's pool, key and caches warm
        for count in clients:
            before = first.recorded()
            idle = idle_cpu()
            with sessions.watching() if sessions else _nothing() as database:
                run = drive(running, bodies, count, seconds)
            run["idle_cores"] = (idle_cpu() - idle) / run["seconds"]
            run["recorded"] = first.recorded() - before
            run.update(store=label, servers=servers, **database)
            rows.append(run)
            print(_line(run), flush=True)
    return rows


def settle(servers: list[http_load.Server], quiet: float = 0.05, most: float = 60.0) -> None:
    """Wait until the servers' workers are idle: under ``quiet`` CPU seconds in half a second."""
    pids = [pid for server in servers for pid in server.worker_pids()]
    deadline = time.monotonic() + most
    last = http_load.cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = http_load.cpu_seconds(pids)
        if now - last < quiet:
            return
        last = now


def drive(servers: list[http_load.Server], bodies: list[dict], clients: int, seconds: float) -> dict[str, Any]:
    """wrk on every server at once, the clients split between them; one row for them all."""
    shares = [clients // len(servers) + (1 if i < clients % len(servers) else 0) for i in range(len(servers))]
    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        runs = list(
            pool.map(
                lambda job: wrk_load.drive(job[0], "/v1/decisions", bodies, job[1], seconds, 201),
                zip(servers, shares),
            )
        )
    answered = sum(run["requests"] for run in runs)
    wall = max(run["seconds"] for run in runs)
    ok = sum(run["ok"] for run in runs)
    statuses: Counter[str] = Counter()
    for run in runs:
        statuses.update(run["statuses"])
    return {
        "clients": clients,
        "seconds": wall,
        "requests": answered,
        "ok": ok,
        "per_second": sum(run["per_second"] for run in runs),
        "p50_ms": max(run["p50_ms"] for run in runs),
        "p99_ms": max(run["p99_ms"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "server_cpu_ms_per_request": sum(run["server_cpu_ms_per_request"] * run["requests"] for run in runs)
        / max(1, answered),
        "statuses": dict(statuses),
    }


@contextmanager
def _nothing() -> Iterator[dict[str, Any]]:
    yield {}


HEADER = (
    f"{'store':<26}{'servers':>8}{'clients':>8}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
    f"{'acked':>7}{'stored':>7}{'srv cpu':>8}{'db cpu':>7}{'idle':>6}{'flush':>6}  db sessions' time"
)


def _line(run: dict[str, Any]) -> str:
    db_cpu = f"{1000 * run['db_cpu_s'] / run['requests']:7.2f}" if "db_cpu_s" in run else f"{'':>7}"
    flushes = f"{run['flushes'] / run['requests']:6.2f}" if "flushes" in run else f"{'':>6}"
    waits = ", ".join(f"{kind} {share}%" for kind, share in run.get("waits", {}).items())
    waits = f"{run['sessions']} sessions: {waits}" if "sessions" in run else waits
    return (
        f"{run['store']:<26}{run['servers']:>8}{run['clients']:>8}{run['per_second']:>8,.0f}{run['p50_ms']:>8.2f}"
        f"{run['p99_ms']:>8.2f}{run['errors']:>7}{run['ok']:>7}{run['recorded']:>7}"
        f"{run['server_cpu_ms_per_request']:>8.2f}{db_cpu}{run['idle_cores']:>6.2f}{flushes}  {waits}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--against", type=Path, help="another checkout with its own .venv, run as 'before'")
    args = parser.parse_args()
    if not wrk_load.available():
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    corpus = make_corpus(load_policy(SHIPPED_POLICY), 10_000)
    bodies = [{"case_ref": f"BENCH-{n}", "facts": case} for n, case in enumerate(corpus)]
    load = os.getloadavg()[0]
    print(f"POST /v1/decisions, {os.cpu_count()} cores, load average at start {load:.2f}, {WORKERS} workers a server")
    print("srv cpu, db cpu: CPU ms per request of the servers' workers and of the service's database sessions;")
    print("idle: cores idle during the run; flush: WAL flushes per request")
    print(HEADER, flush=True)
    rows = []
    for servers in args.servers:
        for store in args.stores:
            for tree in [None, args.against] if args.against else [None]:
                rows += measure(store, servers, args.clients, args.seconds, bodies, args.postgres, tree)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    met = [
        row
        for row in rows
        if row["store"] == "postgresql" and row["clients"] == 8 and row["servers"] == 1
        if row["per_second"] >= 1000 and row["p99_ms"] <= 20 and row["errors"] == 0 and row["ok"] <= row["recorded"]
    ]
    lost = [row for row in rows if row["ok"] > row["recorded"] or row["errors"]]
    print(f"target: [{'met' if met else 'MISSED'}] {TARGET}")
    for row in lost:
        print(f"FAILED: {row['store']} {row['servers']} servers {row['clients']} clients: {_line(row)}")
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
