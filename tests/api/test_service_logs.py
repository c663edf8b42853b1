"""One structured line per request; never the facts or other personal information."""

from __future__ import annotations

import json
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


def test_the_request_line_written_straight_to_the_stream_is_the_line_logging_writes(
    client, as_role, tmp_path, monkeypatch
):
    """As deployed, the JSON handler is the only one, and the request line skips `logging`'s machinery;
    with any other handler present it goes through `logging`. Both give the same line."""
    out = open(tmp_path / "service.log", "w")  # noqa: SIM115 - closed below
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    monkeypatch.setattr(logging.getLogger("infoshare"), "handlers", [handler])
    monkeypatch.setattr(logging.getLogger("infoshare"), "level", logging.INFO)
    monkeypatch.setattr(logging.root, "handlers", [])  # as deployed: nothing else listens
    handled: list[str] = []
    request_logger = logging.getLogger("infoshare.request")
    monkeypatch.setattr(request_logger, "handle", lambda record: handled.append(record.request_id))
    body = {"case_ref": "CASE-STRAIGHT", "facts": SHARE_FACTS}
    headers = {**as_role("case-system"), "X-Request-ID": "straight-1"}
    straight = client.post("/v1/decisions", json=body, headers=headers)
    assert handled == []  # no record was made: the line went straight to the stream
    monkeypatch.delattr(request_logger, "handle")  # the class's own again
    monkeypatch.setattr(logging.root, "handlers", [logging.NullHandler()])  # someone else listens too
    through = client.post("/v1/decisions", json=body, headers={**headers, "X-Request-ID": "through-1"})
    out.close()
    lines = [json.loads(line) for line in (tmp_path / "service.log").read_text().splitlines()]
    first, second = (line for line in lines if line["logger"] == "infoshare.request")
    assert [first["request_id"], second["request_id"]] == ["straight-1", "through-1"]
    assert list(first) == list(second)  # the same keys in the same order
    varying = {"time", "request_id", "latency_ms", "decision_id"}
    assert {k: v for k, v in first.items() if k not in varying} == {k: v for k, v in second.items() if k not in varying}
    assert first["decision_id"] == straight.json["id"] and second["decision_id"] == through.json["id"]
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
