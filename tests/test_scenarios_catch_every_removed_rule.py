"""Removing any one rule of the shipped policy makes at least one scenario fail.

For each rule the whole of features/ runs in-process, engine and HTTP
scenarios alike, against the shipped policy minus that rule
(`Policy.without_rule`). The smaller policy is deliberately not re-checked:
the checker refuses some such edits on its own (a statement left with no
rule, a derived value no rule concludes), and that must not stand in for a
scenario noticing. About half a second a rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infoshare.engine.analysis.scenarios import run_scenarios
from infoshare.engine.policy.loader import SHIPPED_POLICY, load_policy

FEATURES = Path(__file__).resolve().parent.parent / "features"
RULES = [rule.id for rule in load_policy(SHIPPED_POLICY).rules]


def test_every_scenario_passes_with_every_rule():
    results = run_scenarios(FEATURES, SHIPPED_POLICY)
    assert results and [s.location for s in results if not s.passed] == []


@pytest.mark.parametrize("rule_id", RULES)
def test_without_the_rule_a_scenario_fails(rule_id):
    failing = [s for s in run_scenarios(FEATURES, SHIPPED_POLICY, without_rule=rule_id) if not s.passed]
    assert failing, f"no scenario notices that rule `{rule_id}` is gone"
