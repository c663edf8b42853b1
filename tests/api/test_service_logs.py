"""One structured line per request; never the facts or other personal information."""

from __future__ import annotations

import logging
from datetime import datetime

from peewee import OperationalError
from service_cases import SHARE_FACTS

from infoshare.engine import EvaluationError
from infoshare.service.api import decisions
from infoshare.service.requestlog import JsonFormatter


def test_one_line_per_request_with_the_decision_fields(client, as_role, request_log):
    response = client.post(
        "/v1/decisions",
        json={"case_ref": "CASE-LOG", "facts": SHARE_FACTS},
        headers={**as_role("case-system"), "X-Request-ID": "trace-123"},
    )
    [line] = request_log()
    assert line["request_id"] == "trace-123" == response.headers["X-Request-ID"]
    assert line["method"] == "POST" and line["route"] == "/v1/decisions" and line["status"] == 201
    assert line["decision_id"] == response.json["id"]
    assert line["case_ref"] == "CASE-LOG"
    assert line["decision"] == "share"
    assert line["key"] == "test-case-system"
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    assert datetime.fromisoformat(line["time"]).tzinfo is not None


def test_routes_are_logged_as_templates(client, as_role, recorded, request_log):
    made = recorded(case_ref="CASE-TPL")
    client.get(f"/v1/decisions/{made['id']}", headers=as_role("case-system"))
    assert request_log()[-1]["route"] == "/v1/decisions/{decision_id}"


MARKER = "Zq7Marker"  # planted in every personal field of the requests below; no log line may carry it


def raising(error: Exception):
    def fail(*_args, **_kwargs):
        raise error

    return fail


def every_line(caplog) -> str:
    """Everything every logger emitted: each record as the service writes it, and its raw parts."""
    formatter, plain = JsonFormatter(), logging.Formatter()
    return "\n".join(
        formatter.format(r) + (plain.formatException(r.exc_info) if r.exc_info else "") + repr(vars(r))
        for r in caplog.records
    )


def test_no_facts_rationale_or_names_reach_any_log(app, client, as_role, caplog, monkeypatch):
    """On answers, refusals and failures alike (a library error quoting the facts included)."""
    caplog.set_level(logging.INFO)  # every logger, at the level the service logs at
    item = {"item": f"{MARKER}'s GP letter", "needed_for_purpose": True, "accurate_and_up_to_date": True}
    facts = {**SHARE_FACTS, "information": [item]}
    cms, coordinator = as_role("case-system"), as_role("coordinator")
    made = client.post(
        "/v1/decisions", json={"case_ref": "CASE-PI", "facts": facts, "requested_by": f"Dr {MARKER}"}, headers=cms
    ).json
    review = {"decision": "share", "rationale": f"Spoke to {MARKER}'s mother", "reviewed_by": f"A. {MARKER}"}
    assert client.post(f"/v1/decisions/{made['id']}/review", json=review, headers=coordinator).status_code == 201
    assert client.get("/v1/cases/CASE-PI/decisions", headers=coordinator).status_code == 200
    refused = [
        {"facts": {**facts, MARKER: "unknown-fact"}},
        {"facts": {**facts, "subject": MARKER}},
        {"facts": {**facts, "information": [{**item, "needed_for_purpose": MARKER}]}},
    ]
    assert [client.post("/v1/evaluate", json=body, headers=cms).status_code for body in refused] == [400] * 3

    quoting = f"the library quotes the facts: {facts}"
    engine = app.extensions["infoshare"].engine
    for error, status in ((EvaluationError(quoting), 503), (RuntimeError(quoting), 500)):
        monkeypatch.setattr(engine, "evaluate_valid", raising(error))
        assert client.post("/v1/evaluate", json={"facts": facts}, headers=cms).status_code == status
    monkeypatch.undo()
    monkeypatch.setattr(decisions, "append", raising(OperationalError(quoting)))
    failed = client.post("/v1/decisions", json={"case_ref": "CASE-PI", "facts": facts}, headers=cms)
    assert failed.status_code == 503

    logged = every_line(caplog)
    assert "CASE-PI" in logged  # the lines were captured
    assert {"infoshare.request", "infoshare.verdicts", "infoshare.errors", "infoshare.decisions"} <= {
        r.name for r in caplog.records
    }
    for personal in (MARKER, "GP letter", "childrens_social_care", "mother"):
        assert personal not in logged


def test_error_bodies_carry_the_request_id_of_their_log_line(client, as_role, request_log):
    response = client.post(
        "/v1/evaluate", data=b"{oops", headers={**as_role("case-system"), "Content-Type": "application/json"}
    )
    [line] = request_log()
    assert response.status_code == 400
    assert line["request_id"] == response.json["request_id"] == response.headers["X-Request-ID"]
    assert line["status"] == 400 and line["error"] == response.json["error"]
