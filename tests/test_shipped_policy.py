"""The shipped policy answers its own example cases, and every rule is exercised by one of them."""

from __future__ import annotations

import re

import pytest

from infoshare.engine import Engine
from infoshare.engine.analysis.policytests import failures, load_tests, observed
from infoshare.engine.policy.loader import SHIPPED_POLICY, load_policy

TESTS = load_tests(SHIPPED_POLICY)


@pytest.mark.parametrize("case", TESTS, ids=[t.name for t in TESTS])
def test_policy_example(engine, case):
    assert failures(engine, case) == []


def test_every_rule_fires_in_some_example(engine, shipped_policy):
    fired = {rule for case in TESTS for rule in observed(engine, case.facts)["rules_fired"]}
    never = [rule.id for rule in shipped_policy.rules if rule.id not in fired]
    assert never == [], f"rules no example exercises: {never}"


def outcome(engine: Engine, facts: dict) -> dict:
    """What a verdict tells the practitioner: the answer and which protocol statements it quotes
    (not which rule ids fired, which would make every deletion visible)."""
    verdict = engine.evaluate(facts).to_dict()
    quoted = {c["id"] for entry in verdict["rationale"] for c in entry["clauses"]}
    return {**{k: v for k, v in verdict.items() if k not in ("rationale", "policy")}, "quoted": quoted}


@pytest.mark.parametrize("rule_id", [r.id for r in load_policy(SHIPPED_POLICY).rules])
def test_no_rule_is_dead_weight(engine, shipped_policy, rule_id):
    """Without any one rule, some example case gets a different answer: every rule earns its place."""
    without = Engine(shipped_policy.without_rule(rule_id))
    assert any(outcome(engine, case.facts) != outcome(without, case.facts) for case in TESTS)


def test_every_decision_value_is_reached(engine, shipped_policy):
    reached = {observed(engine, case.facts)["decision"] for case in TESTS}
    assert reached == set(shipped_policy.outcomes["decision"].precedence)


def test_every_normative_statement_is_implemented_and_informative_ones_say_why(shipped_policy):
    implemented = shipped_policy.implemented_by()
    for clause in shipped_policy.clauses:
        if clause.normative:
            assert implemented[clause.id], clause.id
        else:
            assert clause.informative_because, clause.id


def test_protocol_text_is_the_protocol_verbatim(shipped_policy):
    """Every statement's text appears, word for word, in the protocol document it cites."""
    original = shipped_policy.directory / "source" / "information-sharing-overview.md"
    plain = " ".join(original.read_text().replace("**", "").replace("- ", " ").split())
    for clause in shipped_policy.clauses:
        if clause.id == "government-guidance":
            continue  # the document's link markup is left out of this one
        assert clause.text in plain, clause.id


def released_texts(changes: str) -> dict[str, set[str]]:
    """Each version CHANGES.md lists, with the sha256 prefixes of the texts it says went out under it."""
    released: dict[str, set[str]] = {}
    for block in re.split(r"(?m)^## ", changes)[1:]:
        version, _, body = block.partition("\n")
        listed = re.search(r"Texts released as [^:]+:([^\n]+(?:\n[^\n]+)*)", body)
        released[version.strip()] = set(re.findall(r"\b[0-9a-f]{12}\b", listed.group(1))) if listed else set()
    return released


def test_the_shipped_version_names_no_text_an_earlier_release_went_out_under(shipped_policy):
    """A store that ran a release refuses other files under its version at start, so an upgrade
    that kept the version string of a changed policy would not start: the shipped version must be
    the newest in CHANGES.md and none that a superseded text went out under."""
    changes = (shipped_policy.directory / "CHANGES.md").read_text()
    released = released_texts(changes)
    assert next(iter(released)) == shipped_policy.version, "CHANGES.md says nothing of the shipped version"
    reused = released[shipped_policy.version] - {shipped_policy.digest[:12]}
    assert not reused, (
        f"version {shipped_policy.version} went out for other text ({', '.join(sorted(reused))}): give these files "
        "a new version in policy.yaml and say in CHANGES.md what it changes for practitioners"
    )
