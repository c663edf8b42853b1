"""Bad input gets a 400 (413 for size) naming each field, never a 500 or a traceback."""

from __future__ import annotations

import json

import pytest
from marshmallow import ValidationError
from service_cases import SHARE_FACTS
from test_memo import hostile, make_corpus  # the hostile variants of facts, and the bench's corpus

from infoshare.engine.policy.loader import SHIPPED_POLICY, load_policy
from infoshare.service.api.decisions import decision_request_schema
from infoshare.service.api.evaluate import evaluate_request_schema
from infoshare.service.state import snapshot


def post(client, headers, path: str, body) -> object:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, data=data, headers={**headers, "Content-Type": "application/json"})


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.json
    assert set(body) == {"type", "title", "status", "detail", "error", "messages", "request_id"}
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert "decision" not in body
    return body


@pytest.fixture
def case_system(as_role):
    return as_role("case-system")


def test_malformed_json_is_a_400_saying_where(client, case_system):
    body = assert_error(post(client, case_system, "/v1/decisions", b'{"case_ref": "C1", "facts": {'), 400)
    assert body["error"] == "the request body is not valid JSON"
    assert "line 1 column" in body["messages"]["_body"][0]


def test_an_unknown_fact_is_named_with_the_facts_there_are(client, case_system):
    facts = {**SHARE_FACTS, "favourite_colour": "blue"}
    body = assert_error(post(client, case_system, "/v1/decisions", {"case_ref": "C1", "facts": facts}), 400)
    [message] = body["messages"]["facts"]["favourite_colour"]
    assert "Unknown fact" in message and "harm_concern" in message


def test_a_bad_value_names_the_allowed_values(client, case_system):
    facts = {**SHARE_FACTS, "consent": "maybe"}
    body = assert_error(post(client, case_system, "/v1/evaluate", {"facts": facts}), 400)
    assert body["messages"] == {"facts": {"consent": ["Must be one of: given, refused, not_sought."]}}


def test_a_wrong_type_is_named(client, case_system):
    facts = {**SHARE_FACTS, "secure_channel": "yes please"}
    body = assert_error(post(client, case_system, "/v1/evaluate", {"facts": facts}), 400)
    assert list(body["messages"]["facts"]) == ["secure_channel"]


def test_a_bad_information_item_is_named_by_index(client, case_system):
    facts = {**SHARE_FACTS, "information": [{"item": "GP letter", "needed_for_purpose": "sure"}]}
    body = assert_error(post(client, case_system, "/v1/evaluate", {"facts": facts}), 400)
    problems = body["messages"]["facts"]["information"]["0"]
    assert list(problems) == ["needed_for_purpose"]


def test_the_subject_is_required(client, case_system):
    facts = {k: v for k, v in SHARE_FACTS.items() if k != "subject"}
    body = assert_error(post(client, case_system, "/v1/decisions", {"case_ref": "C1", "facts": facts}), 400)
    assert body["messages"] == {"facts": {"subject": ["Missing data for required field."]}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"facts": SHARE_FACTS}, "case_ref"),
        ({"case_ref": "C1"}, "facts"),
        ({"case_ref": "C1", "facts": SHARE_FACTS, "priority": "high"}, "priority"),
        ({"case_ref": "", "facts": SHARE_FACTS}, "case_ref"),
        ({"case_ref": "has spaces", "facts": SHARE_FACTS}, "case_ref"),
        ({"case_ref": 12, "facts": SHARE_FACTS}, "case_ref"),
        ({"case_ref": "C1", "facts": ["subject", "child"]}, "facts"),
        ({"case_ref": "C1", "facts": SHARE_FACTS, "requested_by": ""}, "requested_by"),
    ],
)
def test_request_fields_are_checked(client, case_system, body, field):
    result = assert_error(post(client, case_system, "/v1/decisions", body), 400)
    assert list(result["messages"]) == [field]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"[]",
        b'"text"',
        b"null",
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,
        b"1" * 5000,
        b'{"case_ref": "C1", "facts": {"subject": NaN}}',
    ],
)
def test_odd_bodies_are_400_not_500(client, case_system, raw):
    assert_error(post(client, case_system, "/v1/decisions", raw), 400)


def test_a_body_over_one_mebibyte_is_413(client, case_system, app):
    padding = "x" * (1024 * 1024)
    body = assert_error(
        post(client, case_system, "/v1/decisions", {"case_ref": "C1", "facts": {"subject": padding}}), 413
    )
    assert "1 MiB" in body["error"]


def test_a_body_just_under_the_limit_is_read(client, case_system):
    item = {"item": "x" * 2000, "needed_for_purpose": True, "accurate_and_up_to_date": True}
    facts = {**SHARE_FACTS, "information": [item] * 50}  # the most information a case may give
    raw = json.dumps({"facts": facts}, indent=950).encode()  # and nearly the rest of the mebibyte in spaces
    assert 900_000 < len(raw) < 1024 * 1024
    assert post(client, case_system, "/v1/evaluate", raw).status_code == 200


def test_unknown_paths_and_wrong_methods_are_json(client, case_system):
    assert_error(client.get("/v1/nothing-here", headers=case_system), 404)
    wrong = assert_error(client.delete("/v1/decisions/1", headers=case_system), 405)
    assert wrong["error"].startswith("this method is not allowed")
    response = client.put("/v1/decisions", headers=case_system)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_a_review_needs_a_rationale_that_is_not_blank(client, as_role, recorded):
    made = recorded()
    coordinator = as_role("coordinator")
    path = f"/v1/decisions/{made['id']}/review"
    missing = assert_error(post(client, coordinator, path, {"decision": "share", "reviewed_by": "A. Khan"}), 400)
    assert list(missing["messages"]) == ["rationale"]
    blank = assert_error(
        post(client, coordinator, path, {"decision": "share", "rationale": " \n\t", "reviewed_by": "A. Khan"}), 400
    )
    assert "must not be blank" in blank["messages"]["rationale"][0]
    refer = assert_error(
        post(client, coordinator, path, {"decision": "refer", "rationale": "x", "reviewed_by": "A. Khan"}), 400
    )
    assert "share_without_consent" in refer["messages"]["decision"][0]


def test_a_query_parameter_the_route_does_not_take_is_refused_by_name(client, as_role):
    read = client.get("/v1/policy?verbose=1&=x", headers=as_role("case-system"))
    assert read.status_code == 400
    assert read.json["messages"] == {"": ["Unknown query parameter."], "verbose": ["Unknown query parameter."]}
    assert client.get("/v1/policy", headers=as_role("case-system")).status_code == 200


def envelopes(case: dict) -> list:
    """Bodies around one corpus case: valid ones, and hostile ones the schema must refuse."""
    valid = [
        {"case_ref": "CASE-1", "facts": case},
        {"case_ref": "a/b:c.d-e_f", "facts": case, "requested_by": "Sam Patel"},
        {"case_ref": "x" * 200, "facts": case, "requested_by": "é" * 200},
    ]
    bad_refs = ["", " C1", "C1\n", "C 1", "x" * 201, "é", 5, None, ["C1"], {"C1": 1}]
    bad_askers = ["", "a\x00b", "x" * 201, None, 5, [], True]
    return [
        *valid,
        *({"case_ref": ref, "facts": case} for ref in bad_refs),
        *({"case_ref": "C1", "facts": case, "requested_by": asker} for asker in bad_askers),
        {"facts": case},
        {"case_ref": "C1"},
        {"case_ref": "C1", "facts": case, "no_such_field": 1},
        {"case_ref": "C1", "facts": case, "facts ": case},
        *({"case_ref": "C1", "facts": facts} for facts in hostile(case, load_policy(SHIPPED_POLICY))),
        None,
        [],
        "body",
        [{"case_ref": "C1", "facts": case}],
    ]


def test_the_quick_loader_answers_as_the_schema_does(app):
    """The quick path in front of the request schemas (service.api.payload.QuickLoader) takes a
    body only where the schema loads it unchanged; everything else is the schema's to answer."""
    quick_taken = 0
    with app.app_context():
        loaders = [snapshot().loader(decision_request_schema), snapshot().loader(evaluate_request_schema)]
        for case in make_corpus(load_policy(SHIPPED_POLICY), 30):
            for body in envelopes(case):
                for loader in loaders:
                    try:
                        expected: object = loader.schema.load(body)
                    except ValidationError as exc:
                        expected = exc
                    if loader._plain(body):
                        quick_taken += 1
                        assert not isinstance(expected, ValidationError), body
                        assert body == expected
                    try:
                        answer: object = loader.load(body)
                    except ValidationError as exc:
                        answer = exc
                    if isinstance(expected, ValidationError):
                        assert isinstance(answer, ValidationError) and answer.messages == expected.messages, body
                    else:
                        assert answer == expected, body
    assert quick_taken >= 30 * 3  # each valid decision body (and each evaluate body) went the quick way
