"""GET /v1/policy, /healthz, /readyz and /openapi.json."""

from __future__ import annotations


def test_policy_is_what_the_engine_loaded(client, app, as_role):
    response = client.get("/v1/policy", headers=as_role("policy-owner"))
    assert response.status_code == 200
    policy = app.extensions["infoshare"].policy
    body = dict(response.json)
    [activation] = body.pop("activations")
    assert body == policy.describe()
    assert (activation["version"], activation["digest"], activation["activated_by"]) == (
        policy.version,
        policy.digest,
        "start",
    )
    facts = {f["name"]: f for f in response.json["facts"]}
    assert facts["subject"]["values"] == ["child", "adult"] and facts["subject"]["question"]
    assert {f["name"] for f in facts["information"]["fields"]} >= {"item", "needed_for_purpose"}
    assert response.json["digest"] == policy.digest


def test_healthz_and_readyz(client, app):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["status"] == "ready"
    assert ready.json["policy"]["digest"] == app.extensions["infoshare"].policy.digest


def test_openapi_documents_every_route_from_the_schemas(client, app):
    spec = client.get("/openapi.json").json
    assert spec["openapi"] == "3.0.3"
    assert set(spec["paths"]) == {
        "/v1/decisions",
        "/v1/evaluate",
        "/v1/interview",
        "/v1/review-queue",
        "/v1/events",
        "/v1/decisions/{decision_id}",
        "/v1/cases/{case_ref}/decisions",
        "/v1/decisions/{decision_id}/review",
        "/v1/policy",
        "/v1/policy/reload",
        "/healthz",
        "/readyz",
    }
    record = spec["paths"]["/v1/decisions"]["post"]
    assert record["security"] == [{"bearerAuth": []}]
    assert set(record["responses"]) >= {"201", "400", "401", "403", "413", "503"}
    schemas = spec["components"]["schemas"]
    facts_ref = schemas["DecisionRequest"]["properties"]["facts"]
    facts = schemas[facts_ref["$ref"].rsplit("/", 1)[-1]]
    assert facts["properties"]["consent"]["enum"] == ["given", "refused", "not_sought"]
    assert facts["required"] == ["subject"]
    review = spec["paths"]["/v1/decisions/{decision_id}/review"]["post"]
    assert "Roles allowed: coordinator." in review["description"]
    assert sorted(schemas["ReviewRequest"]["required"]) == ["decision", "rationale", "reviewed_by"]
    verdict = schemas["DecisionRecord"]["properties"]
    assert verdict["decision"]["enum"] == [
        "share",
        "share_without_consent",
        "seek_consent",
        "do_not_share",
        "refer",
        "undetermined",
    ]
