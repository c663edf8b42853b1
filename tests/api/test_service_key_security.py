"""Keys are salted hashes compared in constant time; case systems read their own decisions; rate limits."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from click.testing import CliRunner
from service_cases import SHARE_FACTS

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access import keys
from infoshare.service.access.keys import create_key
from infoshare.service.cli.main import main
from infoshare.service.store.models import ApiKey


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_key_is_stored_as_a_salted_hash_of_its_secret(app, database_url):
    with app.app_context():
        key, token = create_key("case-system", "salted")
        twin = create_key("case-system", "salted-twin")[0]
    key_id, secret = token.removeprefix("isk_").split(".")
    assert key.key_id == key_id and len(key.salt) == 32 and key.salt != twin.salt
    dump = "\n".join(sqlite3.connect(database_url.removeprefix("sqlite:///")).iterdump())
    assert secret not in dump and token not in dump
    assert hashlib.sha256(token.encode()).hexdigest() not in dump
    assert hashlib.sha256(secret.encode()).hexdigest() not in dump  # the salt is used


def test_the_secret_is_compared_in_constant_time(client, app, monkeypatch):
    with app.app_context():
        key, token = create_key("policy-owner", "timed")
    compared = []
    real = keys.hmac.compare_digest
    monkeypatch.setattr(keys.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.get("/v1/policy", headers=bearer(wrong)).status_code == 401
    assert client.get("/v1/policy", headers=bearer(token)).status_code == 200
    assert [b for _, b in compared] == [key.key_hash, key.key_hash]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.split(".")[0] + ".",
        lambda t: t.replace("isk_", "isk_0"),
        lambda t: t + "x",
        lambda t: t.split(".")[0],
    ],
    ids=["no-secret", "other-key-id", "longer-secret", "key-id-only"],
)
def test_a_near_miss_of_a_key_is_401(client, tokens, mangle):
    token = tokens["case-system"]
    response = client.get("/v1/policy", headers=bearer(mangle(token)))
    assert response.status_code == 401 and response.json["request_id"]


def test_a_key_issued_before_salted_keys_still_works_and_is_marked_for_rotation(app, database_url, monkeypatch):
    """Such a key is in a store made before clients too: the next start makes it a client's."""
    old_token = "isk_" + "o" * 43
    with app.app_context():
        ApiKey.create(name="old-cms", role="case-system", key_hash=hashlib.sha256(old_token.encode()).hexdigest())
    client = create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)}).test_client()
    assert client.get("/v1/policy", headers=bearer(old_token)).status_code == 200
    assert client.get("/v1/policy", headers=bearer(old_token + "o")).status_code == 401
    monkeypatch.setenv("DATABASE_URL", database_url)
    listing = CliRunner().invoke(main, ["keys", "list"]).stdout
    [line] = [line for line in listing.splitlines() if line.startswith("old-cms")]
    assert "older unsalted key" in line


def test_a_case_system_reads_only_the_decisions_it_recorded(app, client, as_role):
    with app.app_context():
        other = bearer(create_key("case-system", "other-cms")[1])
    mine = client.post(
        "/v1/decisions", json={"case_ref": "SHARED-REF", "facts": SHARE_FACTS}, headers=as_role("case-system")
    ).json
    theirs = client.post("/v1/decisions", json={"case_ref": "SHARED-REF", "facts": SHARE_FACTS}, headers=other).json

    assert client.get(f"/v1/decisions/{theirs['id']}", headers=as_role("case-system")).status_code == 404
    assert client.get(f"/v1/decisions/{mine['id']}", headers=as_role("case-system")).json == mine
    case_file = client.get("/v1/cases/SHARED-REF/decisions", headers=as_role("case-system")).json["decisions"]
    assert [d["id"] for d in case_file] == [mine["id"]]
    assert [d["id"] for d in client.get("/v1/cases/SHARED-REF/decisions", headers=other).json["decisions"]] == [
        theirs["id"]
    ]

    coordinator = as_role("coordinator")
    assert [d["id"] for d in client.get("/v1/cases/SHARED-REF/decisions", headers=coordinator).json["decisions"]] == [
        mine["id"],
        theirs["id"],
    ]
    assert client.get(f"/v1/decisions/{theirs['id']}", headers=coordinator).status_code == 200


def test_a_key_over_its_rate_limit_gets_429_with_retry_after_and_other_keys_do_not(database_url):
    app = create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY), "INFOSHARE_RATE_LIMIT": 3})
    with app.app_context():
        busy, calm = create_key("case-system", "busy")[1], create_key("case-system", "calm")[1]
    client = app.test_client()
    statuses = [client.get("/v1/policy", headers=bearer(busy)).status_code for _ in range(3)]
    limited = client.post("/v1/decisions", json={"case_ref": "RL-1", "facts": SHARE_FACTS}, headers=bearer(busy))
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 20
    assert (
        set(limited.json) == {"type", "title", "status", "detail", "error", "messages", "request_id"}
        and "3 requests" in limited.json["error"]
    )
    assert client.get("/v1/policy", headers=bearer(calm)).status_code == 200
    with app.app_context():
        from infoshare.service.store.models import Decision

        assert Decision.select().count() == 0


@pytest.mark.parametrize(("setting", "expected"), [("", 60_000), ("0", 0), (" 120 ", 120)])
def test_the_rate_limit_comes_from_the_environment(monkeypatch, setting, expected):
    from infoshare.service import config

    monkeypatch.setenv("INFOSHARE_RATE_LIMIT", setting)
    assert config.from_environment()["INFOSHARE_RATE_LIMIT"] == expected


def test_serve_refuses_a_rate_limit_it_cannot_read(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("INFOSHARE_RATE_LIMIT", "lots")
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code == 1 and "INFOSHARE_RATE_LIMIT='lots'" in result.stderr
