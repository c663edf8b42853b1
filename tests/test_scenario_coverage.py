"""`infoshare coverage`: every statement traced to its rules and its scenarios, run for real."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from infoshare.engine import Engine
from infoshare.engine.analysis.commands import coverage_command
from infoshare.engine.analysis.coverage import coverage_of, trace
from infoshare.engine.analysis.scenarios import ScenarioResult
from infoshare.engine.policy.loader import SHIPPED_POLICY

FEATURES = Path(__file__).resolve().parent.parent / "features"


@pytest.fixture(scope="module")
def shipped_report():
    from infoshare.engine import load_policy

    return coverage_of(load_policy(SHIPPED_POLICY), FEATURES)


def scenario(
    name: str = "a scenario",
    clauses: tuple[str, ...] = (),
    passed: bool = True,
    fired: frozenset[str] = frozenset(),
    line: int = 3,
) -> ScenarioResult:
    return ScenarioResult(
        "features/x.feature", line, name, clauses, passed, "" if passed else "Then it fails: no", fired
    )


def test_the_shipped_policy_and_scenarios_are_fully_traced(shipped_report, shipped_policy):
    assert shipped_report.problems == ()
    assert all(s.passed for s in shipped_report.scenarios)
    assert shipped_report.never_fired == ()
    for entry in shipped_report.clauses:
        if entry.clause.normative:
            assert entry.rules and entry.scenarios, entry.clause.id
    fired = {rule for s in shipped_report.scenarios for rule in s.rules_fired}
    assert fired == {r.id for r in shipped_policy.rules}


ADULT_THEN_CHILD = """Feature: Adults, then a child, in one file
  Scenario: An adult at risk where a crime is suspected
    Given an adult
    And there are concerns about the safety of the adult
    And a crime is suspected
    And consent has been refused
    And the information is needed for a criminal investigation by the Police
    When the protocol is applied

  Scenario: A child, after the adult
    Given a child
    And there is no concern of Significant Harm
    When the protocol is applied
"""
ADULT = {
    "subject": "adult",
    "harm_concern": "yes",
    "crime_suspected": "yes",
    "consent": "refused",
    "purpose": "criminal_investigation",
    "recipient": "police",
}
CHILD = {"subject": "child", "harm_concern": "no"}


def test_a_rule_counts_as_fired_only_from_the_verdicts_of_its_scenarios(shipped_report, shipped_policy, tmp_path):
    """Each scenario is credited with exactly the rules in its own verdicts' rationales: the child
    after the adult (in the same file, named for adults) is not credited with the adult's rules."""
    features = tmp_path / "features"
    shutil.copytree(FEATURES / "steps", features / "steps")
    shutil.copy(FEATURES / "environment.py", features)
    (features / "adults_and_a_child.feature").write_text(ADULT_THEN_CHILD)
    adult, child = coverage_of(shipped_policy, features).scenarios
    engine = Engine(shipped_policy)
    assert adult.passed and child.passed, (adult.failure, child.failure)
    assert adult.rules_fired == {e["rule"] for e in engine.evaluate(ADULT).to_dict()["rationale"]}
    assert child.rules_fired == {e["rule"] for e in engine.evaluate(CHILD).to_dict()["rationale"]}
    assert "adult-safety-crime-must-share" in adult.rules_fired - child.rules_fired
    recorded = [s for s in shipped_report.scenarios if "recording_decisions" in s.file]
    assert recorded and all("record-every-decision" in s.rules_fired for s in recorded)


def test_every_gap_is_a_problem_with_its_file_and_line(shipped_policy):
    rule = shipped_policy.rules[0]
    scenarios = (
        scenario(
            "fires all but one",
            ("record-decisions", "no-such-statement"),
            fired=frozenset(r.id for r in shipped_policy.rules[1:]),
        ),
        scenario("breaks", passed=False, line=9),
    )
    report = trace(shipped_policy, FEATURES, scenarios)
    messages = [str(p) for p in report.problems]
    assert (
        f"{rule.file}:{rule.line}: rule `{rule.id}` is fired by no scenario (no scenario's verdict cites it); "
        "add a scenario whose case meets its `when:` and checks what it concludes, or remove the rule" in messages
    )
    assert any(
        m.startswith("protocol.yaml:")
        and "normative statement `consent-general-principle` is exercised by "
        "no scenario; tag a scenario that checks it with @clause.consent-general-principle"
        in m
        for m in messages
    )
    assert not any("`record-decisions` is exercised by no scenario" in m for m in messages)
    assert (
        "features/x.feature:3: @clause.no-such-statement names no statement of the protocol; "
        "use an id from protocol.yaml" in messages
    )
    assert "features/x.feature:9: scenario fails: breaks: Then it fails: no" in messages
    assert not any("informative" in m or "data-protection-law" in m for m in messages)


def test_a_normative_statement_without_a_rule_is_a_problem(shipped_policy):
    """The checker refuses such a policy on loading; the report says so too for one built otherwise."""
    bare = dataclasses.replace(
        shipped_policy, rules=tuple(r for r in shipped_policy.rules if "question-purpose" not in r.implements)
    )
    report = trace(bare, FEATURES, (scenario(clauses=("question-purpose",)),))
    assert any("normative statement `question-purpose` is implemented by no rule" in str(p) for p in report.problems)


def test_the_command_passes_on_the_shipped_policy_and_marks_informative_statements(shipped_policy):
    result = CliRunner().invoke(coverage_command, ["--features", str(FEATURES)])
    assert result.exit_code == 0, result.output
    assert "data-protection-law: informative: It names the law" in result.output
    count = len(shipped_policy.rules)
    assert f"rules:      {count} of {count} fired by a scenario" in result.output
    assert "features/recording_decisions.feature:" in result.output


@pytest.fixture
def copy_of(tmp_path: Path):
    """`copy_of(folder)`: a copy of the folder, to edit."""
    return lambda folder: Path(shutil.copytree(folder, tmp_path / folder.name))


def test_a_rule_no_scenario_fires_fails_the_command(copy_of, shipped_policy):
    policy_copy = copy_of(SHIPPED_POLICY)
    (policy_copy / "rules" / "9-extra.yaml").write_text(
        "rules:\n"
        "  - id: insurer-in-court\n"
        "    implements: [sharing-conditions]\n"
        "    when: {purpose: insurance, recipient: court}\n"
        "    then: {conditions: [shared_securely]}\n"
        "    because: An insurer's case in court.\n"
    )
    result = CliRunner().invoke(coverage_command, ["--features", str(FEATURES), "--policy", str(policy_copy)])
    assert result.exit_code == 1
    assert "rules/9-extra.yaml:2: rule `insurer-in-court` is fired by no scenario" in result.output
    count = len(shipped_policy.rules)
    assert f"rules:      {count} of {count + 1} fired by a scenario" in result.output


def test_a_statement_no_scenario_exercises_fails_the_command(copy_of):
    features = copy_of(FEATURES)
    for feature in features.glob("*.feature"):
        feature.write_text(feature.read_text().replace("@clause.question-purpose", ""))
    result = CliRunner().invoke(coverage_command, ["--features", str(features), "-q"])
    assert result.exit_code == 1
    assert "normative statement `question-purpose` is exercised by no scenario" in result.output
    assert "1 problem" in result.output


def test_a_rule_whose_scenarios_are_gone_fails_the_command(copy_of):
    features = copy_of(FEATURES)
    (features / "how_information_is_shared.feature").unlink()
    result = CliRunner().invoke(coverage_command, ["--features", str(features), "-q"])
    assert result.exit_code == 1
    assert "rule `channel-not-secure` is fired by no scenario" in result.output


def test_a_failing_scenario_fails_the_command(copy_of):
    features = copy_of(FEATURES)
    feature = features / "openness_and_consent.feature"
    feature.write_text(
        feature.read_text().replace(
            "Then explain openly and seek consent first\n    And the subject is told openly",
            "Then the information may be shared\n    And the subject is told openly",
        )
    )
    result = CliRunner().invoke(coverage_command, ["--features", str(features), "--quiet"])
    assert result.exit_code == 1
    assert (
        "scenario fails: Before consent is sought, the family is told openly what would be shared and why: "
        "Then the information may be shared: decision seek_consent" in result.output
    )


def test_the_html_page_sets_each_statement_beside_its_rules_and_scenarios(tmp_path, shipped_policy):
    page = tmp_path / "coverage.html"
    result = CliRunner().invoke(coverage_command, ["--features", str(FEATURES), "--html", str(page)])
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "http" not in html and "<link" not in html  # nothing fetched from elsewhere
    assert html.count('<div class="row"') == len(shipped_policy.clauses)
    assert "Children&#x27;s Social Care Services" in html  # the protocol's apostrophes, escaped
    assert "rules/3-consent.yaml" in html and "features/recording_decisions.feature:" in html


def test_the_html_page_escapes_what_it_shows(shipped_policy):
    from infoshare.engine.analysis.coverage_html import render_html

    report = trace(shipped_policy, FEATURES, (scenario('<img src=x onerror="alert(1)">', ("record-decisions",)),))
    html = render_html(report)
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_scenarios_that_cannot_run_fail_the_command(copy_of):
    features = copy_of(FEATURES)
    with open(features / "environment.py", "a") as environment:
        environment.write("\n\ndef before_all(context):\n    raise RuntimeError('the set-up is broken')\n")
    result = CliRunner().invoke(coverage_command, ["--features", str(features), "-q"])
    assert result.exit_code == 1
    assert f"{features}:1: the scenarios could not run: a hook in {features}/environment.py failed" in result.output
    assert "coverage: 1 problem" in result.output
