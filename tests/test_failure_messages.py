"""A failing example or scenario names the rules that produced the answer (file:line) and the
rule that would have given the expected one; nothing meant for a policy owner shows Python."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from infoshare.engine import Engine, load_policy
from infoshare.engine.analysis.coverage import coverage_of
from infoshare.engine.analysis.coverage_html import render_html
from infoshare.engine.analysis.policytests import run_tests
from infoshare.engine.analysis.scenarios import run_scenarios
from infoshare.engine.policy.factschema import FactsInvalid
from infoshare.engine.policy.loader import SHIPPED_FEATURES, SHIPPED_POLICY

PYTHON = re.compile(r"\['|\{'|FactsInvalid|Error:|Traceback|infoshare\.engine")


def line_of(policy, rule_id: str) -> str:
    rule = next(r for r in policy.rules if r.id == rule_id)
    return f"`{rule.id}` ({rule.file}:{rule.line})"


def test_a_failing_example_names_the_rule_that_decided_and_the_one_that_would_have(tmp_path: Path):
    folder = Path(shutil.copytree(SHIPPED_POLICY, tmp_path / "policy"))
    cases = folder / "tests" / "cases.yaml"
    text = cases.read_text()
    marker = "    expect:\n      decision: do_not_share\n      conditions: []\n      shared_items: []\n      rules_fired: [consent-refused,"
    assert marker in text
    cases.write_text(text.replace(marker, marker.replace("decision: do_not_share", "decision: share"), 1))
    policy = load_policy(folder)
    _, problems = run_tests(Engine(policy), folder)
    [problem] = [p for p in problems if "expected decision" in p.message]
    assert "expected decision share, got do_not_share: it came from" in problem.message
    assert line_of(policy, "consent-refused") in problem.message
    assert f"would come from {line_of(policy, 'share-with-consent')}" in problem.message
    assert "consent is `refused`, it needs `given`" in problem.message
    assert not PYTHON.search(problem.message)


def test_a_failing_scenario_names_the_rules_and_the_page_shows_no_python(tmp_path: Path):
    policy = load_policy(SHIPPED_POLICY)
    results = run_scenarios(SHIPPED_FEATURES, SHIPPED_POLICY, without_rule="crime-not-serious")
    failed = [r for r in results if not r.passed]
    assert failed
    for result in failed:
        assert not PYTHON.search(result.failure), result.failure
    assert any(
        re.search(r"it came from `[a-z-]+` \(rules/[\w.-]+\.yaml:\d+\)|no rule concluded it", r.failure)
        and "would come from" in r.failure
        for r in failed
    ), [r.failure for r in failed]
    page = render_html(coverage_of(policy.without_rule("crime-not-serious"), SHIPPED_FEATURES))
    assert not PYTHON.search(page)


def test_invalid_facts_are_told_field_by_field_without_python_syntax():
    with pytest.raises(FactsInvalid) as caught:
        Engine(load_policy(SHIPPED_POLICY)).evaluate({"subject": "cat", "information": [{"item": 3}]})
    text = str(caught.value)
    assert text.startswith("the facts are not valid: ") and "subject: Must be one of: child, adult." in text
    assert "information.0.item:" in text and not PYTHON.search(text)
