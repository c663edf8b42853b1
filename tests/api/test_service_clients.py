"""Clients hold keys: rotation keeps access, older stores migrate, records name their client."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from service_cases import SHARE_FACTS

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import add_key, create_client, create_key
from infoshare.service.cli.main import main


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("INFOSHARE_POLICY", raising=False)

    def run(*args: str):
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result.stdout

    return run


def record(client, token: str, case_ref: str) -> dict:
    response = client.post("/v1/decisions", json={"case_ref": case_ref, "facts": SHARE_FACTS}, headers=bearer(token))
    assert response.status_code == 201, response.json
    return response.json


def test_rotating_a_key_keeps_the_case_systems_records_and_stops_the_old_key(cli, app, client):
    cli("clients", "create", "cms-a", "--role", "case-system")
    first = cli("keys", "create", "--client", "cms-a").splitlines()[-1]
    made = record(client, first, "CASE-001")
    assert made["client"] == "cms-a" and made["recorded_by"] == "cms-a"

    second = cli("keys", "create", "--client", "cms-a").splitlines()[-1]
    cli("keys", "revoke", "cms-a")
    assert client.get("/v1/policy", headers=bearer(first)).status_code == 401
    assert client.get(f"/v1/decisions/{made['id']}", headers=bearer(second)).json == made
    later = record(client, second, "CASE-001")
    assert later["client"] == "cms-a" and later["recorded_by"] == "cms-a-2"
    case_file = client.get("/v1/cases/CASE-001/decisions", headers=bearer(second)).json
    assert [d["id"] for d in case_file["decisions"]] == [made["id"], later["id"]]
    listing = cli("keys", "list")
    assert any(line.split()[:2] == ["cms-a-2", "cms-a"] and "active" in line for line in listing.splitlines())
    [row] = [line for line in cli("clients", "list").splitlines() if line.startswith("cms-a")]
    assert row.split()[1] == "case-system" and row.split()[-1] == "1"


def test_two_case_systems_case_001_are_two_case_files_and_the_coordinator_sees_whose(app, client, as_role):
    with app.app_context():
        a, b = create_key("case-system", "cms-a")[1], create_key("case-system", "cms-b")[1]
    mine, theirs = record(client, a, "CASE-001"), record(client, b, "CASE-001")
    assert [d["id"] for d in client.get("/v1/cases/CASE-001/decisions", headers=bearer(a)).json["decisions"]] == [
        mine["id"]
    ]
    assert client.get(f"/v1/decisions/{theirs['id']}", headers=bearer(a)).status_code == 404
    seen = client.get("/v1/cases/CASE-001/decisions", headers=as_role("coordinator")).json["decisions"]
    assert [(d["id"], d["client"]) for d in seen] == [(mine["id"], "cms-a"), (theirs["id"], "cms-b")]


def test_a_review_names_the_coordinator_client(app, client, recorded):
    with app.app_context():
        create_client("coordinator", "safeguarding-team")
        token = add_key("safeguarding-team")[1]
    made = recorded()
    response = client.post(
        f"/v1/decisions/{made['id']}/review",
        json={"decision": "share", "rationale": "Agreed.", "reviewed_by": "a.jones"},
        headers=bearer(token),
    )
    assert response.status_code == 201
    assert response.json["reviews"][0]["client"] == "safeguarding-team"


def test_a_key_for_a_client_with_another_role_or_no_client_is_refused(cli, database_url, monkeypatch):
    cli("clients", "create", "owner", "--role", "policy-owner")
    result = CliRunner().invoke(main, ["keys", "create", "--role", "case-system", "--name", "owner"])
    assert result.exit_code == 1 and "already exists with role policy-owner" in result.output
    result = CliRunner().invoke(main, ["keys", "create", "--client", "nobody"])
    assert result.exit_code == 1 and "no client named 'nobody'" in result.output
    result = CliRunner().invoke(main, ["keys", "create"])
    assert result.exit_code == 2 and "--client NAME" in result.output


# The tables as a store made before clients had them.
BEFORE_CLIENTS = """
CREATE TABLE "api_key" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(64) NOT NULL, "role" VARCHAR(32) NOT NULL, "key_hash" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, "revoked_at" DATETIME, "key_id" VARCHAR(32), "salt" VARCHAR(32));
CREATE UNIQUE INDEX "api_key_name" ON "api_key" ("name");
CREATE UNIQUE INDEX "api_key_key_hash" ON "api_key" ("key_hash");
CREATE UNIQUE INDEX "api_key_key_id" ON "api_key" ("key_id");
CREATE TABLE "decision" ("id" INTEGER NOT NULL PRIMARY KEY, "case_ref" VARCHAR(200) NOT NULL, "facts" TEXT NOT NULL, "verdict" TEXT NOT NULL, "decision" VARCHAR(32) NOT NULL, "policy_id" VARCHAR(200) NOT NULL, "policy_version" VARCHAR(200) NOT NULL, "policy_digest" VARCHAR(64) NOT NULL, "requested_by" VARCHAR(200), "key_name" VARCHAR(64) NOT NULL, "recorded_at" DATETIME NOT NULL);
CREATE INDEX "decision_case_ref" ON "decision" ("case_ref");
CREATE TABLE "review" ("id" INTEGER NOT NULL PRIMARY KEY, "decision_id" INTEGER NOT NULL, "final_decision" VARCHAR(32) NOT NULL, "rationale" TEXT NOT NULL, "key_name" VARCHAR(64) NOT NULL, "reviewed_at" DATETIME NOT NULL, FOREIGN KEY ("decision_id") REFERENCES "decision" ("id") ON DELETE RESTRICT);
"""


def test_a_store_made_before_clients_gives_each_key_a_client_of_its_name(tmp_path: Path, cli, database_url):
    """Its decisions stay readable by the old key, and by a new key of that client after the old one is revoked."""
    path = Path(database_url.removeprefix("sqlite:///"))
    db = sqlite3.connect(path)
    db.executescript(BEFORE_CLIENTS)
    db.execute(
        "INSERT INTO api_key (name, role, key_hash, created_at, key_id, salt) VALUES (?, ?, ?, ?, ?, ?)",
        ("old-cms", "case-system", "0" * 64, "2026-01-01 00:00:00", "0123456789abcdef", "1" * 32),
    )
    db.execute(
        "INSERT INTO decision (case_ref, facts, verdict, decision, policy_id, policy_version, policy_digest,"
        " key_name, recorded_at) VALUES ('OLD-1', '{}', '{\"decision\": \"refer\"}', 'refer', 'p', '1', 'd',"
        " 'old-cms', '2026-01-02 00:00:00')"
    )
    db.commit()
    db.close()

    client = create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)}).test_client()
    # adopted: the decision, the client made for the key, the key; then the scope record, the policy version
    # and its activation
    cli("log", "checkpoint", "--first")  # the upgrade's one step: the existing log put under signatures
    assert cli("log", "verify").startswith("OK: 6 records")
    new = cli("keys", "create", "--client", "old-cms").splitlines()[-1]
    cli("keys", "revoke", "old-cms")
    [old] = client.get("/v1/cases/OLD-1/decisions", headers=bearer(new)).json["decisions"]
    assert old["client"] == "old-cms" and old["recorded_by"] == "old-cms"
    assert cli("log", "verify").startswith("OK: 8 records")  # the new key and the revocation
    create_app(
        {"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)}
    )  # a second start changes nothing
    assert [line.split()[0] for line in cli("clients", "list").splitlines()[1:]] == ["old-cms"]


def test_keys_create_with_role_and_name_adds_a_key_to_an_existing_client_and_clients_are_named_once(cli):
    first = cli("keys", "create", "--role", "case-system", "--name", "cms-c").splitlines()[-1]
    second = cli("keys", "create", "--role", "case-system", "--name", "cms-c").splitlines()[-1]
    assert first != second
    assert [line.split()[:2] for line in cli("keys", "list").splitlines()[1:]] == [
        ["cms-c", "cms-c"],
        ["cms-c-2", "cms-c"],
    ]
    again = CliRunner().invoke(main, ["clients", "create", "cms-c", "--role", "case-system"])
    assert again.exit_code == 1 and "already exists" in again.output
