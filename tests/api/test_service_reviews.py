"""The co-ordinator's reviews are appended to the record, never overwrite it."""

from __future__ import annotations

from datetime import datetime

from service_cases import BARE_FACTS


def test_reviews_append_in_order_and_keep_the_original_verdict(client, as_role, recorded):
    made = recorded(BARE_FACTS, case_ref="CASE-R")
    coordinator = as_role("coordinator")
    path = f"/v1/decisions/{made['id']}/review"

    first = client.post(
        path, json={"decision": "seek_consent", "rationale": "  Ask the family first.  "}, headers=coordinator
    )
    assert first.status_code == 201
    assert [r["decision"] for r in first.json["reviews"]] == ["seek_consent"]
    assert first.json["reviews"][0]["rationale"] == "Ask the family first."
    assert first.json["reviews"][0]["reviewed_by"] == "test-coordinator"
    assert datetime.fromisoformat(first.json["reviews"][0]["reviewed_at"]).tzinfo is not None

    second = client.post(
        path,
        json={
            "decision": "share_without_consent",
            "rationale": "Police confirm asking would undermine the investigation.",
        },
        headers=coordinator,
    )
    assert second.status_code == 201

    for read in (
        client.get(f"/v1/decisions/{made['id']}", headers=coordinator).json,
        client.get("/v1/cases/CASE-R/decisions", headers=as_role("case-system")).json["decisions"][0],
    ):
        assert [r["decision"] for r in read["reviews"]] == ["seek_consent", "share_without_consent"]
        assert read["reviews"][0]["rationale"] == "Ask the family first."
        assert read["decision"] == made["decision"] == "undetermined"
        assert read["rationale"] == made["rationale"]


def test_reviewing_an_unknown_decision_is_404_and_records_nothing(client, app, as_role):
    response = client.post(
        "/v1/decisions/4242/review", json={"decision": "share", "rationale": "x"}, headers=as_role("coordinator")
    )
    assert response.status_code == 404
    from infoshare.service.store.models import Review

    with app.app_context():
        assert Review.select().count() == 0
