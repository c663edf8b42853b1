"""POST /v1/interview: the verdict so far and only the questions whose answers can still change it."""

from __future__ import annotations

from service_cases import SHARE_FACTS

from infoshare.engine.analysis.interview import interview


def test_an_interview_answers_the_verdict_and_the_open_questions(app, client, as_role):
    facts = {"subject": "child", "harm_concern": "yes"}
    response = client.post("/v1/interview", json={"facts": facts}, headers=as_role("case-system"))
    assert response.status_code == 200, response.json
    body = response.json
    engine = app.extensions["infoshare"].engine
    assert body["verdict"] == engine.evaluate(facts).to_dict()
    assert body["settled"] is False
    asked = [q["fact"] for q in body["questions"]]
    assert asked == interview(engine, facts).facts
    assert "harm_concern" not in asked and "subject" not in asked
    assert "secure_channel" not in asked and "information" not in asked, "they change no decision"
    first = body["questions"][0]
    assert first["fact"] == "recipient_needs_to_know" and first["type"] == "choice"
    assert first["question"] == "Does the person need to know the information?"
    assert {v["value"]: v["label"] for v in first["values"]} == {
        "yes": "Yes, they need to know it",
        "no": "No, they do not need to know it",
        "unsure": "I am not sure",
    }
    # "no" shares nothing, whatever else holds (answers the policy declares contradictory do not count)
    assert next(v for v in first["values"] if v["value"] == "no")["decisions"] == ["do_not_share"]
    assert "decision" in first["separates"] and first["why"].startswith("The answer can still change the decision")


def test_a_settled_case_asks_nothing(client, as_role):
    # every fact that could still change an answer is given: what seeking consent would do (confidentiality);
    # the crime questions are not needed (only a case that contradicts itself would answer otherwise)
    settled = {**SHARE_FACTS, "seeking_consent_would": []}
    for role in ("case-system", "coordinator", "policy-owner"):
        response = client.post("/v1/interview", json={"facts": settled}, headers=as_role(role))
        assert response.status_code == 200, (role, response.json)
        assert response.json["settled"] is True and response.json["questions"] == []
        assert response.json["verdict"]["decision"] == "share"


def test_an_interview_refuses_bad_facts_and_needs_a_key(client, as_role):
    bad = client.post("/v1/interview", json={"facts": {"subject": "cat"}}, headers=as_role("case-system"))
    assert bad.status_code == 400 and "subject" in bad.json["messages"]["facts"]
    unknown = client.post("/v1/interview", json={"facts": {"subject": "child"}, "x": 1}, headers=as_role("case-system"))
    assert unknown.status_code == 400
    assert client.post("/v1/interview", json={"facts": {"subject": "child"}}).status_code == 401


def test_the_interview_is_in_the_openapi_document(client):
    operation = client.get("/openapi.json").json["paths"]["/v1/interview"]["post"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/Interview")
