"""Failing closed: no error path answers with a verdict, and a decision that
cannot be recorded is not returned."""

from __future__ import annotations

import sqlite3

import pytest
from peewee import OperationalError
from service_cases import SHARE_FACTS

from infoshare.engine import EvaluationError, PolicyError
from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key
from infoshare.service.store.models import Decision


@pytest.fixture
def impatient_app(tmp_path):
    """An app whose store gives up after 0.2 s of waiting for a lock, and a key for it."""
    path = tmp_path / "busy.sqlite3"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}?timeout=0.2", "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with app.app_context():
        token = create_key("case-system", "busy-case-system")[1]
    return app, path, {"Authorization": f"Bearer {token}"}


def test_a_decision_that_cannot_be_recorded_is_503_with_no_verdict(impatient_app, request_log):
    app, path, headers = impatient_app
    other_writer = sqlite3.connect(path, isolation_level=None)
    other_writer.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        response = app.test_client().post(
            "/v1/decisions", json={"case_ref": "C-503", "facts": SHARE_FACTS}, headers=headers
        )
        ready = app.test_client().get("/readyz")
    finally:
        other_writer.execute("ROLLBACK")
    assert response.status_code == 503
    assert set(response.json) == {"type", "title", "status", "detail", "error", "messages", "request_id"}
    assert "could not be recorded" in response.json["error"]
    text = response.get_data(as_text=True)
    assert "share" not in text.replace("shared", "")
    assert ready.status_code == 503 and "does not accept writes" in ready.json["error"]
    with app.app_context():
        assert Decision.select().count() == 0
    [line] = [entry for entry in request_log() if entry["route"] == "/v1/decisions"]
    assert line["status"] == 503 and line["request_id"] == response.json["request_id"]
    assert "decision_id" not in line


def test_a_rules_engine_failure_is_503_and_records_nothing(client, app, as_role, monkeypatch):
    def broken(facts):
        raise EvaluationError("the rules engine failed")

    monkeypatch.setattr(app.extensions["infoshare"].engine, "evaluate_valid", broken)
    for path, body in (
        ("/v1/decisions", {"case_ref": "C-E", "facts": SHARE_FACTS}),
        ("/v1/evaluate", {"facts": SHARE_FACTS}),
    ):
        response = client.post(path, json=body, headers=as_role("case-system"))
        assert response.status_code == 503
        assert "no verdict" in response.json["error"]
        assert "decision" not in response.json
    with app.app_context():
        assert Decision.select().count() == 0


def test_an_unexpected_error_is_a_json_500_without_details_and_logged(client, app, as_role, monkeypatch, request_log):
    def crash(facts):
        raise RuntimeError(facts["information"][0]["item"])  # an error that quotes case data

    monkeypatch.setattr(app.extensions["infoshare"].engine, "evaluate_valid", crash)
    response = client.post("/v1/evaluate", json={"facts": SHARE_FACTS}, headers=as_role("case-system"))
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    item = SHARE_FACTS["information"][0]["item"]
    assert "Traceback" not in text and item not in text and "RuntimeError" not in text
    [error] = request_log("infoshare.errors")
    assert error["request_id"] == response.json["request_id"]
    assert "RuntimeError" in error["message"] and item not in error["message"]


def test_a_broken_policy_never_serves(database_url, broken_policy):
    with pytest.raises(PolicyError) as raised:
        create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(broken_policy)})
    assert "rules/0-every-case.yaml:" in str(raised.value)


def test_an_unreachable_store_stops_the_start(tmp_path):
    with pytest.raises(OperationalError):
        create_app(
            {
                "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2",
                "INFOSHARE_POLICY": str(SHIPPED_POLICY),
            }
        )
