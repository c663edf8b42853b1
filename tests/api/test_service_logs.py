"""One structured line per request; never the facts or other personal information."""

from __future__ import annotations

from datetime import datetime

from service_cases import SHARE_FACTS


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


def test_no_facts_rationale_or_names_reach_the_log(client, as_role, request_log, capsys):
    facts = {
        **SHARE_FACTS,
        "information": [{"item": "Jane Doe's GP letter", "needed_for_purpose": True, "accurate_and_up_to_date": True}],
    }
    made = client.post(
        "/v1/decisions",
        json={"case_ref": "CASE-PI", "facts": facts, "requested_by": "Dr Who"},
        headers=as_role("case-system"),
    ).json
    client.post(
        f"/v1/decisions/{made['id']}/review",
        json={"decision": "share", "rationale": "Spoke to Jane's mother", "reviewed_by": "A. Khan"},
        headers=as_role("coordinator"),
    )
    client.post("/v1/evaluate", json={"facts": {**facts, "Jane Doe": "unknown-fact"}}, headers=as_role("case-system"))
    logged = capsys.readouterr().err + "\n".join(map(str, request_log()))
    assert "CASE-PI" in logged  # the lines were captured
    for personal in ("Jane", "Dr Who", "GP letter", "childrens_social_care", "mother"):
        assert personal not in logged


def test_error_bodies_carry_the_request_id_of_their_log_line(client, as_role, request_log):
    response = client.post("/v1/evaluate", data=b"{oops", headers=as_role("case-system"))
    [line] = request_log()
    assert response.status_code == 400
    assert line["request_id"] == response.json["request_id"] == response.headers["X-Request-ID"]
    assert line["status"] == 400 and line["error"] == response.json["error"]
