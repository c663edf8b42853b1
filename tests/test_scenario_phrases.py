"""Scenario phrases are the policy's vocabulary data (phrases.yaml beside facts.yaml): a new
phrase or answer needs no Python, and a phrase that is not there is named with the nearest
ones and the line where a new one is declared."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infoshare.engine import PolicyError, load_policy
from infoshare.engine.analysis.phrases import load_phrases
from infoshare.engine.analysis.scenarios import run_scenarios
from infoshare.engine.policy.loader import SHIPPED_FEATURES, SHIPPED_POLICY

SCENARIO = """Feature: Said in new words
  @clause.consent-general-principle
  Scenario: {name}
    Given an adult
    And there is no concern about the safety of the adult
    And the information is needed for a criminal investigation by the Police
    And the person needs to know the information
    And {consent}
    And a crime is suspected
    And the crime is serious
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    When the protocol is applied
    Then the information may be shared without consent
"""


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    policy = Path(shutil.copytree(SHIPPED_POLICY, tmp_path / "policy"))
    features = tmp_path / "features"
    shutil.copytree(SHIPPED_FEATURES / "steps", features / "steps")
    shutil.copy(SHIPPED_FEATURES / "environment.py", features / "environment.py")
    return policy, features


def test_a_new_phrase_needs_only_a_line_in_phrases_yaml(copies):
    policy, features = copies
    (features / "new.feature").write_text(
        SCENARIO.format(name="consent was never asked for", consent="nobody asked for consent")
    )
    before = run_scenarios(features, policy)
    assert not before[0].passed  # not a phrase yet
    phrases = policy / "phrases.yaml"
    text = phrases.read_text()
    phrases.write_text(
        text.replace(
            "    not_sought: [consent has not been sought]",
            "    not_sought: [consent has not been sought, nobody asked for consent]",
        )
    )
    [after] = run_scenarios(features, policy)
    assert after.passed, after.failure
    assert "exception-serious-crime" in after.rules_fired


def test_an_unknown_phrase_names_the_nearest_and_where_to_declare_one(copies):
    policy, features = copies
    (features / "new.feature").write_text(SCENARIO.format(name="a typo", consent="consent was refused"))
    [result] = run_scenarios(features, policy)
    assert not result.passed
    line = next(
        i for i, text in enumerate((policy / "phrases.yaml").read_text().splitlines(), 1) if text == "  consent:"
    )
    assert "“consent was refused” is not a phrase of the vocabulary" in result.failure
    assert "the nearest are: “consent has been refused”" in result.failure
    assert f"phrases.yaml:{line}" in result.failure
    assert (
        result.failure.startswith("And consent was refused:") or "consent was refused" in result.failure.split(":")[0]
    )


def test_a_phrase_for_an_answer_the_fact_does_not_have_is_refused_with_its_line(copies):
    policy, _ = copies
    phrases = policy / "phrases.yaml"
    text = phrases.read_text()
    phrases.write_text(
        text.replace("    refused: [consent has been refused]", "    refusd: [consent has been refused]")
    )
    with pytest.raises(PolicyError) as caught:
        load_phrases(load_policy(policy), policy)
    [problem] = caught.value.problems
    assert problem.line == text.splitlines().index("    refused: [consent has been refused]") + 1
    assert "`refusd` is not an answer of `consent` (did you mean `refused`?)" in problem.message


def test_every_fact_a_case_gives_has_phrases_in_the_shipped_vocabulary():
    policy = load_policy(SHIPPED_POLICY)
    phrases = load_phrases(policy, SHIPPED_POLICY)
    named = set(phrases.whether.values())
    assert {f.name for f in policy.case_facts if f.type != "items"} <= named


def test_a_version_rebuilt_from_its_stored_text_keeps_its_phrases_outside_its_digest(tmp_path: Path):
    """The policy owner's page runs the scenarios of a stored version: its phrases travel with it,
    and a phrase edit changes no decision, so it changes neither the digest nor the version."""
    from infoshare.engine.policy.loader import load_policy_files

    policy = load_policy(SHIPPED_POLICY)
    rebuilt = load_policy_files(policy.files)
    assert "phrases.yaml" in rebuilt.files and rebuilt.digest == policy.digest
    edited = {**policy.files, "phrases.yaml": policy.files["phrases.yaml"] + "\n# a note\n"}
    assert load_policy_files(edited).digest == policy.digest
