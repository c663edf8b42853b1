"""Fixtures for the service tests: an app on a fresh sqlite file, keys per role, cases."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

import pytest
from service_cases import SHARE_FACTS

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import ROLES, create_key


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'decisions.sqlite3'}"


@pytest.fixture
def app(database_url: str):
    return create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def tokens(app) -> dict[str, str]:
    """One active key per role, by role."""
    with app.app_context():
        return {role: create_key(role, f"test-{role}")[1] for role in ROLES}


@pytest.fixture
def as_role(tokens):
    """``as_role("coordinator")`` -> the Authorization header for that role's key."""
    return lambda role: {"Authorization": f"Bearer {tokens[role]}"}


@pytest.fixture
def recorded(client, as_role):
    """Record a decision as the case system; returns the 201 body."""

    def record(facts: dict | None = None, case_ref: str = "CASE-1", **extra) -> dict:
        response = client.post(
            "/v1/decisions",
            json={"case_ref": case_ref, "facts": facts or SHARE_FACTS, **extra},
            headers=as_role("case-system"),
        )
        assert response.status_code == 201, response.json
        return response.json

    return record


@pytest.fixture
def request_log(caplog):
    """The JSON request-log lines emitted during the test, parsed."""
    import json

    from infoshare.service.requestlog import JsonFormatter

    caplog.set_level(logging.INFO, logger="infoshare")
    formatter = JsonFormatter()

    def lines(logger: str = "infoshare.request") -> list[dict]:
        return [json.loads(formatter.format(r)) for r in caplog.records if r.name == logger]

    return lines


@pytest.fixture
def broken_policy(tmp_path: Path) -> Path:
    """A copy of the shipped policy with a rule that has no `then`, `because` or `implements`."""
    policy = tmp_path / "broken-policy"
    shutil.copytree(SHIPPED_POLICY, policy)
    with open(policy / "rules" / "0-every-case.yaml", "a") as rules:
        rules.write("\n  - id: half-written-rule\n    when: {subject: child}\n")
    return policy


# The PostgreSQL server for the tests that need one (default: the one these
# machines run on 127.0.0.1:5432); each test gets a schema of its own that is
# dropped afterwards, so runs never collide. Skips, saying why, only if no server answers.
DSN = os.environ.get("INFOSHARE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_url():
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(DSN, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers at {DSN}: {exc}".strip())
    admin.autocommit = True
    schema = f"infoshare_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in DSN else "?"
    try:
        yield f"{DSN}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()
