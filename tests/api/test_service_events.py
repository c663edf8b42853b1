"""GET /v1/events: each client its own records, the co-ordinator all, activations for every reader, long-polling."""

from __future__ import annotations

import threading

from service_cases import BARE_FACTS, SHARE_FACTS


def feed(client, headers, **params):
    response = client.get("/v1/events", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_a_client_sees_its_own_records_and_the_coordinator_all(client, app, as_role, recorded):
    from infoshare.service.access.keys import create_key

    with app.app_context():
        other = {"Authorization": f"Bearer {create_key('case-system', 'other-system')[1]}"}
    mine = recorded(BARE_FACTS, case_ref="E-1")
    theirs = client.post("/v1/decisions", json={"case_ref": "E-2", "facts": SHARE_FACTS}, headers=other).json
    client.post(
        f"/v1/decisions/{mine['id']}/review",
        json={"decision": "seek_consent", "rationale": "Ask first.", "reviewed_by": "A. Khan"},
        headers=as_role("coordinator"),
    )
    own = [(e["type"], e.get("case_ref")) for e in feed(client, as_role("case-system"))["events"]]
    assert own == [("policy_activated", None), ("decision_recorded", "E-1"), ("review_recorded", "E-1")]
    assert [(e["type"], e.get("case_ref")) for e in feed(client, other)["events"]][1:] == [("decision_recorded", "E-2")]
    everything = feed(client, as_role("coordinator"))["events"]
    assert [e.get("case_ref") for e in everything] == [None, "E-1", "E-2", "E-1"]
    review = everything[-1]
    assert review["reviewed_by"] == "A. Khan" and review["decision"] == "seek_consent"
    assert review["decision_id"] == mine["id"] and review["client"] == "test-case-system"
    assert theirs["id"] == everything[2]["decision_id"]
    assert everything[0]["policy"]["digest"] == app.extensions["infoshare"].policy.digest
    owner = feed(client, as_role("policy-owner"))["events"]
    assert [e["type"] for e in owner] == ["policy_activated"], "a policy owner reads no case records"
    assert "rationale" not in str(everything) and "facts" not in str(everything)


def test_a_cursor_resumes_after_what_was_seen(client, as_role, recorded):
    coordinator = as_role("coordinator")
    made = [recorded(BARE_FACTS, case_ref=f"C-{n}")["id"] for n in range(5)]
    first = feed(client, coordinator, limit=3)
    assert len(first["events"]) == 3
    rest = feed(client, coordinator, after=first["next"])
    seen = [e.get("decision_id") for e in first["events"] + rest["events"]]
    assert seen == [None, *made]
    middle = feed(client, coordinator, after=first["events"][1]["cursor"])
    assert [e["decision_id"] for e in middle["events"]] == made[1:]
    assert feed(client, coordinator, after=rest["next"]) == {"events": [], "next": rest["next"]}


def test_a_waiting_call_answers_as_soon_as_something_happens(app, client, as_role, recorded):
    coordinator = as_role("coordinator")
    now = feed(client, coordinator)["next"]
    answer, started = {}, threading.Event()

    def wait() -> None:
        started.set()
        answer["body"] = (
            app.test_client().get("/v1/events", query_string={"after": now, "wait": 20}, headers=coordinator).json
        )

    waiter = threading.Thread(target=wait)
    waiter.start()
    started.wait()
    made = recorded(BARE_FACTS, case_ref="W-1")
    waiter.join(timeout=20)
    assert not waiter.is_alive(), "the waiting call did not answer when the decision was recorded"
    assert [e["decision_id"] for e in answer["body"]["events"]] == [made["id"]]


def test_bad_parameters_are_refused_by_name(client, as_role):
    for params, field in (({"after": "x"}, "after"), ({"wait": "21"}, "wait"), ({"wait": "-1"}, "wait")):
        response = client.get("/v1/events", query_string=params, headers=as_role("case-system"))
        assert response.status_code == 400 and list(response.json["messages"]) == [field], response.json
    assert client.get("/v1/events").status_code == 401
