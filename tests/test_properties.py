"""Properties that must hold for every case, whatever the facts: the protocol's safety net.

Hypothesis explores the whole vocabulary (items included); a second test
walks every combination of the facts a decision turns on.
"""

from __future__ import annotations

from typing import Any

from fact_strategies import case_facts
from hypothesis import HealthCheck, given, settings

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
    """The welfare duties that override a refusal, read from the facts: a child at risk of
    Significant Harm, or an adult at risk where a crime is suspected."""
    if facts.get("harm_concern") != "yes":
        return False
    return facts["subject"] == "child" or facts.get("crime_suspected") == "yes"


def check_safety(facts: dict[str, Any]) -> None:
    """What every verdict must satisfy. Sharing without consent (refused, not sought, or not given)
    needs a basis the facts themselves show, read by `exception_holds` and `overriding_duty` from
    the protocol's text rather than from the rules' derived facts."""
    verdict = ENGINE.evaluate(facts)
    assert verdict.decision in DECISIONS
    shares = verdict.decision in SHARES
    if shares and facts.get("consent") != "given":  # refused, not sought, or not given at all
        assert exception_holds(facts) or overriding_duty(facts), ("shared without consent or a basis", facts)
        assert verdict.decision != "share", ("`share` is sharing with consent", facts)
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
@given(case_facts(POLICY))
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
