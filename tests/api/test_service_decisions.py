"""Recording decisions and reading the case file back."""

from __future__ import annotations

from datetime import datetime

from service_cases import BARE_FACTS, SHARE_FACTS


def test_record_answers_201_with_the_verdict_its_id_and_when(client, app, as_role):
    response = client.post(
        "/v1/decisions",
        json={"case_ref": "CASE-7", "facts": SHARE_FACTS, "requested_by": "practitioner-42"},
        headers=as_role("case-system"),
    )
    assert response.status_code == 201
    body = response.json
    assert body["decision"] == "share"
    assert isinstance(body["id"], int)
    assert datetime.fromisoformat(body["recorded_at"]).tzinfo is not None
    assert body["case_ref"] == "CASE-7"
    assert body["requested_by"] == "practitioner-42"
    assert body["recorded_by"] == "test-case-system"
    assert body["reviews"] == []
    engine_verdict = app.extensions["infoshare"].engine.evaluate(SHARE_FACTS).to_dict()
    assert {k: body[k] for k in engine_verdict} == engine_verdict


def test_a_recorded_decision_reads_back_with_facts_verdict_and_policy_digest(client, app, as_role, recorded):
    made = recorded(BARE_FACTS, case_ref="CASE-8", requested_by="duty-desk")
    response = client.get(f"/v1/decisions/{made['id']}", headers=as_role("case-system"))
    assert response.status_code == 200
    record = response.json
    assert record == made
    assert record["facts"] == BARE_FACTS
    assert record["decision"] == "undetermined"
    assert record["missing_facts"]
    assert record["rationale"] and all(entry["clauses"] for entry in record["rationale"])
    assert record["policy"]["digest"] == app.extensions["infoshare"].policy.digest


def test_the_case_file_lists_that_cases_decisions_oldest_first(client, as_role, recorded):
    first = recorded(SHARE_FACTS, case_ref="CASE-A")
    recorded(SHARE_FACTS, case_ref="CASE-B")
    second = recorded(BARE_FACTS, case_ref="CASE-A")
    response = client.get("/v1/cases/CASE-A/decisions", headers=as_role("coordinator"))
    assert response.status_code == 200
    assert response.json["case_ref"] == "CASE-A"
    assert [d["id"] for d in response.json["decisions"]] == [first["id"], second["id"]]
    assert [d["decision"] for d in response.json["decisions"]] == ["share", "undetermined"]


def test_case_refs_with_slashes_are_recorded_and_found(client, as_role, recorded):
    made = recorded(case_ref="CS/2026/0012")
    response = client.get("/v1/cases/CS/2026/0012/decisions", headers=as_role("case-system"))
    assert [d["id"] for d in response.json["decisions"]] == [made["id"]]


def test_an_unknown_case_has_an_empty_case_file(client, as_role):
    response = client.get("/v1/cases/NEVER-SEEN/decisions", headers=as_role("case-system"))
    assert response.status_code == 200
    assert response.json == {"case_ref": "NEVER-SEEN", "decisions": [], "next": None}


def test_an_unknown_decision_id_is_a_json_404(client, as_role):
    for path in ("/v1/decisions/999999", f"/v1/decisions/{2**64}", "/v1/decisions/abc"):
        response = client.get(path, headers=as_role("case-system"))
        assert response.status_code == 404, path
        assert response.json["request_id"]


def test_evaluate_answers_the_same_verdict_and_records_nothing(client, app, as_role):
    response = client.post("/v1/evaluate", json={"facts": SHARE_FACTS}, headers=as_role("policy-owner"))
    assert response.status_code == 200
    assert response.json == app.extensions["infoshare"].engine.evaluate(SHARE_FACTS).to_dict()
    assert "id" not in response.json
    from infoshare.service.store.models import Decision

    with app.app_context():
        assert Decision.select().count() == 0


def test_a_record_is_written_as_its_schema_dumps_it(client, app, as_role, recorded):
    """dump_record writes the record's own fields itself; the schema that documents them
    (DecisionRecordSchema) must dump every record, reviewed, requested by someone or not, with
    and without ?explain=as-decided, to the same JSON."""
    from infoshare.service.api.asdecided import as_decided
    from infoshare.service.api.decisions import DecisionRecordSchema, dump_record
    from infoshare.service.store.models import Decision, as_utc

    plain = recorded(BARE_FACTS, case_ref="CASE-S")
    asked = recorded(SHARE_FACTS, case_ref="CASE-S", requested_by="J. Smith")
    review = {"decision": "seek_consent", "rationale": "Ask first.", "reviewed_by": "A. Khan"}
    assert (
        client.post(f"/v1/decisions/{plain['id']}/review", json=review, headers=as_role("coordinator")).status_code
        == 201
    )
    schema = DecisionRecordSchema()
    with app.test_request_context():
        for made in (plain, asked):
            decision = Decision.get_by_id(made["id"])
            reviews = list(decision.reviews)
            for explained in (None, as_decided(decision)):
                raw = {
                    "id": decision.id,
                    "case_ref": decision.case_ref,
                    "recorded_at": as_utc(decision.recorded_at),
                    "requested_by": decision.requested_by,
                    "client": decision.client or decision.key_name,
                    "recorded_by": decision.key_name,
                    "facts": decision.facts,
                    "reviews": [
                        {
                            "decision": r.final_decision,
                            "rationale": r.rationale,
                            "reviewed_by": r.reviewed_by,
                            "client": r.client or r.key_name,
                            "reviewed_at": as_utc(r.reviewed_at),
                        }
                        for r in reviews
                    ],
                    **({"as_decided": explained} if explained is not None else {}),
                }
                expected = {**decision.verdict, **schema.dump({**decision.verdict, **raw})}
                assert dump_record(decision, reviews, explained) == expected
    assert [len(Decision.get_by_id(m["id"]).reviews) for m in (plain, asked)] == [1, 0]
