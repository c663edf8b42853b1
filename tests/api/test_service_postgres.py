"""The same models and API on PostgreSQL (the path for many service processes, one log).

Uses the ``pg_url`` fixture (tests/api/conftest.py): a schema of its own on
the server INFOSHARE_TEST_POSTGRES names, dropped afterwards.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from peewee import PostgresqlDatabase
from service_cases import BARE_FACTS, SHARE_FACTS

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key
from infoshare.service.store.database import open_store


def test_record_read_review_and_case_file_on_postgresql(pg_url):
    app = create_app({"DATABASE_URL": pg_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    assert isinstance(app.extensions["infoshare"].database, PostgresqlDatabase)
    with app.app_context():
        case_system = {"Authorization": f"Bearer {create_key('case-system', 'pg-cms')[1]}"}
        coordinator = {"Authorization": f"Bearer {create_key('coordinator', 'pg-co')[1]}"}
    client = app.test_client()
    assert client.get("/readyz").status_code == 200

    made = client.post(
        "/v1/decisions", json={"case_ref": "PG-1", "facts": SHARE_FACTS, "requested_by": "sw-1"}, headers=case_system
    )
    assert made.status_code == 201 and made.json["decision"] == "share"
    client.post("/v1/decisions", json={"case_ref": "PG-1", "facts": BARE_FACTS}, headers=case_system)
    review = client.post(
        f"/v1/decisions/{made.json['id']}/review",
        json={"decision": "share", "rationale": "Agreed.", "reviewed_by": "A. Khan"},
        headers=coordinator,
    )
    assert review.status_code == 201

    read = client.get(f"/v1/decisions/{made.json['id']}", headers=coordinator).json
    assert read["facts"] == SHARE_FACTS and read["requested_by"] == "sw-1"
    assert read["reviews"][0]["rationale"] == "Agreed."
    assert read["recorded_at"] == made.json["recorded_at"]
    case_file = client.get("/v1/cases/PG-1/decisions", headers=case_system).json["decisions"]
    assert [d["decision"] for d in case_file] == ["share", "undetermined"]


def test_concurrent_records_on_postgresql_are_all_kept(pg_url):
    app = create_app({"DATABASE_URL": pg_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with app.app_context():
        headers = {"Authorization": f"Bearer {create_key('case-system', 'pg-many')[1]}"}

    def record(n: int) -> int:
        with app.test_client() as client:
            response = client.post(
                "/v1/decisions", json={"case_ref": f"PG-MANY-{n % 3}", "facts": BARE_FACTS}, headers=headers
            )
            assert response.status_code == 201, response.json
            return response.json["id"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(record, range(60)))
    assert len(set(ids)) == 60
    client = app.test_client()
    found = [
        d["id"]
        for n in range(3)
        for d in client.get(f"/v1/cases/PG-MANY-{n}/decisions", headers=headers).json["decisions"]
    ]
    assert sorted(found) == sorted(ids)


def test_policy_versions_and_reload_on_postgresql(pg_url, tmp_path):
    import shutil

    folder = tmp_path / "policy"
    shutil.copytree(SHIPPED_POLICY, folder)
    settings = {"DATABASE_URL": pg_url, "INFOSHARE_POLICY": str(folder), "INFOSHARE_POLICY_POLL_SECONDS": 0.0}
    first, second = create_app(settings), create_app(settings)  # two servers sharing one store
    with first.app_context():
        owner = {"Authorization": f"Bearer {create_key('policy-owner', 'pg-owner')[1]}"}
        asker = {"Authorization": f"Bearer {create_key('case-system', 'pg-asker')[1]}"}
    made = (
        first.test_client().post("/v1/decisions", json={"case_ref": "PG-V", "facts": SHARE_FACTS}, headers=asker).json
    )
    rules = folder / "policy.yaml"
    rules.write_text(rules.read_text().replace("version: 2.0.0", "version: 2.0.1"))
    reloaded = first.test_client().post("/v1/policy/reload", headers=owner)
    assert reloaded.status_code == 200, reloaded.json
    assert second.test_client().get("/v1/policy", headers=asker).json["version"] == "2.0.1"
    read = second.test_client().get(f"/v1/decisions/{made['id']}?explain=as-decided", headers=asker).json
    assert read["as_decided"]["policy"]["version"] == "2.0.0" and read["as_decided"]["reproduced"]


def _open_store(url: str, at: float) -> str:
    time.sleep(max(0.0, at - time.time()))  # every process imported, all start at once
    try:
        open_store(url)
    except Exception as exc:  # noqa: BLE001 - the test reports what a starting server would have died of
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return "ok"


def test_servers_starting_together_on_a_new_postgresql_store_all_start(pg_url):
    """Four processes set up one brand-new store at the same moment; none may fail on the others' tables."""
    for _ in range(3):  # a fresh store each round: only the first set-up races
        with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
            at = time.time() + 3
            assert list(pool.map(_open_store, [pg_url] * 4, [at] * 4)) == ["ok"] * 4
        _recreate_schema(pg_url)


def _recreate_schema(url: str) -> None:
    import psycopg2

    dsn, _, options = url.partition("?options=-csearch_path%3D")
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {options} CASCADE; CREATE SCHEMA {options}")


def _counting_statements(database) -> list[str]:
    """Every statement the pool's connections send from now on (new connections, counted cursors)."""
    import psycopg2.extensions

    sent: list[str] = []

    class Counting(psycopg2.extensions.cursor):
        def execute(self, query, vars=None):
            sent.append(query if isinstance(query, str) else query.decode())
            return super().execute(query, vars)

    database.close_all()
    database.connect_params["cursor_factory"] = Counting
    return sent


def test_recording_a_decision_on_postgresql_takes_three_round_trips_once_its_key_is_known(pg_url):
    """The key's revocation check (also the session's liveness check), the id drawn for the link's
    seal (``service.store.linkseal``), and one call that records, commits and links: no SELECT 1 on
    checkout, no key join, no separate linking statement."""
    app = create_app(
        {"DATABASE_URL": pg_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY), "INFOSHARE_POLICY_POLL_SECONDS": 3600}
    )
    with app.app_context():
        headers = {"Authorization": f"Bearer {create_key('case-system', 'pg-trips')[1]}"}
    client = app.test_client()
    sent = _counting_statements(app.extensions["infoshare"].database)
    record = {"case_ref": "PG-TRIPS", "facts": SHARE_FACTS}
    for _ in range(2):  # the key is found, then its check prepared in the session
        assert client.post("/v1/decisions", json=record, headers=headers).status_code == 201
    sent.clear()
    made = [client.post("/v1/decisions", json=record, headers=headers) for _ in range(3)]
    assert [response.status_code for response in made] == [201] * 3
    assert [statement.split()[0] for statement in sent] == ["EXECUTE", "SELECT", "CALL"] * 3, sent
    assert all("nextval" in statement for statement in sent[1::3]), sent
    case_file = client.get("/v1/cases/PG-TRIPS/decisions", headers=headers).json["decisions"]
    assert [d["id"] for d in case_file][2:] == [response.json["id"] for response in made]


def test_a_key_revoked_by_another_server_is_refused_at_once_on_postgresql(pg_url):
    """Each process remembers the keys it found, but reads their revocation on every request."""
    serving, other = (create_app({"DATABASE_URL": pg_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)}) for _ in range(2))
    with serving.app_context():
        headers = {"Authorization": f"Bearer {create_key('case-system', 'pg-revoked')[1]}"}
    client = serving.test_client()
    assert [client.get("/v1/policy", headers=headers).status_code for _ in range(3)] == [200] * 3
    with other.app_context():
        from infoshare.service.access.keys import revoke_key

        revoke_key("pg-revoked")
    refused = client.get("/v1/policy", headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.json["error"]
