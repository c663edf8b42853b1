"""Properties that must hold for every case, whatever the facts: the protocol's safety net.

Hypothesis explores the whole vocabulary (items included); a second test
walks every combination of the facts a decision turns on.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infoshare.engine import Engine
from infoshare.engine.analysis.exhaustive import combinations
from infoshare.engine.policy.loader import SHIPPED_POLICY, load_policy

POLICY = load_policy(SHIPPED_POLICY)
ENGINE = Engine(POLICY)
SHARES = set(POLICY.outcomes["decision"].shares)
DECISIONS = set(POLICY.outcomes["decision"].precedence)
EXCEPTIONS = {"increase_risk_to_child_or_others", "put_adult_at_risk_of_serious_harm", "undermine_legal_proceedings"}


def exception_holds(facts: dict[str, Any]) -> bool:
    """The protocol's exceptions, read straight from its text, independently of the rule files."""
    would = set(facts.get("seeking_consent_would") or ())
    return bool(would & EXCEPTIONS) or (
        "undermine_crime_investigation" in would and facts.get("serious_crime") == "yes"
    )


def overriding_duty(facts: dict[str, Any]) -> bool:
    if facts.get("harm_concern") != "yes":
        return False
    return facts["subject"] == "child" or facts.get("crime_suspected") == "yes"


def absent_or(values: list[Any]) -> st.SearchStrategy:
    return st.one_of(st.just(None), st.sampled_from(values))


ITEM = st.fixed_dictionaries(
    {"item": st.text(min_size=1, max_size=20)},
    optional={"needed_for_purpose": st.booleans(), "accurate_and_up_to_date": st.booleans()},
)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for fact in POLICY.case_facts:
        if fact.type == "choice":
            value = st.sampled_from(fact.values) if fact.required else absent_or(list(fact.values))
        elif fact.type == "choices":
            value = st.one_of(st.just(None), st.lists(st.sampled_from(fact.values), unique=True))
        elif fact.type == "boolean":
            value = absent_or([True, False])
        else:
            value = st.one_of(st.just(None), st.lists(ITEM, max_size=4))
        drawn = draw(value)
        if drawn is not None:
            facts[fact.name] = drawn
    return facts


def check_safety(facts: dict[str, Any]) -> None:
    verdict = ENGINE.evaluate(facts)
    assert verdict.decision in DECISIONS
    shares = verdict.decision in SHARES
    if facts.get("consent") == "refused" and not exception_holds(facts) and not overriding_duty(facts):
        assert not shares, (facts, verdict.decision)
    if shares:
        assert facts.get("recipient_needs_to_know") == "yes"
        assert "purpose" in facts and "recipient" in facts
        assert verdict.conditions, "sharing always carries its conditions"
    if facts.get("harm_concern") == "yes":
        assert verdict.confidentiality == "cannot_be_promised"
    if verdict.decision == "undetermined":
        assert verdict.missing_facts and not set(verdict.missing_facts) & set(facts)
    else:
        assert verdict.missing_facts == []
    for piece, given_piece in zip(verdict.information, facts.get("information", [])):
        if piece["share"]:
            assert shares and given_piece.get("needed_for_purpose") is True
            assert given_piece.get("accurate_and_up_to_date") is True
    if facts.get("secure_channel") is False and shares:
        assert "channel_not_secure" in {c["id"] for c in verdict.conditions}


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_no_case_errs_or_shares_without_a_basis(facts):
    check_safety(facts)


def test_every_combination_of_the_deciding_facts():
    """The full product, not the reduced one `check --exhaustive` uses: the oracle above reads the
    facts independently of the rules, so no value may be folded into another here."""
    deciding = [
        "subject",
        "harm_concern",
        "crime_suspected",
        "serious_crime",
        "consent",
        "seeking_consent_would",
        "recipient_needs_to_know",
    ]
    count = 0
    for facts in combinations(POLICY, deciding, fixed={"purpose": "referral", "recipient": "other"}):
        check_safety(facts)
        count += 1
    assert count == 2 * 4 * 4 * 4 * 4 * 17 * 4
