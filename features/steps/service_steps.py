"""Recording steps, run against the HTTP service (Flask test client) with the policy under test.

The service is made once per run, on first use: an sqlite decision log in a
temporary folder and one API key per role. Each scenario has its own case_ref.
"""

from __future__ import annotations

import logging
from pathlib import Path

from behave import step, then, when
from verdicts import verdict_seen

from infoshare.service import create_app
from infoshare.service.access.keys import ROLES, create_key


def service(context) -> dict:
    made = context.service
    if not made:
        folder = Path(context.workdir.name)
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{folder / 'decisions.sqlite3'}",
                "INFOSHARE_POLICY": str(context.policy.directory),
                "INFOSHARE_LOG_SIGNING_KEY_FILE": str(folder / "log-signing.key"),
                "INFOSHARE_LOG_CHECKPOINT_FILE": str(folder / "log-checkpoints.jsonl"),
            },
            loaded=context.policy,
        )
        with app.app_context():
            made["keys"] = {role: create_key(role, f"scenario-{role}") for role in ROLES}
        made["client"] = app.test_client()
        request_log = logging.getLogger("infoshare.request")  # one line per request is noise here
        context.on_exit.append(lambda level=request_log.level: request_log.setLevel(level))
        request_log.setLevel(logging.WARNING)
    return made


def call(context, method: str, path: str, role: str, body: dict | None = None):
    made = service(context)
    key, token = made["keys"][role]
    return made["client"].open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})


def case_file(context) -> list[dict]:
    response = call(context, "GET", f"/v1/cases/{context.case_ref}/decisions", "coordinator")
    assert response.status_code == 200, response.json
    return response.json["decisions"]


@step("the decision is recorded in the case file")
def record(context) -> None:
    response = call(
        context,
        "POST",
        "/v1/decisions",
        "case-system",
        {"case_ref": context.case_ref, "requested_by": "practitioner", "facts": context.facts},
    )
    assert response.status_code == 201, response.json
    context.recorded = [*getattr(context, "recorded", []), response.json]
    verdict_seen(context, response.json)


@then("the case file holds the decision with its full rationale")
def holds_decision(context) -> None:
    """The record read back is the verdict the policy gives, with the facts it was made on and the policy's digest."""
    made = context.recorded[-1]
    record = next((d for d in case_file(context) if d["id"] == made["id"]), None)
    assert record is not None, f"decision {made['id']} is not in case file {context.case_ref}"
    expected = context.engine.evaluate(context.facts).to_dict()
    for key in ("decision", "basis", "rationale", "conditions", "obligations", "information", "missing_facts"):
        assert record[key] == expected[key], f"{key}: recorded {record[key]!r}, the policy gives {expected[key]!r}"
    assert record["rationale"], "the rationale is empty"
    assert record["facts"] == made["facts"] and record["facts"]["subject"] == context.facts["subject"]
    assert record["policy"]["digest"] == context.policy.digest
    assert record["requested_by"] == "practitioner" and record["recorded_at"]


@then('the case file holds, oldest first, "{first}" then "{second}"')
def holds_in_order(context, first: str, second: str) -> None:
    first, second = context.phrases.decision(first), context.phrases.decision(second)
    assert [d["decision"] for d in case_file(context)] == [first, second]


@when('the Safeguarding Co-ordinator records the final decision "{decision}", because "{rationale}"')
def review(context, decision: str, rationale: str) -> None:
    decision = context.phrases.decision(decision)
    context.review = call(
        context,
        "POST",
        f"/v1/decisions/{context.recorded[-1]['id']}/review",
        "coordinator",
        {"decision": decision, "rationale": rationale, "reviewed_by": "A. Khan"},
    )


@when('the Safeguarding Co-ordinator records the final decision "{decision}" without a rationale')
def review_without_rationale(context, decision: str) -> None:
    review(context, decision, "   ")


@then('the case file shows the Co-ordinator\'s final decision "{decision}", because "{rationale}"')
def shows_review(context, decision: str, rationale: str) -> None:
    decision = context.phrases.decision(decision)
    assert context.review.status_code == 201, context.review.json
    made = context.recorded[-1]
    record = next(d for d in case_file(context) if d["id"] == made["id"])
    final = record["reviews"][-1]
    assert (final["decision"], final["rationale"]) == (decision, rationale), final
    assert final["reviewed_by"] == "A. Khan"
    assert final["client"] == service(context)["keys"]["coordinator"][0].name
    assert (record["decision"], record["rationale"]) == (made["decision"], made["rationale"]), (
        "the original decision and rationale must stay in the case file"
    )


@then("the review is refused, asking for {field}")
def review_refused(context, field: str) -> None:
    fields = {"the rationale": "rationale", "a decision that can be acted on": "decision"}
    assert context.review.status_code == 400, (context.review.status_code, context.review.json)
    assert fields[field] in context.review.json["messages"], context.review.json
    record = next(d for d in case_file(context) if d["id"] == context.recorded[-1]["id"])
    assert record["reviews"] == [], record["reviews"]
