"""Fail closed everywhere: faults injected under every route, then cleared.

While a fault holds, every route either answers as it would without it (a
route the fault does not touch) or fails with a 5xx whose JSON body has a
request id and no verdict; a decision that cannot be recorded is never
returned. When the fault clears, the service records again without a
restart, and the log's chain still verifies. Each fault is an
``(inject, clear)`` pair in FAULTS; a new way to fail (a policy reload that
finds its file gone, for one) is one more entry.
"""

from __future__ import annotations

import shutil
import uuid

import pytest
from peewee import DatabaseError
from service_cases import SHARE_FACTS

from infoshare.engine import EvaluationError, PolicyError
from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access import auth
from infoshare.service.access.keys import active_key, create_key
from infoshare.service.store.connections import read_retried
from infoshare.service.store.database import open_store
from infoshare.service.store.logaudit import verify_store
from infoshare.service.store.models import Decision


class Probe:
    """Calls every route with a case the policy answers `share`, and collects the answers."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()
        with app.app_context():
            self.case_system = {"Authorization": f"Bearer {create_key('case-system', 'fault-cms')[1]}"}
            self.coordinator = {"Authorization": f"Bearer {create_key('coordinator', 'fault-co')[1]}"}
        self.acknowledged = 0
        self.known_id = self.record().json["id"]

    def record(self):
        response = self.client.post(
            "/v1/decisions", json={"case_ref": "FAULT-1", "facts": SHARE_FACTS}, headers=self.case_system
        )
        self.acknowledged += response.status_code == 201
        return response

    def every_route(self) -> dict[str, object]:
        c = self.client
        return {
            "record": self.record(),
            "evaluate": c.post("/v1/evaluate", json={"facts": SHARE_FACTS}, headers=self.case_system),
            "read": c.get(f"/v1/decisions/{self.known_id}", headers=self.case_system),
            "case file": c.get("/v1/cases/FAULT-1/decisions", headers=self.case_system),
            "review": c.post(
                f"/v1/decisions/{self.known_id}/review",
                json={"decision": "share", "rationale": "ok", "reviewed_by": "A. Khan"},
                headers=self.coordinator,
            ),
            "policy": c.get("/v1/policy", headers=self.case_system),
            "ready": c.get("/readyz"),
        }

    def recorded(self) -> int:
        with self.app.app_context():
            return Decision.select().count()


def assert_failed_closed(response, statuses=(503,)) -> None:
    """A 5xx among ``statuses``, as JSON with the request id, and no verdict."""
    text = response.get_data(as_text=True)
    assert response.status_code in statuses, text
    body = response.json
    assert set(body) == {"type", "title", "status", "detail", "error", "messages", "request_id"}
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in text and "decision" not in body and '"share' not in text


def sqlite_pragma(setting: str):
    """Set a PRAGMA on the app's own connection (the test client serves in this thread)."""
    return lambda app, _monkeypatch: app.extensions["infoshare"].database.execute_sql(f"PRAGMA {setting}")


def fill_the_disk(app, _monkeypatch) -> None:
    database = app.extensions["infoshare"].database
    pages = database.execute_sql("PRAGMA page_count").fetchone()[0]
    database.execute_sql(f"PRAGMA max_page_count = {pages}")


def break_the_chain_table(app, _monkeypatch) -> None:
    app.extensions["infoshare"].database.execute_sql(
        "CREATE TEMP TRIGGER fault_link BEFORE INSERT ON main.log_link BEGIN SELECT RAISE(ABORT, 'fault'); END"
    )


def mend_the_chain_table(app, _monkeypatch) -> None:
    app.extensions["infoshare"].database.execute_sql("DROP TRIGGER temp.fault_link")


def engine_raises(error: Exception):
    def inject(app, monkeypatch) -> None:
        def broken(_facts):
            raise error

        monkeypatch.setattr(app.extensions["infoshare"].engine, "evaluate_valid", broken)

    return inject


STORE_FAULT = {"record": (503,), "review": (503,), "ready": (503,)}
# fault -> (inject, clear, {route: statuses it may fail with}); other routes must answer as usual.
FAULTS = {
    "store read-only": (sqlite_pragma("query_only = 1"), sqlite_pragma("query_only = 0"), STORE_FAULT),
    # A full disk still takes a write that fits in a page it has (a short review may);
    # readiness looks at the room left, so it sees the disk is full.
    "disk full": (fill_the_disk, sqlite_pragma("max_page_count = 1073741823"), {**STORE_FAULT, "review": (201, 503)}),
    "chain cannot be appended": (break_the_chain_table, mend_the_chain_table, {"record": (503,), "review": (503,)}),
    "engine fails": (
        engine_raises(EvaluationError("rules engine failed")),
        lambda app, m: m.undo(),
        {"record": (503,), "evaluate": (503,)},
    ),
    "engine out of memory": (
        engine_raises(MemoryError()),
        lambda app, m: m.undo(),
        {"record": (500,), "evaluate": (500,)},
    ),
    "engine crashes": (
        engine_raises(RuntimeError("boom")),
        lambda app, m: m.undo(),
        {"record": (500,), "evaluate": (500,)},
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_fails_closed_on_every_route_and_the_service_recovers(app, fault, monkeypatch):
    inject, clear, failing = FAULTS[fault]
    probe = Probe(app)
    normal = probe.every_route()
    inject(app, monkeypatch)
    during = probe.every_route()
    clear(app, monkeypatch)
    after = probe.every_route()

    for route, response in during.items():
        allowed = failing.get(route, (normal[route].status_code,))
        if response.status_code >= 400:
            assert_failed_closed(response, allowed)
        else:
            assert response.status_code in allowed, (route, response.get_data(as_text=True))
    for route, response in after.items():
        assert response.status_code == normal[route].status_code, (route, response.get_data(as_text=True))
    assert after["record"].json["decision"] == "share"
    assert probe.recorded() == probe.acknowledged  # nothing recorded that was not answered, nothing lost
    with app.app_context():
        assert verify_store().ok


def test_the_policy_files_vanishing_leave_the_loaded_policy_serving_and_block_a_restart(tmp_path, database_url):
    """The policy is read once at start: files gone afterwards change no answer, and a start
    without them is refused with the path, so no service runs without a policy."""
    policy = tmp_path / "policy"
    shutil.copytree(SHIPPED_POLICY, policy)
    app = create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(policy)})
    probe = Probe(app)
    before = probe.every_route()
    shutil.rmtree(policy)
    during = probe.every_route()
    assert {route: r.status_code for route, r in during.items()} == {
        route: r.status_code for route, r in before.items()
    }
    assert during["record"].json["decision"] == "share"
    assert during["record"].json["policy"] == before["record"].json["policy"]
    with pytest.raises(PolicyError) as refused:
        create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(policy)})
    assert str(policy) in str(refused.value)


def test_a_dropped_postgresql_connection_fails_closed_and_the_next_requests_recover(pg_url, monkeypatch):
    """Dropped between requests, the pool replaces the connection and no answer changes; dropped
    before a request's key is checked, the check runs again on another connection; dropped after,
    every route that goes on to use the store fails closed; then all recover."""
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"infoshare-fault-{uuid.uuid4().hex[:8]}"
    url = pg_url.replace("postgresql://", "postgresql+pool://", 1) + f"&application_name={name}"
    app = create_app({"DATABASE_URL": url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    probe = Probe(app)
    admin = psycopg2.connect(pg_url)
    admin.autocommit = True

    def terminate(where: str, value: object) -> int:
        with admin.cursor() as cursor:  # waits (up to 5 s) until the backend is gone
            cursor.execute(
                f"SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE {where}", (value,)
            )
            return cursor.fetchone()[0]

    normal = {route: r.status_code for route, r in probe.every_route().items()}
    for _ in range(2):
        assert terminate("application_name = %s", name) >= 1  # the pool kept a connection, and it is gone now
        assert {route: r.status_code for route, r in probe.every_route().items()} == normal

    def cut_then_look_up(token: str):
        """The request's own connection is cut after it was taken from the pool, before the key's check."""
        database = app.extensions["infoshare"].database
        assert terminate("pid = %s", database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]) == 1
        return active_key(token)

    monkeypatch.setattr(auth, "active_key", cut_then_look_up)
    retried = probe.every_route()  # the key's check is a read: run again on another connection
    monkeypatch.undo()
    assert {route: r.status_code for route, r in retried.items()} == normal

    def look_up_then_cut(token: str):
        """The request's own connection is cut once its key is checked, before the request's own statements."""
        key = active_key(token)
        database = app.extensions["infoshare"].database
        assert terminate("pid = %s", database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]) == 1
        return key

    monkeypatch.setattr(auth, "active_key", look_up_then_cut)
    during = probe.every_route()
    monkeypatch.undo()
    admin.close()
    assert during.pop("ready").status_code == 200  # no key, so nothing cut: the store answers
    assert during.pop("evaluate").status_code == normal["evaluate"]  # needs nothing more from the store
    for response in during.values():
        assert_failed_closed(response)
    recovered = probe.every_route()
    assert {route: r.status_code for route, r in recovered.items()} == {
        "record": 201,
        "evaluate": 200,
        "read": 200,
        "case file": 200,
        "review": 201,
        "policy": 200,
        "ready": 200,
    }
    assert probe.recorded() == probe.acknowledged
    with app.app_context():
        assert verify_store().ok


def test_a_read_whose_session_was_cut_mid_answer_runs_again_whatever_error_the_driver_gave(pg_url):
    """A session cut while its answer is read can surface as any of the driver's errors (psycopg2
    gives ``DatabaseError`` for a result cut short, not only ``OperationalError``): once the
    session is known to be gone, a read is run again on another connection, as for the others."""
    database = open_store(pg_url.replace("postgresql://", "postgresql+pool://", 1))
    admin = pytest.importorskip("psycopg2").connect(pg_url)
    admin.autocommit = True
    tries = []

    def read() -> int:
        (pid,) = database.execute_sql("SELECT pg_backend_pid()").fetchone()
        tries.append(pid)
        if len(tries) == 1:
            with admin.cursor() as cursor:  # waits (up to 5 s) until the backend is gone
                cursor.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
            try:
                database.execute_sql("SELECT 1")
            except DatabaseError as cut:
                raise DatabaseError("a result cut short") from cut
        return pid

    try:
        with database.connection_context():
            answered = read_retried(database, read)
    finally:
        admin.close()
        database.close_all()
    assert len(tries) == 2 and answered == tries[1] != tries[0]
