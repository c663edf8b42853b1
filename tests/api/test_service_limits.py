"""Every size and rate limit is stated in the OpenAPI document and enforced, however a request is sent."""

from __future__ import annotations

import contextlib
import http.client
import json
from urllib.parse import urlsplit

import pytest
from service_cases import SHARE_FACTS
from test_service_live import environment, infoshare, serving

from infoshare.engine.policy.factschema import MAX_ITEMS, MAX_TEXT
from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app

ITEM = {"item": "x", "needed_for_purpose": True, "accurate_and_up_to_date": True}


def chunked_post(base: str, token: str, size: int) -> tuple[int, dict]:
    """POST /v1/evaluate with a body of ``size`` bytes sent chunked (no Content-Length)."""
    head = json.dumps({"facts": {"subject": "child"}}).encode()

    def chunks():
        yield head
        sent = len(head)
        while sent < size:
            piece = b" " * min(65536, size - sent)
            sent += len(piece)
            yield piece

    where = urlsplit(base)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    # The server may answer and stop reading before the client has sent everything: its answer is still there.
    with contextlib.suppress(BrokenPipeError):
        connection.request("POST", "/v1/evaluate", body=chunks(), headers=headers, encode_chunked=True)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_a_chunked_body_over_the_limit_is_413_and_one_under_it_is_read(tmp_path):
    env = environment(tmp_path / "chunked.sqlite3")
    token = infoshare("keys", "create", "--role", "case-system", "--name", "cms", env=env).stdout.split()[-1]
    with serving(env, tmp_path / "server.log") as base:
        over, error = chunked_post(base, token, 3 * 1024 * 1024)
        under, verdict = chunked_post(base, token, 1024 * 1024 - 100)
    assert over == 413 and "1 MiB" in error["error"] and error["request_id"]
    assert under == 200 and verdict["decision"] == "undetermined"


@pytest.mark.parametrize(
    ("facts", "where"),
    [
        ({**SHARE_FACTS, "information": [ITEM] * (MAX_ITEMS + 1)}, "information"),
        ({**SHARE_FACTS, "information": [{**ITEM, "item": "x" * (MAX_TEXT + 1)}]}, "information"),
        ({**SHARE_FACTS, "seeking_consent_would": ["increase_risk_to_child_or_others"] * 5}, "seeking_consent_would"),
    ],
    ids=["too-many-items", "item-too-long", "choices-repeated-past-their-number"],
)
def test_more_items_or_longer_text_than_the_maxima_is_400_naming_the_field(client, as_role, facts, where):
    response = client.post("/v1/decisions", json={"case_ref": "BIG-1", "facts": facts}, headers=as_role("case-system"))
    assert response.status_code == 400 and where in response.json["messages"]["facts"]


def test_the_largest_case_allowed_is_recorded(client, as_role):
    facts = {**SHARE_FACTS, "information": [{**ITEM, "item": "x" * MAX_TEXT}] * MAX_ITEMS}
    response = client.post("/v1/decisions", json={"case_ref": "BIG-1", "facts": facts}, headers=as_role("case-system"))
    assert response.status_code == 201 and len(response.json["information"]) == MAX_ITEMS


def test_the_openapi_document_states_every_maximum(client):
    document = client.get("/openapi.json").json
    schemas = document["components"]["schemas"]
    facts = schemas["Facts"]["properties"]
    assert facts["information"]["maxItems"] == MAX_ITEMS and facts["seeking_consent_would"]["maxItems"] == 4
    assert schemas["InformationItem"]["properties"]["item"]["maxLength"] == MAX_TEXT
    request = schemas["DecisionRequest"]["properties"]
    assert request["case_ref"]["pattern"].endswith("{0,199}$") and request["requested_by"]["maxLength"] == 200
    post = document["paths"]["/v1/decisions"]["post"]["responses"]
    assert "chunked" in post["413"]["description"] and "429" in post
    assert "429" in document["paths"]["/healthz"]["get"]["responses"]


def test_requests_without_a_valid_key_are_limited_by_address_and_keyed_ones_are_not(database_url, tokens):
    app = create_app(
        {"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY), "INFOSHARE_ANONYMOUS_RATE_LIMIT": 5}
    )
    client = app.test_client()
    here = {"REMOTE_ADDR": "192.0.2.7"}
    wrong = {"Authorization": "Bearer isk_0000000000000000.guess"}
    answers = [client.get("/v1/policy", headers=wrong, environ_base=here).status_code for _ in range(4)]
    answers.append(client.get("/healthz", environ_base=here).status_code)
    limited = client.get("/v1/policy", headers=wrong, environ_base=here)
    assert answers == [401, 401, 401, 401, 200] and limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1 and "without a valid key" in limited.json["error"]
    assert client.get("/readyz", environ_base=here).status_code == 429
    assert client.get("/healthz", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 200
    keyed = {"Authorization": f"Bearer {tokens['case-system']}"}
    assert client.get("/v1/policy", headers=keyed, environ_base=here).status_code == 200


@pytest.mark.parametrize("sent", ["has space", "x" * 65, "<script>", "semi;colon", "ünï", "a\u2028b", ""], ids=repr)
def test_a_request_id_that_is_not_safe_is_replaced(client, sent, request_log):
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    given = response.headers["X-Request-ID"]
    assert given != sent and len(given) == 32 and int(given, 16) >= 0
    assert request_log()[-1]["request_id"] == given


def test_a_safe_request_id_is_kept(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "cms-7.trace_01"}).headers["X-Request-ID"] == "cms-7.trace_01"
    )


def test_a_query_parameter_given_twice_is_400(client, recorded, as_role):
    made = recorded()
    response = client.get(f"/v1/decisions/{made['id']}?explain=as-decided&explain=x", headers=as_role("case-system"))
    assert response.status_code == 400 and response.json["messages"] == {"explain": ["Give it once."]}
    once = client.get(f"/v1/decisions/{made['id']}?explain=as-decided", headers=as_role("case-system"))
    assert once.status_code == 200
