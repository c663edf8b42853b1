"""Every normative protocol statement is exercised by a Gherkin scenario, and every scenario tag is a real statement."""
from __future__ import annotations

from pathlib import Path

from engine.coverage import scenarios_by_clause

FEATURES = Path(__file__).resolve().parent.parent / "features"


def test_every_normative_statement_has_a_scenario(shipped_policy):
    scenarios = scenarios_by_clause(FEATURES)
    untested = [c.id for c in shipped_policy.clauses if c.normative and not scenarios.get(c.id)]
    assert untested == []


def test_every_scenario_tag_names_a_statement_of_the_protocol(shipped_policy):
    known = {c.id for c in shipped_policy.clauses}
    assert set(scenarios_by_clause(FEATURES)) <= known


def test_feature_tags_apply_to_every_scenario(tmp_path):
    (tmp_path / "a.feature").write_text(
        "@clause.x\nFeature: F\n  @clause.y\n  Scenario: one\n    Given z\n  Scenario: two\n    Given z\n")
    assert scenarios_by_clause(tmp_path) == {"x": ["a.feature: one", "a.feature: two"], "y": ["a.feature: one"]}
