"""No request body, however odd, gets a 500 or a verdict it should not.

Three kinds of body: arbitrary JSON (nearly always refused), valid facts
drawn from the policy's vocabulary (each must get the verdict the engine
gives those facts, and a recorded one must read back), and valid facts with
one fact spoilt (refused, naming that fact).
"""

from __future__ import annotations

import json

import pytest
from fact_strategies import case_facts, wrong_value_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infoshare.engine import Engine, load_policy
from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key

POLICY = load_policy(SHIPPED_POLICY)
ENGINE = Engine(POLICY)

FACT_NAMES = [f.name for f in POLICY.case_facts]
VALUES = sorted({v for f in POLICY.case_facts for v in f.values})
PATHS = ["/v1/decisions", "/v1/evaluate"]
CASE_REFS = st.from_regex(r"[A-Z]{2,4}-[0-9]{1,6}", fullmatch=True)
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
@given(body=bodies, path=st.sampled_from(PATHS))
def test_any_json_body_is_answered_with_a_verdict_or_a_400(fuzz_client, body, path):
    client, headers = fuzz_client
    response = client.post(path, data=json.dumps(body), headers={**headers, "Content-Type": "application/json"})
    assert response.status_code in (200, 201, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert response.json["messages"] and "decision" not in response.json
    else:
        assert response.json["decision"] in POLICY.outcomes["decision"].precedence


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(facts=case_facts(POLICY), case_ref=CASE_REFS, record=st.booleans())
def test_valid_facts_get_the_engines_verdict_and_a_recorded_one_reads_back(fuzz_client, facts, case_ref, record):
    client, headers = fuzz_client
    expected = ENGINE.evaluate(facts).to_dict()
    if record:
        response = client.post("/v1/decisions", json={"case_ref": case_ref, "facts": facts}, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
    else:
        response = client.post("/v1/evaluate", json={"facts": facts}, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
    answered = response.json
    assert {key: answered[key] for key in expected} == expected, facts
    if record:
        read = client.get(f"/v1/decisions/{answered['id']}", headers=headers)
        assert read.status_code == 200 and read.json == answered


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(facts=case_facts(POLICY), spoilt=st.sampled_from(POLICY.case_facts), path=st.sampled_from(PATHS))
def test_valid_facts_with_one_spoilt_are_refused_naming_that_fact(fuzz_client, facts, spoilt, path):
    client, headers = fuzz_client
    body = {"case_ref": "FUZZ-1", "facts": {**facts, spoilt.name: wrong_value_of(spoilt)}}
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "decision" not in response.json
    assert list(response.json["messages"]["facts"]) == [spoilt.name], response.json["messages"]
