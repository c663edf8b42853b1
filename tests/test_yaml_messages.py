"""YAML mistakes in a policy owner's words: the line, the line as written with a caret under
the column, and what to type instead; never the parser's own vocabulary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infoshare.engine import PolicyError, load_policy
from infoshare.engine.policy.loader import SHIPPED_POLICY

PARSER_WORDS = ("<block", "token", "Field may not be null", "scanning", "node content", "stream end")


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(SHIPPED_POLICY, target)
    return target


def problem_after(folder: Path, old: str, new: str, name: str = "rules/3-consent.yaml"):
    file = folder / name
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))
    with pytest.raises(PolicyError) as caught:
        load_policy(folder)
    [problem] = caught.value.problems
    assert not any(word in str(problem) for word in PARSER_WORDS), str(problem)
    return problem, text[: text.index(old)].count("\n") + 1


def caret_column(problem) -> int:
    source, caret = problem.excerpt.splitlines()
    return caret.index("^") - 4


def test_a_tab_says_to_use_spaces_with_a_caret_under_it(policy_copy):
    problem, line = problem_after(policy_copy, "    when:\n", "\twhen:\n")
    assert problem.line == line and "tab" in problem.message and "spaces" in problem.message
    assert caret_column(problem) == 0 and "→when:" in problem.excerpt


def test_a_line_indented_wrongly_says_how_far_to_indent(policy_copy):
    problem, line = problem_after(policy_copy, "    then:\n", "     then:\n")
    assert problem.line == line
    assert "indented by 5 spaces" in problem.message and "indent it exactly as far as" in problem.message
    assert caret_column(problem) == 5


def test_a_key_with_nothing_after_it_says_what_to_write(policy_copy):
    problem, line = problem_after(
        policy_copy, "    then:\n      decision: share\n      obligations: [explain_openly]\n", "    then:\n"
    )
    assert "`then` has nothing after it" in problem.message and "indented two spaces more" in problem.message


def test_a_second_colon_says_to_quote_the_text(policy_copy):
    problem, line = problem_after(
        policy_copy,
        "because: The subject of the information has consented to this sharing.",
        "because: The subject said: yes",
    )
    assert problem.line == line and "must be in quotes" in problem.message
    assert problem.excerpt.splitlines()[0].strip().startswith("because: The subject said: yes")
    assert problem.excerpt.splitlines()[0][4 + caret_column(problem)] == ":"  # under the second colon


def test_the_caret_shows_in_what_check_prints(policy_copy):
    problem, _ = problem_after(policy_copy, "    when:\n", "\twhen:\n")
    printed = str(problem)
    assert printed.startswith(f"rules/3-consent.yaml:{problem.line}: a tab") and printed.endswith("^")
