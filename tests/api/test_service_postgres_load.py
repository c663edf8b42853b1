"""PostgreSQL as a deployment uses it: several servers, one store, connections pooled per process.

Two `infoshare serve` processes (two workers each) share one PostgreSQL
schema while eight clients, four per server, record decisions. Midway every
session of the service is ended from the database side
(``pg_terminate_backend``, what a failover or a restarted server does to
them). Nothing may answer other than 201, every acknowledged decision must
be stored once and read back as it was answered, the chain must verify
(``infoshare log verify``, with whatever it checks), and every answer must
carry the policy version the store says is active. After SIGTERM every
worker must exit by itself and no session of the service may remain.
INFOSHARE_PG_LOAD_SECONDS sets the time under load (3 s here; `make soak`
runs 60 s and ends the sessions three times).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from service_cases import BARE_FACTS, SETUP_RECORDS, SHARE_FACTS
from test_service_live import call, infoshare, start_server

from infoshare.service.store.database import open_store

LOAD_SECONDS = float(os.environ.get("INFOSHARE_PG_LOAD_SECONDS", "3"))
FAILOVERS = int(os.environ.get("INFOSHARE_PG_FAILOVERS", "1"))
SERVERS, WORKERS, CLIENTS = 2, 2, 8
CASES = [SHARE_FACTS, BARE_FACTS, {**SHARE_FACTS, "consent": "refused", "harm_concern": "yes"}]

psycopg2 = pytest.importorskip("psycopg2")


def _sessions(admin, name: str) -> list[int]:
    with admin.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,))
        return [pid for (pid,) in cursor.fetchall()]


def _end_sessions(admin, name: str) -> int:
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s", (name,)
        )
        return cursor.fetchone()[0]


class Clients:
    """Eight clients, each sending to one of the servers, that can be held between requests."""

    def __init__(self, bases: list[str], token: str) -> None:
        self.bases, self.token = bases, token
        self.running = threading.Event()
        self.running.set()
        self.stopping = threading.Event()
        self.idle = threading.Semaphore(0)  # released by each client as it parks
        self.lock = threading.Lock()
        self.acknowledged: dict[str, tuple[int, dict]] = {}  # case_ref -> (server, body)
        self.other: list[tuple[int, dict]] = []
        self.sent: set[str] = set()
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(CLIENTS)]

    def run(self, client: int) -> None:
        server = client % len(self.bases)
        n = 0
        while not self.stopping.is_set():
            if not self.running.is_set():
                self.idle.release()
                self.running.wait()
                continue
            n += 1
            case_ref = f"PGLOAD-{client}-{n}"
            with self.lock:
                self.sent.add(case_ref)
            status, body = call(
                "POST",
                f"{self.bases[server]}/v1/decisions",
                {"case_ref": case_ref, "facts": CASES[n % len(CASES)]},
                self.token,
            )
            with self.lock:
                if status == 201:
                    self.acknowledged[case_ref] = (server, body)
                else:
                    self.other.append((status, body))

    def hold(self) -> None:
        """Return once every client has finished its request in flight and waits."""
        self.running.clear()
        for _ in self.threads:
            assert self.idle.acquire(timeout=60), "a client did not finish its request"

    def resume(self) -> None:
        self.running.set()

    def __enter__(self) -> Clients:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.running.set()
        for thread in self.threads:
            thread.join(timeout=60)


def test_two_servers_share_one_postgresql_store_under_load_through_a_failover_and_stop_cleanly(pg_url, tmp_path):
    name = f"infoshare-load-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": f"{pg_url}&application_name={name}", "INFOSHARE_POLICY": ""}
    env["INFOSHARE_RATE_LIMIT"] = "0"  # one key drives all the load
    token = infoshare("keys", "create", "--role", "case-system", "--name", "load", env=env).stdout.split()[-1]
    logs = [tmp_path / f"server-{n}.log" for n in range(SERVERS)]
    servers = [start_server(env, log, WORKERS) for log in logs]
    admin = psycopg2.connect(pg_url)
    admin.autocommit = True
    try:
        with Clients([base for _, base in servers], token) as clients:
            for _ in range(FAILOVERS):
                time.sleep(LOAD_SECONDS / (FAILOVERS + 1))
                clients.hold()
                # A worker keeps one session per thread that used the store at once (gthread workers),
                # so at most its server's clients each; none for a master.
                assert len(_sessions(admin, name)) <= SERVERS * WORKERS * (CLIENTS // SERVERS)
                assert _end_sessions(admin, name) >= 1
                clients.resume()
            time.sleep(LOAD_SECONDS / (FAILOVERS + 1))
        assert clients.other == [], clients.other[:3]
        assert len(clients.acknowledged) > 0

        active = {call("GET", f"{base}/v1/policy", token=token)[1]["digest"] for _, base in servers}
        assert len(active) == 1
        answered = {(server, body["policy"]["digest"]) for server, body in clients.acknowledged.values()}
        assert answered == {(server, *active) for server in range(SERVERS)}  # both servers answered, all with it

        def read_back(item: tuple[int, dict]) -> bool:
            server, made = item
            return call("GET", f"{servers[1 - server][1]}/v1/decisions/{made['id']}", token=token) == (200, made)

        with ThreadPoolExecutor(max_workers=4) as pool:  # each read from the server that did not record it
            assert all(pool.map(read_back, clients.acknowledged.values()))
    finally:
        for process, _ in servers:
            process.send_signal(signal.SIGTERM)
        for process, _ in servers:
            process.wait(timeout=60)

    for log in logs:  # every worker closed its sessions and exited; none had to be killed
        text = log.read_text()
        assert "SIGKILL" not in text and text.count("Worker exiting") == WORKERS, text[-3000:]
    deadline = time.monotonic() + 10
    while _sessions(admin, name) and time.monotonic() < deadline:
        time.sleep(0.05)  # a backend leaves pg_stat_activity a moment after its client said goodbye
    assert _sessions(admin, name) == []

    with admin.cursor() as cursor:
        cursor.execute(f"SELECT case_ref FROM {pg_url.rpartition('%3D')[2]}.decision")
        stored = [ref for (ref,) in cursor.fetchall()]
    admin.close()
    assert len(stored) == len(set(stored)), "a decision was stored twice"
    assert set(clients.acknowledged) <= set(stored) <= clients.sent
    verified = infoshare("log", "verify", env=env)  # exits 1, failing the test, on any finding
    assert verified.stdout.startswith(f"OK: {len(stored) + SETUP_RECORDS} records"), verified.stdout
    print(
        f"\n{SERVERS} servers x {WORKERS} workers, {CLIENTS} clients, {LOAD_SECONDS:g} s, {FAILOVERS} failovers: "
        f"{len(clients.acknowledged)} acknowledged, {len(stored)} stored, 0 other answers"
    )


def _backend_pid(database) -> int:
    with database.connection_context():
        return database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def test_a_forked_child_opens_its_own_session_and_leaves_its_parents_alone(pg_url):
    """A pooled connection open at fork time is the parent's: the child must neither use nor close it.

    The child runs first and alone (two processes on one socket could each wait for an answer
    the other read): it must get a session of its own, and its exit must not end the parent's.
    """
    database = open_store(pg_url)
    parent = _backend_pid(database)  # now idle in the pool, as in a server's master after start-up
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            answers = [database.execute_sql("SELECT %s", (n,)).fetchone()[0] for n in range(100)]
            pid = _backend_pid(database)
            database.close_all()
            os.write(write, f"{pid} {answers == list(range(100))}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        child_pid, child_answers = pipe.read().split()
    assert int(child_pid) != parent and child_answers == "True"
    assert _backend_pid(database) == parent  # the child's exit did not end the parent's session
    database.close_all()


def test_an_exhausted_pool_is_a_store_error_not_a_crash(pg_url):
    """A thread that cannot get a connection in time fails with a peewee error, which the API answers 503."""
    from peewee import PeeweeException

    database = open_store(f"{pg_url}&max_connections=1&timeout=1")
    held = threading.Event()
    done = threading.Event()

    def hold() -> None:
        with database.connection_context():
            held.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(30)
    try:
        with pytest.raises(PeeweeException):
            database.connect()
    finally:
        done.set()
        holder.join()
    database.close_all()


def test_the_pool_is_the_default_on_postgresql_and_named_in_pg_stat_activity(pg_url):
    database = open_store(pg_url)
    first = _backend_pid(database)
    assert _backend_pid(database) == first  # given back and taken again, not reconnected
    admin = psycopg2.connect(pg_url)
    with admin.cursor() as cursor:
        cursor.execute("SELECT application_name FROM pg_stat_activity WHERE pid = %s", (first,))
        assert cursor.fetchone() == ("infoshare",)
        cursor.execute("SELECT pg_terminate_backend(%s)", (first,))
    admin.close()
    assert _backend_pid(database) != first  # the dead one was found on checkout and replaced
    database.close_all()
