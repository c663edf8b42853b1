"""Idempotency-Key on POST /v1/decisions: a retry answers the original record, never a second one."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import textwrap
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from service_cases import BARE_FACTS, SHARE_FACTS
from test_service_live import environment, infoshare, serving, start_server

from infoshare.service.access.keys import create_key
from infoshare.service.api import idempotency
from infoshare.service.store.idempotency import claim
from infoshare.service.store.models import Decision

BODY = {"case_ref": "RETRY-1", "facts": SHARE_FACTS}


def post(client, headers, key=None, body=BODY):
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/v1/decisions", json=body, headers={**headers, **extra})


def stored(app, case_ref="RETRY-1") -> list[int]:
    with app.app_context():
        return [d.id for d in Decision.select().where(Decision.case_ref == case_ref)]


def test_a_201_carries_location_and_a_retry_with_the_key_answers_the_original(app, client, as_role):
    first = post(client, as_role("case-system"), "8e03978e-40d5-43e8-bc93-6894a57f9324")
    assert first.status_code == 201 and first.headers["Location"] == f"/v1/decisions/{first.json['id']}"
    assert "Idempotent-Replayed" not in first.headers
    reordered = {"facts": dict(reversed(list(SHARE_FACTS.items()))), "case_ref": "RETRY-1"}
    again = post(client, as_role("case-system"), '"8e03978e-40d5-43e8-bc93-6894a57f9324"', reordered)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert stored(app) == [first.json["id"]]
    assert client.get(first.headers["Location"], headers=as_role("case-system")).status_code == 200


def test_a_quoted_key_may_hold_a_comma_and_a_bare_one_may_not(app, client, as_role):
    """A comma is how a server joins a header sent twice; inside a quoted string it is part of the key."""
    first = post(client, as_role("case-system"), '"batch-7,case-12"')
    assert first.status_code == 201
    again = post(client, as_role("case-system"), '"batch-7,case-12"')
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert post(client, as_role("case-system"), "batch-7,case-12").status_code == 400
    assert post(client, as_role("case-system"), '"a","b"').status_code == 400
    assert stored(app) == [first.json["id"]]


def test_the_same_key_with_another_body_is_422_and_records_nothing(app, client, as_role):
    assert post(client, as_role("case-system"), "k-1").status_code == 201
    reused = post(client, as_role("case-system"), "k-1", {"case_ref": "RETRY-1", "facts": BARE_FACTS})
    assert reused.status_code == 422 and "Idempotency-Key" in reused.json["messages"]
    assert len(stored(app)) == 1


def test_a_key_still_in_flight_is_409_with_retry_after(app, client, as_role):
    with app.app_context():
        assert claim("test-case-system", "busy-key")  # as a request being answered right now holds it
    response = post(client, as_role("case-system"), "busy-key")
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    assert stored(app) == []


def test_keys_are_per_client_and_expire_after_the_retention_window(app, client, as_role, monkeypatch):
    with app.app_context():
        other = {"Authorization": f"Bearer {create_key('case-system', 'other-cms')[1]}"}
    mine, theirs = post(client, as_role("case-system"), "shared"), post(client, other, "shared")
    assert mine.status_code == theirs.status_code == 201 and mine.json["id"] != theirs.json["id"]
    monkeypatch.setattr(idempotency, "RETENTION", timedelta(seconds=-1))
    later = post(client, as_role("case-system"), "shared")
    assert later.status_code == 201 and later.json["id"] not in (mine.json["id"], theirs.json["id"])
    assert "Idempotent-Replayed" not in later.headers


@pytest.mark.parametrize("key", ["", "x" * 256, 'a"b', "a\\b", "a,b", "tab\tinside", "ünï", '"unclosed'], ids=repr)
def test_a_malformed_key_is_400(client, as_role, key):
    response = post(client, as_role("case-system"), key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json["messages"]


def test_two_keys_in_one_request_are_400(client, as_role):
    headers = [("Authorization", as_role("case-system")["Authorization"]), ("Idempotency-Key", "a")]
    response = client.post("/v1/decisions", json=BODY, headers=[*headers, ("Idempotency-Key", "b")])
    assert response.status_code == 400


def test_two_keys_sent_to_the_server_are_400_and_record_nothing(tmp_path):
    """The server joins a repeated header's values with a comma and no space ("a,b"), which
    must not pass for one key."""
    env = environment(tmp_path / "twice.sqlite3")
    token = infoshare("keys", "create", "--role", "case-system", "--name", "cms", env=env).stdout.split()[-1]
    with serving(env, tmp_path / "server.log") as base:
        sock = raw_post(base, token, "first\r\nIdempotency-Key: second", {"case_ref": "TWICE-1", "facts": SHARE_FACTS})
        with sock, sock.makefile("rb") as answer:
            status = answer.readline()
    assert status.split()[1] == b"400", status
    with sqlite3.connect(tmp_path / "twice.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM decision").fetchone()[0] == 0


def test_the_openapi_document_states_the_key_and_its_answers(client):
    operation = client.get("/openapi.json").json["paths"]["/v1/decisions"]["post"]
    [header] = [p for p in operation["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["schema"]["pattern"] == idempotency.KEY_PATTERN
    assert {"409", "422"} <= set(operation["responses"])
    assert set(operation["responses"]["201"]["headers"]) == {"Location", "Idempotent-Replayed"}


def raw_post(base: str, token: str, key: str, body: dict) -> socket.socket:
    """Send the whole request on a socket of its own and return it unread."""
    where = urlsplit(base)
    data = json.dumps(body).encode()
    sock = socket.create_connection((where.hostname, where.port))
    sock.sendall(
        (
            f"POST /v1/decisions HTTP/1.1\r\nHost: {where.netloc}\r\nAuthorization: Bearer {token}\r\n"
            f"Idempotency-Key: {key}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        + data
    )
    return sock


def retry_until_answered(base: str, token: str, key: str, body: dict) -> tuple[int, dict, dict]:
    """Resend until the answer is not 409 (the dropped first request may still be in flight)."""
    import time
    import urllib.error
    import urllib.request

    for _ in range(200):
        request = urllib.request.Request(
            f"{base}/v1/decisions",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.load(response)
        except urllib.error.HTTPError as error:
            if error.code != 409:
                return error.code, dict(error.headers), json.load(error)
        time.sleep(0.05)
    raise AssertionError("still in flight after 10 s")


def test_a_retry_after_the_connection_dropped_before_the_answer_records_once(tmp_path):
    database = tmp_path / "retry.sqlite3"
    env = environment(database)
    token = infoshare("keys", "create", "--role", "case-system", "--name", "cms", env=env).stdout.split()[-1]
    body = {"case_ref": "DROP-1", "facts": SHARE_FACTS}
    with serving(env, tmp_path / "server.log") as base:
        raw_post(base, token, "drop-1", body).close()  # gone before the 201 could be read
        status, headers, answer = retry_until_answered(base, token, "drop-1", body)
    assert status == 201
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT id FROM decision WHERE case_ref = 'DROP-1'").fetchall() == [(answer["id"],)]


# Run inside the server: SIGKILL master and workers once a decision is recorded, before its 201 is sent.
KILL_AFTER_RECORD = """
import os, signal
from infoshare.service.api import decisions

def _killed(row, headers=None):
    os.killpg(os.getpgid(0), signal.SIGKILL)

decisions._created = _killed
"""


def test_a_server_killed_between_recording_and_answering_replays_the_record_after_restart(tmp_path):
    database = tmp_path / "killed.sqlite3"
    env = environment(database)
    token = infoshare("keys", "create", "--role", "case-system", "--name", "cms", env=env).stdout.split()[-1]
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(textwrap.dedent(KILL_AFTER_RECORD))
    body = {"case_ref": "KILL-1", "facts": SHARE_FACTS}
    process, base = start_server(
        {**env, "PYTHONPATH": f"{hook}{os.pathsep}{env.get('PYTHONPATH', '')}"},
        tmp_path / "killed.log",
        start_new_session=True,
    )
    try:
        sock = raw_post(base, token, "kill-1", body)
        assert sock.recv(65536) == b""  # the connection closes with no answer
        sock.close()
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    with sqlite3.connect(database) as db:
        [(recorded,)] = db.execute("SELECT id FROM decision WHERE case_ref = 'KILL-1'").fetchall()
    with serving(env, tmp_path / "restarted.log") as base:
        status, headers, answer = retry_until_answered(base, token, "kill-1", body)
    assert status == 201 and answer["id"] == recorded and headers["Idempotent-Replayed"] == "true"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM decision").fetchone() == (1,)


def test_on_postgresql_a_retry_answers_the_original_and_a_claimed_key_is_409(pg_url):
    from infoshare.engine.policy.loader import SHIPPED_POLICY
    from infoshare.service import create_app

    app = create_app({"DATABASE_URL": pg_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    client = app.test_client()
    with app.app_context():
        headers = {"Authorization": f"Bearer {create_key('case-system', 'pg-cms')[1]}"}
        assert claim("pg-cms", "held") and not claim("pg-cms", "held")
    first, again = post(client, headers, "pg-1"), post(client, headers, "pg-1")
    assert first.status_code == again.status_code == 201 and again.json == first.json
    assert post(client, headers, "held").status_code == 409
    assert stored(app) == [first.json["id"]]
