"""Requests generated from the service's own OpenAPI document (schemathesis), valid and invalid.

Every answer must be one the document allows, with a body of the documented
shape; no answer is a 5xx; every error is JSON with the request id that the
X-Request-ID header carries, and no traceback. Valid requests must be
accepted and invalid ones refused. INFOSHARE_FUZZ_REQUESTS sets how many
(1,000 here; `make soak` sends 10,000).
"""

from __future__ import annotations

import os
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.auth import roles_with
from infoshare.service.access.keys import ROLES, create_key
from infoshare.service.requestlog import route_template

REQUESTS = int(os.environ.get("INFOSHARE_FUZZ_REQUESTS", "1000"))
# A reload compiles and checks the whole policy (seconds each here): so many pass the key check,
# later ones carry a key without the permission.
PAST_THE_KEY_CHECK_AT_MOST = {("POST", "/v1/policy/reload"): 3}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
]


def test_generated_requests_get_documented_answers_and_never_a_5xx(tmp_path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fuzz.sqlite3'}",
            "INFOSHARE_POLICY": str(SHIPPED_POLICY),
            "INFOSHARE_RATE_LIMIT": 0,
            "INFOSHARE_EVENTS_MAX_WAIT": 0,  # a generated `wait` would hold each call for up to 20 s
        }
    )
    with app.app_context():
        tokens = {role: create_key(role, f"fuzz-{role}")[1] for role in ROLES}
    key_for = keys_by_operation(app, tokens)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # A valid request may meet state it cannot see: 409 is already expected (in flight), and a
    # generated Idempotency-Key that repeats with another body is a 422 (checked below to be that).
    accepted = schema.config.checks.positive_data_acceptance
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=[*accepted.expected_statuses, "422"]
    )
    cases = st.one_of(schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE))
    answers: Counter = Counter()
    let_in: Counter = Counter()  # per operation, the answers past the key check

    @settings(max_examples=REQUESTS, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def send(case) -> None:
        operation = (case.method.upper(), case.operation.path)
        token = key_for.get(operation)
        if let_in[operation] >= PAST_THE_KEY_CHECK_AT_MOST.get(operation, REQUESTS):
            token = next(t for t in tokens.values() if t != token)
        # The generated Authorization (a random token) becomes a real key; one a negative case left out stays out.
        headers = {"Authorization": f"Bearer {token}"} if token and "Authorization" in (case.headers or {}) else {}
        response = case.call(headers=headers)
        answers[response.status_code] += 1
        let_in[operation] += response.status_code not in (401, 403)
        case.validate_response(response, checks=CHECKS, headers=headers)
        assert "Traceback" not in response.text
        if response.status_code >= 400:
            body = response.json()
            if response.status_code == 422 and case.operation.path == "/v1/decisions":
                assert list(body["messages"]) == ["Idempotency-Key"]
            assert body["request_id"] == dict((k.lower(), v) for k, v in response.headers.items())["x-request-id"][0]
            assert body["error"]
            assert "decision" not in body

    while answers.total() < REQUESTS:
        send()
    print(f"\nfuzzed requests: {answers.total()}; answers by status: {dict(sorted(answers.items()))}")
    assert not [status for status in answers if status >= 500]
    assert not [operation for operation in key_for if not let_in[operation]], "operations only ever refused"


def keys_by_operation(app, tokens: dict[str, str]) -> dict[tuple[str, str], str | None]:
    """(method, OpenAPI path) -> the token of a role the route admits (None: the route needs no key),
    so every operation, reload and the co-ordinator's included, is fuzzed past its key check."""
    chosen: dict[tuple[str, str], str | None] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "openapi"):
            continue
        permission = getattr(view, "permission", None)
        token = tokens[roles_with(permission)[0]] if permission else None
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            chosen[(method, route_template(rule.rule))] = token
    return chosen
