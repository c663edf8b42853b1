"""No request body, however odd, gets a 500 or a verdict it should not."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key

FACT_NAMES = [
    "subject",
    "harm_concern",
    "crime_suspected",
    "serious_crime",
    "consent",
    "seeking_consent_would",
    "purpose",
    "recipient",
    "recipient_needs_to_know",
    "information",
    "secure_channel",
]
VALUES = [
    "child",
    "adult",
    "yes",
    "no",
    "unsure",
    "given",
    "refused",
    "not_sought",
    "police",
    "referral",
    "increase_risk_to_child_or_others",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(VALUES),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
facts = st.dictionaries(st.sampled_from(FACT_NAMES) | st.text(max_size=8), json_values, max_size=6)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"case_ref": st.text(max_size=12) | json_values, "facts": facts}),
    st.fixed_dictionaries({"facts": facts}),
)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with app.app_context():
        token = create_key("case-system", "fuzz")[1]
    return app.test_client(), {"Authorization": f"Bearer {token}"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, path=st.sampled_from(["/v1/decisions", "/v1/evaluate"]))
def test_any_json_body_is_answered_with_a_verdict_or_a_400(fuzz_client, body, path):
    client, headers = fuzz_client
    response = client.post(path, data=json.dumps(body), headers=headers)
    assert response.status_code in (200, 201, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert response.json["messages"] and "decision" not in response.json
    else:
        assert response.json["decision"] in (
            "share",
            "share_without_consent",
            "seek_consent",
            "do_not_share",
            "refer",
            "undetermined",
        )
