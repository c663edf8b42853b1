"""Every /v1 call needs a key; each role may do only its own calls."""

from __future__ import annotations

import pytest
from service_cases import SHARE_FACTS

from infoshare.service.access.keys import revoke_key

CALLS = {
    "evaluate": ("post", "/v1/evaluate", {"facts": SHARE_FACTS}),
    "record": ("post", "/v1/decisions", {"case_ref": "C-AUTH", "facts": SHARE_FACTS}),
    "read one": ("get", "/v1/decisions/{id}", None),
    "read case": ("get", "/v1/cases/C-AUTH/decisions", None),
    "review": (
        "post",
        "/v1/decisions/{id}/review",
        {"decision": "do_not_share", "rationale": "r", "reviewed_by": "A. Khan"},
    ),
    "policy": ("get", "/v1/policy", None),
    "reload": ("post", "/v1/policy/reload", None),
}
ALLOWED = {
    "case-system": {"evaluate", "record", "read one", "read case", "policy"},
    "coordinator": {"evaluate", "read one", "read case", "review", "policy"},
    "policy-owner": {"evaluate", "policy", "reload"},
}


def call(client, name: str, decision_id: int, headers: dict):
    method, path, body = CALLS[name]
    return getattr(client, method)(path.format(id=decision_id), json=body, headers=headers)


@pytest.mark.parametrize("role", sorted(ALLOWED))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_role_matrix(client, as_role, recorded, role, name):
    decision_id = recorded(case_ref="C-AUTH")["id"]
    response = call(client, name, decision_id, as_role(role))
    if name in ALLOWED[role]:
        assert response.status_code in (200, 201), response.json
    else:
        assert response.status_code == 403
        assert "this call needs a key with role" in response.json["error"]
        assert response.json["request_id"]


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer isk_not-a-real-key", "Basic dXNlcjpwYXNz", "isk_no_scheme"]
)
def test_no_key_or_a_wrong_key_is_401(client, as_role, recorded, name, authorization):
    decision_id = recorded(case_ref="C-AUTH")["id"]
    headers = {"Authorization": authorization} if authorization else {}
    response = call(client, name, decision_id, headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json) == {"type", "title", "status", "detail", "error", "messages", "request_id"}


def test_a_revoked_key_stops_working(client, app, as_role):
    headers = as_role("case-system")
    assert client.get("/v1/policy", headers=headers).status_code == 200
    with app.app_context():
        revoke_key("test-case-system")
    response = client.get("/v1/policy", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json["error"]


def test_health_readiness_and_the_openapi_document_need_no_key(client):
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_keys_are_stored_only_as_hashes(app, tokens, database_url):
    import sqlite3

    dump = "\n".join(sqlite3.connect(database_url.removeprefix("sqlite:///")).iterdump())
    assert "test-case-system" in dump
    assert not any(token in dump for token in tokens.values())
