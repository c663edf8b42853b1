"""`infoshare check` proves the shipped policy complete; planted faults are caught and located."""

from __future__ import annotations

import math
import random
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from infoshare.engine import Engine, load_policy
from infoshare.engine.analysis.commands import check_command
from infoshare.engine.analysis.exhaustive import Partition, check_exhaustively, domain, problems
from infoshare.engine.policy.loader import SHIPPED_POLICY

CONSENT_REFUSED = """  - id: consent-refused
    implements: [consent-general-principle]
    when:
      consent: refused
      consent_exception: no
      welfare_override: no
    then:
      decision: do_not_share
"""


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(SHIPPED_POLICY, folder)
    return folder


def replace(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))


def test_the_shipped_policy_answers_every_combination_exactly_once():
    policy = load_policy(SHIPPED_POLICY)
    space = math.prod(len(domain(f)) for f in policy.case_facts if f.type != "items")
    result = CliRunner().invoke(check_command, [])
    assert result.exit_code == 0, result.output
    assert f"exhaustive: {space:,} combinations of the 10 facts the rules read" in result.output
    assert space == 6_684_672
    decided = re.search(r"decisions: +(.*)", result.output).group(1)
    counts = {d: int(n.replace(",", "")) for d, n in (part.split() for part in decided.split(", "))}
    assert sum(counts.values()) == space and set(counts) == set(policy.outcomes["decision"].precedence)
    for line in (
        "gaps (no rule decides): none",
        "conflicts (same precedence rank): none",
        "shares without consent, exception or duty: none",
        "shares without consent outside every ground's scope: none",
        "confidentiality offered where sharing without consent can follow: none",
        "cases where the engine and the proof disagree: none",
        "every combination yields exactly one decision",
        "shadowed rules (overruled wherever they fire): none",
        "rules that never fire: none",
    ):
        assert line in result.output


def test_a_planted_gap_is_found_with_an_example_that_really_gets_only_the_default(policy_copy):
    rules = policy_copy / "rules" / "3-consent.yaml"
    text = rules.read_text()
    start = text.index(CONSENT_REFUSED)
    end = text.index("  - id:", start + 10)
    rules.write_text(text[:start] + text[end:])
    policy = load_policy(policy_copy)
    report = check_exhaustively(policy)
    gaps = [f for f in report.findings if f.kind == "gap"]
    assert gaps and all(g.example["consent"] == "refused" and g.combinations > 0 for g in gaps)
    gap = gaps[0]
    verdict = Engine(policy).evaluate(gap.example)
    assert not [r for r in verdict.rationale if r["concluded"].get("decision")]
    found = problems(report, policy)
    assert found and all("no rule decides" in p.message and "add a rule that decides them" in p.message for p in found)
    assert all(p.file.startswith("rules/") and p.file.endswith(".yaml") and p.line > 1 for p in found), found
    assert report.decisions["refer"] >= gap.combinations and not report.proven


def test_a_planted_conflict_and_a_share_without_basis_are_found(policy_copy):
    replace(
        policy_copy / "policy.yaml",
        "      - refer                   # a person must decide: the Safeguarding Co-ordinator\n"
        "      - seek_consent            # explain openly and seek consent first\n",
        "      - [refer, seek_consent]\n",
    )
    replace(
        policy_copy / "rules" / "3-consent.yaml",
        CONSENT_REFUSED,
        CONSENT_REFUSED.replace("decision: do_not_share", "decision: share_without_consent"),
    )
    policy = load_policy(policy_copy)
    report = check_exhaustively(policy)
    conflicts = [f for f in report.findings if f.kind == "conflict"]
    assert conflicts and all("seek-consent-first" in f.rules for f in conflicts)
    assert {"recipient-need-unsure"} <= {r for f in conflicts for r in f.rules}
    example = next(f for f in conflicts if "recipient-need-unsure" in f.rules).example
    verdict = Engine(policy).evaluate(example)
    assert verdict.decision == "refer" and "rank the same" in verdict.basis[0]
    messages = [p.message for p in problems(report, policy)]
    assert any("conclude different decisions of the same precedence rank" in m for m in messages)

    [unfounded] = [f for f in report.findings if f.kind == "share-without-consent"]
    assert unfounded.key == ("share_without_consent", ("consent-refused",))
    assert unfounded.example["consent"] == "refused" and unfounded.example["recipient_needs_to_know"] == "yes"
    assert Engine(policy).evaluate(unfounded.example).decision == "share_without_consent"


def test_every_case_fires_the_same_rules_as_the_case_that_represents_it():
    """The reduction's soundness, sampled over the full space: any case and its representative fire
    the same rules (so get the same verdict) in the engine."""
    policy = load_policy(SHIPPED_POLICY)
    engine = Engine(policy)
    part = Partition(policy, engine)
    rng = random.Random(7)
    names = [f.name for f in policy.case_facts if f.type != "items"]
    for _ in range(300):
        case = {n: v for n in names if (v := rng.choice(domain(policy.fact(n)))) is not None}
        representative = part.case(part.representative(part.behaviours_of(part.classes_of(case))))
        fired, stands_for = (engine.evaluate(c) for c in (case, representative))
        assert [r["rule"] for r in fired.rationale] == [r["rule"] for r in stands_for.rationale], case
        assert fired.decision == stands_for.decision


def test_plain_check_finds_the_gaps_a_narrowed_welfare_rule_leaves_and_locates_them_at_the_rules(policy_copy):
    """Narrowing the child's-welfare ground to one purpose, without saying what happens elsewhere, leaves
    cases no rule decides: the plain check fails, naming the rules nearest to deciding them."""
    replace(
        policy_copy / "rules" / "2-welfare.yaml",
        "      harm_concern: yes\n      purpose and recipient: {within: child-welfare}\n",
        "      harm_concern: yes\n      purpose and recipient: {within: child-welfare}\n      purpose: child_protection_enquiry\n",
    )
    result = CliRunner().invoke(check_command, [str(policy_copy)])
    assert result.exit_code == 1, result.output
    assert "tests:      " in result.output
    gaps = [line for line in result.output.splitlines() if ": no rule decides" in line]
    assert gaps and not any(line.startswith("rules/:1") for line in gaps), gaps
    assert all(re.match(r"rules/\d-[a-z-]+\.yaml:\d+: ", line) for line in gaps), gaps
    assert any("`share-without-consent-welfare` (rules/3-consent.yaml:" in line for line in gaps), gaps


def test_a_ground_without_its_scope_is_found_sharing_outside_it(policy_copy):
    """The proof's property: no share-family decision for a purpose and recipient outside the applicable
    grounds' scope (here the child's welfare, made to reach every purpose)."""
    replace(
        policy_copy / "rules" / "2-welfare.yaml",
        "      harm_concern: yes\n      purpose and recipient: {within: child-welfare}\n",
        "      harm_concern: yes\n",
    )
    policy = load_policy(policy_copy)
    report = check_exhaustively(policy)
    outside = [f for f in report.findings if f.kind == "share-outside-scope"]
    assert outside and all("child-significant-harm-overrides" in f.rules for f in outside)
    insurer = {
        "subject": "child",
        "harm_concern": "yes",
        "consent": "refused",
        "seeking_consent_would": [],
        "purpose": "insurance",
        "recipient": "insurer",
        "recipient_needs_to_know": "yes",
    }
    assert Engine(policy).evaluate(insurer).decision == "share_without_consent"
    assert any("no ground in the decision reaches" in p.message for p in problems(report, policy))


def test_confidentiality_offered_where_the_case_can_be_shared_without_consent_is_found(policy_copy):
    """The proof's property: never `can_be_offered` on a case that, with another answer about consent, is
    shared without consent (here the old rule, which read only the harm concern)."""
    replace(
        policy_copy / "rules" / "4-before-sharing.yaml",
        "      consent_exception: no\n      welfare_override: no\n    then:\n      confidentiality: can_be_offered",
        "      harm_concern: no\n    then:\n      confidentiality: can_be_offered",
    )
    replace(
        policy_copy / "rules" / "4-before-sharing.yaml", "consent_exception: may apply", "consent_exception: unsure"
    )
    policy = load_policy(policy_copy)
    report = check_exhaustively(policy)
    offered = [f for f in report.findings if f.kind == "confidentiality"]
    assert offered and offered[0].rules == ("confidentiality-can-be-offered",)
    example = offered[0].example
    assert Engine(policy).evaluate(example).confidentiality == "can_be_offered"
    assert Engine(policy).evaluate({**example, "consent": "refused"}).decision == "share_without_consent"


def test_the_proof_reports_the_rules_that_fire_on_contradictory_cases():
    result = CliRunner().invoke(check_command, [])
    line = next(x for x in result.output.splitlines() if "contradiction serious-crime-but-no-crime" in x)
    assert "exception-serious-crime" in line
