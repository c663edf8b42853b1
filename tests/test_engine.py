"""The engine: compiled into durable-rules, explained verdicts, bad facts refused, failures closed."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

import infoshare.engine.evaluator as evaluator
from infoshare.engine import Engine, EvaluationError, FactsInvalid
from infoshare.engine.compiler import ALWAYS, compile_policy


def test_every_rule_is_compiled_with_its_action_bound_by_name(engine, shipped_policy):
    definition = engine.ruleset_definition
    assert set(definition) == {r.id for r in shipped_policy.rules} | {ALWAYS}
    assert all(spec["run"] == rule_id for rule_id, spec in definition.items())


def test_rules_on_derived_facts_join_them_inside_the_engine(engine):
    patterns = engine.ruleset_definition["consent-refused"]["all"]
    aliases = [next(iter(p)) for p in patterns]
    assert aliases == ["case", "d_consent_exception", "d_welfare_override"]


def test_registration_does_not_change_the_kept_definition(shipped_policy, complete_case, monkeypatch):
    """Registering the rules in the C engine (at start, and again after a broken session) strips the
    actions from a copy: the kept definition stays the compiler's, so a second registration works."""
    engine = Engine(shipped_policy)
    assert engine.ruleset_definition == compile_policy(shipped_policy)
    monkeypatch.setattr(engine, "_mark_always", lambda run: None)
    with pytest.raises(EvaluationError):
        engine.evaluate(complete_case)  # no action ran: the rules are registered afresh
    monkeypatch.undo()
    assert engine.ruleset_definition == compile_policy(shipped_policy)
    assert engine.evaluate(complete_case).decision == "share"


def test_verdict_carries_the_contract_fields(engine, complete_case):
    verdict = engine.evaluate(complete_case).to_dict()
    assert set(verdict) == {
        "decision",
        "confidentiality",
        "basis",
        "conditions",
        "obligations",
        "information",
        "explain_to_subject",
        "missing_facts",
        "rationale",
        "policy",
    }
    assert verdict["decision"] == "share"
    assert verdict["policy"] == {
        "id": "information-sharing",
        "version": engine.policy.version,
        "digest": engine.policy.digest,
    }


def test_rationale_quotes_the_protocol_for_each_rule_that_fired(engine, complete_case):
    complete_case.update(consent="refused", seeking_consent_would=["undermine_legal_proceedings"])
    verdict = engine.evaluate(complete_case).to_dict()
    assert verdict["decision"] == "share_without_consent"
    by_rule = {entry["rule"]: entry for entry in verdict["rationale"]}
    assert by_rule["share-without-consent-exception"]["role"] == "decided"
    assert by_rule["exception-legal-proceedings"]["role"] == "supports"
    assert {
        "id": "exception-legal-proceedings",
        "text": "Undermine the ability to seek legal advice or enable others to seek legal advice or conduct "
        "legal or other regulatory proceedings.",
    } in by_rule["exception-legal-proceedings"]["clauses"]
    assert by_rule["exception-legal-proceedings"]["source"].startswith("rules/1-consent-exceptions.yaml:")


def test_a_decision_that_lost_is_shown_as_overruled(engine, complete_case):
    complete_case.update(recipient_needs_to_know="no")
    verdict = engine.evaluate(complete_case).to_dict()
    roles = {entry["rule"]: entry["role"] for entry in verdict["rationale"]}
    assert verdict["decision"] == "do_not_share"
    assert roles["share-with-consent"] == "overruled"
    assert roles["recipient-does-not-need-to-know"] == "decided"
    assert verdict["conditions"] == []
    assert verdict["information"][0]["share"] is False
    assert verdict["information"][0]["reasons"] == ["Nothing is shared: the decision is do_not_share."]


def test_missing_facts_name_only_what_the_outcome_depends_on(engine):
    verdict = engine.evaluate(
        {
            "subject": "adult",
            "harm_concern": "yes",
            "consent": "refused",
            "seeking_consent_would": ["undermine_crime_investigation"],
        }
    )
    assert verdict.decision == "undetermined"
    assert set(verdict.missing_facts) == {
        "serious_crime",
        "crime_suspected",
        "purpose",
        "recipient",
        "recipient_needs_to_know",
    }


@pytest.mark.parametrize(
    "facts, field, words",
    [
        ({}, "subject", "Missing data for required field."),
        ({"subject": "teenager"}, "subject", "Must be one of: child, adult."),
        ({"subject": "child", "consent": "maybe"}, "consent", "Must be one of: given, refused, not_sought."),
        ({"subject": "child", "favourite_colour": "red"}, "favourite_colour", "Unknown fact; the facts are: subject,"),
        ({"subject": "child", "secure_channel": "yes"}, "secure_channel", "Not a valid boolean."),
        (
            {"subject": "child", "seeking_consent_would": "undermine_legal_proceedings"},
            "seeking_consent_would",
            "Not a valid list.",
        ),
        ({"subject": "child", "consent_exception": "yes"}, "consent_exception", "Unknown fact"),
    ],
)
def test_bad_facts_are_refused_field_by_field(engine, facts, field, words):
    with pytest.raises(FactsInvalid) as caught:
        engine.evaluate(facts)
    assert words in " ".join(map(str, caught.value.messages[field]))


def test_a_piece_of_information_without_text_is_refused(engine):
    with pytest.raises(FactsInvalid) as caught:
        engine.evaluate({"subject": "child", "information": [{"needed_for_purpose": True}]})
    assert caught.value.messages == {"information": {0: {"item": ["Missing data for required field."]}}}


def test_facts_that_are_not_an_object_are_refused(engine):
    with pytest.raises(FactsInvalid):
        engine.evaluate(["subject", "child"])


def test_ten_thousand_cases_in_a_row_keep_answering(engine, complete_case):
    """Without deleting each session durable-rules fails with MemoryError after about a thousand."""
    refused = {**complete_case, "consent": "refused"}
    for n in range(10_000):
        verdict = engine.evaluate(refused if n % 2 else complete_case)
        assert verdict.decision == ("do_not_share" if n % 2 else "share")


def test_many_threads_each_get_their_own_verdict(engine, complete_case):
    cases = [
        ({**complete_case}, "share"),
        ({**complete_case, "consent": "refused"}, "do_not_share"),
        ({**complete_case, "consent": "not_sought"}, "seek_consent"),
        ({**complete_case, "consent": "refused", "harm_concern": "yes"}, "share_without_consent"),
        ({**complete_case, "recipient_needs_to_know": "unsure"}, "refer"),
        ({k: v for k, v in complete_case.items() if k != "purpose"}, "undetermined"),
    ]
    wrong: list[str] = []

    def worker(offset: int) -> None:
        for n in range(300):
            facts, expected = cases[(n + offset) % len(cases)]
            got = engine.evaluate(facts).decision
            if got != expected:
                wrong.append(f"{expected} -> {got}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_an_error_inside_a_rule_action_fails_closed(shipped_policy, complete_case, monkeypatch):
    engine = Engine(shipped_policy)

    def broken(*args, **kwargs):
        raise RuntimeError("action failed")

    monkeypatch.setattr(evaluator, "Firing", broken)
    with pytest.raises(EvaluationError, match="action failed"):
        engine.evaluate(complete_case)
    monkeypatch.undo()
    assert engine.evaluate(complete_case).decision == "share"


def test_a_case_where_no_action_ran_fails_closed_and_the_engine_recovers(shipped_policy, complete_case, monkeypatch):
    engine = Engine(shipped_policy)
    monkeypatch.setattr(engine, "_mark_always", lambda run: None)
    with pytest.raises(EvaluationError, match="no action ran"):
        engine.evaluate(complete_case)
    monkeypatch.undo()
    assert engine.evaluate(complete_case).decision == "share"


def test_the_engine_does_not_import_the_service():
    code = (  # every module of the engine, under the name it is installed as
        "import importlib, pkgutil, sys, infoshare.engine as e; "
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(e.__path__, 'infoshare.engine.')]; "
        "bad = {'flask', 'peewee', 'werkzeug', 'infoshare.service'} & set(sys.modules); assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
