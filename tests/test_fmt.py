"""`infoshare fmt`: one canonical layout for rule files, comments kept (as written, where
written); `--check` for CI."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from infoshare.engine import load_policy
from infoshare.engine.analysis.commands import fmt_command
from infoshare.engine.policy.loader import SHIPPED_POLICY

MESSY = """rules:
    # the first rule, written out of order
    -   because: Consent was given, so it may be shared.   # the reason
        then: {decision: share}
        when:
            consent: given      # as the case says
        implements: [consent-general-principle]
        id: messy-rule
"""
TIDY = """rules:
    # the first rule, written out of order
  - id: messy-rule
    implements: [consent-general-principle]
    when:
      consent: given            # as the case says
    then: {decision: share}
    because: Consent was given, so it may be shared.       # the reason
"""


def test_the_shipped_policy_is_in_the_canonical_layout():
    result = CliRunner().invoke(fmt_command, ["--check", "--policy", str(SHIPPED_POLICY)])
    assert result.exit_code == 0, result.output


def test_fmt_check_names_a_messy_file_and_fmt_rewrites_it_keeping_comments(tmp_path: Path):
    folder = Path(shutil.copytree(SHIPPED_POLICY, tmp_path / "policy"))
    messy = folder / "rules" / "9-messy.yaml"
    messy.write_text(MESSY)
    before = {r.id: r.when for r in load_policy(folder).rules}
    checked = CliRunner().invoke(fmt_command, ["--check", "--policy", str(folder)])
    assert checked.exit_code == 1 and "rules/9-messy.yaml: not in the canonical layout" in checked.stderr
    assert messy.read_text() == MESSY  # --check changes nothing
    done = CliRunner().invoke(fmt_command, ["--policy", str(folder)])
    assert done.exit_code == 0 and "9-messy.yaml: reformatted" in done.output
    assert messy.read_text() == TIDY
    assert {r.id: r.when for r in load_policy(folder).rules} == before
    assert CliRunner().invoke(fmt_command, ["--check", "--policy", str(folder)]).exit_code == 0


def test_fmt_on_a_file_it_cannot_read_says_why_in_words_and_changes_nothing(tmp_path: Path):
    folder = Path(shutil.copytree(SHIPPED_POLICY, tmp_path / "policy"))
    broken = folder / "rules" / "9-broken.yaml"
    broken.write_text("rules:\n\t- id: x\n")
    result = CliRunner().invoke(fmt_command, ["--policy", str(folder)])
    assert result.exit_code == 1 and "rules/9-broken.yaml:2: a tab" in result.stderr
    assert broken.read_text() == "rules:\n\t- id: x\n"
