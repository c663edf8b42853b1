"""The co-ordinator's reviews are appended to the record, never overwrite it."""

from __future__ import annotations

from datetime import datetime

from service_cases import BARE_FACTS


def test_reviews_append_in_order_and_keep_the_original_verdict(client, as_role, recorded):
    made = recorded(BARE_FACTS, case_ref="CASE-R")
    coordinator = as_role("coordinator")
    path = f"/v1/decisions/{made['id']}/review"

    first = client.post(
        path,
        json={"decision": "seek_consent", "rationale": "  Ask the family first.  ", "reviewed_by": " A.  Khan "},
        headers=coordinator,
    )
    assert first.status_code == 201
    assert [r["decision"] for r in first.json["reviews"]] == ["seek_consent"]
    assert first.json["reviews"][0]["rationale"] == "Ask the family first."
    assert first.json["reviews"][0]["reviewed_by"] == "A. Khan"
    assert first.json["reviews"][0]["client"] == "test-coordinator"
    assert datetime.fromisoformat(first.json["reviews"][0]["reviewed_at"]).tzinfo is not None

    second = client.post(
        path,
        json={
            "decision": "share_without_consent",
            "rationale": "Police confirm asking would undermine the investigation.",
            "reviewed_by": "B. Osei",
        },
        headers=coordinator,
    )
    assert second.status_code == 201

    for read in (
        client.get(f"/v1/decisions/{made['id']}", headers=coordinator).json,
        client.get("/v1/cases/CASE-R/decisions", headers=as_role("case-system")).json["decisions"][0],
    ):
        assert [r["decision"] for r in read["reviews"]] == ["seek_consent", "share_without_consent"]
        assert [r["reviewed_by"] for r in read["reviews"]] == ["A. Khan", "B. Osei"]
        assert read["reviews"][0]["rationale"] == "Ask the family first."
        assert read["decision"] == made["decision"] == "undetermined"
        assert read["rationale"] == made["rationale"]


def test_reviewing_an_unknown_decision_is_404_and_records_nothing(client, app, as_role):
    response = client.post(
        "/v1/decisions/4242/review",
        json={"decision": "share", "rationale": "x", "reviewed_by": "A. Khan"},
        headers=as_role("coordinator"),
    )
    assert response.status_code == 404
    from infoshare.service.store.models import Review

    with app.app_context():
        assert Review.select().count() == 0


def test_a_review_names_the_person_or_is_a_400(client, app, as_role, recorded):
    made = recorded(BARE_FACTS, case_ref="CASE-P")
    path = f"/v1/decisions/{made['id']}/review"
    coordinator = as_role("coordinator")
    for body, problem in (
        ({"decision": "share", "rationale": "Agreed."}, "Missing data for required field."),
        ({"decision": "share", "rationale": "Agreed.", "reviewed_by": " \u3000"}, "must not be blank"),
        ({"decision": "share", "rationale": "Agreed.", "reviewed_by": "A.\nKhan"}, "on one line"),
        ({"decision": "share", "rationale": "Agreed.", "reviewed_by": "x" * 201}, "200"),
    ):
        response = client.post(path, json=body, headers=coordinator)
        assert response.status_code == 400, response.json
        assert problem in " ".join(response.json["messages"]["reviewed_by"]), response.json
    from infoshare.service.store.models import Review

    with app.app_context():
        assert Review.select().count() == 0


def test_the_reviewer_is_in_the_log(client, app, as_role, recorded):
    import io
    import json

    from infoshare.service.store.logaudit import export, verify_store

    made = recorded(BARE_FACTS, case_ref="CASE-L")
    client.post(
        f"/v1/decisions/{made['id']}/review",
        json={"decision": "seek_consent", "rationale": "Ask first.", "reviewed_by": "A. Khan"},
        headers=as_role("coordinator"),
    )
    out = io.StringIO()
    with app.app_context():
        export(out)
        assert verify_store().ok
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    reviews = [line["record"] for line in lines if line.get("kind") == "review"]
    assert reviews and reviews[0]["reviewed_by"] == "A. Khan" and reviews[0]["rationale"] == "Ask first."
