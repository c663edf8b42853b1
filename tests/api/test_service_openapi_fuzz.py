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
from infoshare.service.access.keys import create_key

REQUESTS = int(os.environ.get("INFOSHARE_FUZZ_REQUESTS", "1000"))
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
        case_system = create_key("case-system", "fuzz-case-system")[1]
        coordinator = create_key("coordinator", "fuzz-coordinator")[1]
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # A valid request may meet state it cannot see: 409 is already expected (in flight), and a
    # generated Idempotency-Key that repeats with another body is a 422 (checked below to be that).
    accepted = schema.config.checks.positive_data_acceptance
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=[*accepted.expected_statuses, "422"]
    )
    cases = st.one_of(schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE))
    answers: Counter = Counter()

    @settings(max_examples=REQUESTS, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def send(case) -> None:
        token = coordinator if case.operation.path.endswith("/review") else case_system
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(headers=headers)
        answers[response.status_code] += 1
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
