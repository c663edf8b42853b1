"""A broken policy is refused with one line per mistake, naming file and line, and saying what would be right."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from infoshare.engine import PolicyError, load_policy
from infoshare.engine.analysis.commands import check_command
from infoshare.engine.policy.loader import SHIPPED_POLICY


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(SHIPPED_POLICY, target)
    return target


def edit(folder: Path, name: str, old: str, new: str) -> int:
    """Replace the first `old` with `new` in one file; return the line where `new` starts."""
    file = folder / name
    text = file.read_text()
    assert old in text, f"{old!r} not in {name}"
    start = text.index(old)
    file.write_text(text[:start] + new + text[start + len(old) :])
    return text[:start].count("\n") + 1


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy(folder)
    return [str(p) for p in caught.value.problems]


def only_problem(folder: Path) -> str:
    problems = problems_of(folder)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_shipped_policy_loads_with_a_digest():
    policy = load_policy(SHIPPED_POLICY)
    assert policy.id == "information-sharing"
    assert len(policy.digest) == 64
    assert policy.digest == load_policy(SHIPPED_POLICY).digest


def test_yaml_syntax_error_names_file_and_line(policy_copy):
    line = edit(policy_copy, "rules/3-consent.yaml", "      decision: share\n", "      decision: [share\n")
    problem = only_problem(policy_copy)
    assert problem.startswith("rules/3-consent.yaml:")
    assert "list is not closed" in problem and "add `]`" in problem
    assert abs(int(problem.split(":")[1]) - line) <= 2


def test_unknown_fact_suggests_the_known_one(policy_copy):
    line = edit(policy_copy, "rules/4-before-sharing.yaml", "recipient_needs_to_know: no", "recipient_must_know: no")
    assert only_problem(policy_copy).startswith(
        f"rules/4-before-sharing.yaml:{line}: unknown fact `recipient_must_know` (did you mean `recipient_needs_to_know`?)"
    )


def test_value_outside_the_facts_values(policy_copy):
    line = edit(policy_copy, "rules/3-consent.yaml", "consent: given", "consent: givn")
    assert only_problem(policy_copy) == (
        f"rules/3-consent.yaml:{line}: `givn` is not a value of `consent` (did you mean `given`?); "
        "the values are: given, refused, not_sought; its named sets are: not known to be given"
    )


def test_yes_no_for_a_boolean_fact_says_write_true_or_false(policy_copy):
    line = edit(policy_copy, "rules/4-before-sharing.yaml", "secure_channel: false", "secure_channel: no")
    problem = only_problem(policy_copy)
    assert problem.startswith(f"rules/4-before-sharing.yaml:{line}: `no` is not a value of `secure_channel`")
    assert "write true or false" in problem


def test_unknown_clause_id(policy_copy):
    line = edit(
        policy_copy, "rules/3-consent.yaml", "implements: [consent-exceptions]", "implements: [consent-exeptions]"
    )
    assert only_problem(policy_copy) == (
        f"rules/3-consent.yaml:{line}: unknown protocol statement `consent-exeptions` "
        "(did you mean `consent-exceptions`?); cite an id from protocol.yaml"
    )


def test_duplicate_rule_id_names_both_places(policy_copy):
    line = edit(policy_copy, "rules/3-consent.yaml", "- id: consent-refused", "- id: share-with-consent")
    problem = only_problem(policy_copy)
    assert problem.startswith(
        f"rules/3-consent.yaml:{line}: duplicate rule id `share-with-consent` (first used at rules/3-consent.yaml:"
    )


def test_decision_not_in_the_precedence_order(policy_copy):
    line = edit(policy_copy, "rules/3-consent.yaml", "decision: seek_consent", "decision: ask_first")
    problem = only_problem(policy_copy)
    assert problem.startswith(f"rules/3-consent.yaml:{line}: decision `ask_first` is not in the precedence order")
    assert "seek_consent" in problem


def test_rule_on_a_derived_value_no_rule_concludes_can_never_fire(policy_copy):
    edit(
        policy_copy,
        "facts.yaml",
        "values: [yes, unsure, awaits_facts, out_of_scope, no]",
        "values: [yes, unsure, awaits_facts, out_of_scope, no, maybe]",
    )
    line = edit(policy_copy, "rules/3-consent.yaml", "consent_exception: unsure", "consent_exception: maybe")
    problem = only_problem(policy_copy)
    assert problem.startswith(f"rules/3-consent.yaml:{line}: no rule ever concludes `consent_exception: maybe`")
    assert "can never fire" in problem


def test_includes_and_excludes_the_same_value_can_never_fire(policy_copy):
    line = edit(
        policy_copy,
        "rules/1-consent-exceptions.yaml",
        "      seeking_consent_would: {includes: put_adult_at_risk_of_serious_harm}",
        "      seeking_consent_would: {includes: put_adult_at_risk_of_serious_harm, "
        "includes none of: [put_adult_at_risk_of_serious_harm]}",
    )
    assert "can never fire" in only_problem(policy_copy)
    assert only_problem(policy_copy).startswith(f"rules/1-consent-exceptions.yaml:{line}:")


def test_not_given_on_a_required_fact_can_never_fire(policy_copy):
    line = edit(policy_copy, "rules/0-every-case.yaml", "subject: [child, adult]", "subject: the case does not say")
    assert only_problem(policy_copy).startswith(
        f"rules/0-every-case.yaml:{line}: `subject` is required, so every case gives it: "
        "`the case does not say` can never be true"
    )


def test_the_old_word_not_given_still_works_with_a_warning_naming_the_new_word_and_the_line(policy_copy):
    line = edit(policy_copy, "rules/2-welfare.yaml", "harm_concern: the case does not say", "harm_concern: not given")
    policy = load_policy(policy_copy)
    assert [str(w) for w in policy.warnings] == [
        f"rules/2-welfare.yaml:{line}: `not given` is the old word for a fact the case does not give; write "
        "`the case does not say` (`not given` stops working in the next release)"
    ]
    rule = next(r for r in policy.rules if r.id == "child-harm-not-given")
    assert [(c.fact, c.or_not_given, c.values) for c in rule.when if c.fact == "harm_concern"] == [
        ("harm_concern", True, ())
    ]
    result = CliRunner().invoke(check_command, [str(policy_copy)])
    assert result.exit_code == 0, result.output
    assert f"warning: rules/2-welfare.yaml:{line}: `not given` is the old word" in result.output


def test_a_named_value_set_is_defined_once_and_used_by_name(policy_copy):
    edit(
        policy_copy,
        "facts.yaml",
        "      any exception to consent:\n",
        "      any exception to consent:\n        - no_such_harm\n",
    )
    problems = problems_of(policy_copy)
    assert any(
        p.startswith("facts.yaml:")
        and "`no_such_harm` in set `any exception to consent` is not a value of `seeking_consent_would`" in p
        for p in problems
    ), problems
    policy = load_policy(SHIPPED_POLICY)
    [claimed] = [r for r in policy.rules if r.id == "no-exception-claimed"]
    assert claimed.when[0].values == policy.fact("seeking_consent_would").values


def test_an_unknown_ground_in_a_scope_test(policy_copy):
    line = edit(
        policy_copy,
        "rules/2-welfare.yaml",
        "purpose and recipient: {within: child-welfare}",
        "purpose and recipient: {within: child-welfar}",
    )
    assert only_problem(policy_copy).startswith(
        f"rules/2-welfare.yaml:{line}: unknown ground `child-welfar` (did you mean `child-welfare`?)"
    )


def test_a_ground_serving_a_value_outside_the_vocabulary(policy_copy):
    line = edit(
        policy_copy, "grounds.yaml", "recipients: [childrens_social_care]", "recipients: [childrens_socal_care]"
    )
    assert only_problem(policy_copy).startswith(
        f"grounds.yaml:{line}: `childrens_socal_care` is not a value of `recipient` (did you mean `childrens_social_care`?)"
    )


def test_a_contradiction_names_only_facts_of_the_vocabulary(policy_copy):
    line = edit(
        policy_copy,
        "facts.yaml",
        "      serious_crime: yes\n    obligations",
        "      serious_crim: yes\n    obligations",
    )
    assert only_problem(policy_copy).startswith(f"facts.yaml:{line}: unknown fact `serious_crim`")


def test_normative_statement_without_a_rule(policy_copy):
    line = edit(
        policy_copy,
        "protocol.yaml",
        "  - id: detailed-protocol",
        "  - id: brand-new\n    normative: true\n    text: Something new must be done.\n\n  - id: detailed-protocol",
    )
    assert only_problem(policy_copy) == (
        f"protocol.yaml:{line}: normative statement `brand-new` is implemented by no rule; cite it in a rule's "
        "`implements:`, or mark it `normative: false` with `informative_because:`"
    )


def test_misspelt_key_suggests_the_right_one(policy_copy):
    line = edit(
        policy_copy,
        "rules/3-consent.yaml",
        "    because: The subject of the information has consented",
        "    becaus: The subject of the information has consented",
    )
    problems = problems_of(policy_copy)
    assert any(
        p.startswith(f"rules/3-consent.yaml:{line}: unknown key `becaus` (did you mean `because`?)") for p in problems
    ), problems
    assert any("`because` is missing" in p for p in problems)


def test_a_list_where_one_value_was_written(policy_copy):
    line = edit(
        policy_copy, "rules/0-every-case.yaml", "implements: [record-decisions]", "implements: record-decisions"
    )
    assert only_problem(policy_copy) == (
        f"rules/0-every-case.yaml:{line}: `implements` must be a list, for example [a, b]"
    )


def test_a_rule_cannot_set_a_fact_the_case_gives(policy_copy):
    line = edit(policy_copy, "rules/3-consent.yaml", "      decision: share\n", "      consent: refused\n")
    assert only_problem(policy_copy).startswith(f"rules/3-consent.yaml:{line}: `consent` is a fact the case gives")


def test_citing_an_informative_statement(policy_copy):
    line = edit(
        policy_copy,
        "rules/0-every-case.yaml",
        "implements: [record-decisions]",
        "implements: [record-decisions, data-protection-law]",
    )
    assert only_problem(policy_copy).startswith(
        f"rules/0-every-case.yaml:{line}: `data-protection-law` is marked informative"
    )


def test_decisions_are_the_contracts(policy_copy):
    edit(policy_copy, "policy.yaml", "      - share                   #", "      - share_partly            #")
    text = (policy_copy / "policy.yaml").read_text()
    precedence_line = text[: text.index("    precedence:")].count("\n") + 1
    assert (
        f"policy.yaml:{precedence_line}: the decision precedence must list exactly the decisions case systems "
        "know: share, share_without_consent, seek_consent, do_not_share, refer, undetermined (in the order you "
        "choose)" in problems_of(policy_copy)
    )


def test_a_value_must_be_a_plain_word(policy_copy):
    line = edit(policy_copy, "facts.yaml", "values: [child, adult]", "values: [child, adult, not given]")
    assert only_problem(policy_copy).startswith(f"facts.yaml:{line}: `values`: use lower-case letters")


def test_default_decision_must_not_share(policy_copy):
    line = edit(policy_copy, "policy.yaml", "    otherwise: refer", "    otherwise: share")
    assert only_problem(policy_copy) == (
        f"policy.yaml:{line}: the decision when no rule decides must not share; use `refer` or `undetermined`"
    )


def test_every_mistake_is_listed_at_once(policy_copy):
    edit(policy_copy, "rules/3-consent.yaml", "consent: given", "consent: givn")
    edit(policy_copy, "rules/3-consent.yaml", "decision: seek_consent", "decision: ask_first")
    edit(policy_copy, "rules/4-before-sharing.yaml", "recipient_needs_to_know: no", "recipient_must_know: no")
    edit(policy_copy, "rules/3-consent.yaml", "- id: consent-refused", "- id: share-with-consent")
    edit(policy_copy, "rules/3-consent.yaml", "implements: [consent-exceptions]", "implements: [consent-exeptions]")
    edit(policy_copy, "rules/4-before-sharing.yaml", "secure_channel: false", "secure_channel: no")
    problems = problems_of(policy_copy)
    assert len(problems) == 6, problems
    assert all(p.startswith("rules/") and p.split(":")[1].isdigit() for p in problems)


def test_missing_file_is_named(policy_copy):
    (policy_copy / "facts.yaml").unlink()
    assert any(p.startswith("facts.yaml:1: the policy needs facts.yaml") for p in problems_of(policy_copy))


def test_check_command_exits_non_zero_with_the_problems(policy_copy):
    line = edit(policy_copy, "rules/3-consent.yaml", "consent: given", "consent: givn")
    result = CliRunner().invoke(check_command, [str(policy_copy)])
    assert result.exit_code == 1
    assert f"rules/3-consent.yaml:{line}: `givn` is not a value of `consent`" in result.output
    assert "1 problem; the policy was not loaded." in result.output


def test_check_command_summarises_a_good_policy():
    result = CliRunner().invoke(check_command, ["--coverage"])
    assert result.exit_code == 0, result.output
    assert "policy information-sharing" in result.output
    assert "17 normative, 17 of them implemented by rules" in result.output
    assert "digest:     sha256:" in result.output
    assert "data-protection-law: informative" in result.output


def test_a_failing_policy_test_fails_the_check(policy_copy):
    edit(policy_copy, "tests/cases.yaml", "      decision: seek_consent\n", "      decision: share\n")
    result = CliRunner().invoke(check_command, [str(policy_copy)])
    assert result.exit_code == 1
    assert (
        "test `consent not yet sought with no exception means explain openly and seek consent`: "
        "expected decision share, got seek_consent" in result.output
    )


def test_a_policy_rebuilt_from_its_files_text_is_the_same_policy(policy_copy):
    from infoshare.engine.policy.loader import load_policy_files

    folder = load_policy(policy_copy)
    rebuilt = load_policy_files(dict(folder.files))
    assert rebuilt.digest == folder.digest and rebuilt.directory is None
    assert rebuilt.rules == folder.rules and rebuilt.outcomes == folder.outcomes
    assert list(folder.files)[:3] == ["policy.yaml", "protocol.yaml", "facts.yaml"]
    broken = {
        **folder.files,
        "rules/3-consent.yaml": folder.files["rules/3-consent.yaml"].replace("consent: given\n", "consent: givn\n"),
    }
    with pytest.raises(PolicyError) as caught:
        load_policy_files(broken)
    assert [str(p).split(": ", 1)[1][:30] for p in caught.value.problems] == ["`givn` is not a value of `cons"]


def test_values_ranked_the_same_are_a_list_of_plain_values(policy_copy):
    edit(policy_copy, "policy.yaml", "      - share                   #", "      - [share, {a: b}]         #")
    text = (policy_copy / "policy.yaml").read_text()
    precedence_line = text[: text.index("    precedence:")].count("\n") + 1
    assert (
        f"policy.yaml:{precedence_line}: each entry of `decision` precedence is a value, or a list of values "
        "that rank the same" in problems_of(policy_copy)
    )


def test_a_label_for_a_value_the_fact_does_not_have_is_a_problem_with_its_line(tmp_path):
    import shutil

    from infoshare.engine import PolicyError, load_policy
    from infoshare.engine.policy.loader import SHIPPED_POLICY

    folder = tmp_path / "policy"
    shutil.copytree(SHIPPED_POLICY, folder)
    facts = folder / "facts.yaml"
    text = facts.read_text()
    facts.write_text(text.replace("      unsure: I am not sure\n", "      unsur: I am not sure\n", 1))
    try:
        load_policy(folder)
    except PolicyError as exc:
        messages = [str(p) for p in exc.problems]
    else:
        raise AssertionError("a label for an unknown value was accepted")
    lines = text.splitlines()
    labels_line = lines.index("    labels:", lines.index("  - name: harm_concern")) + 1
    assert any(
        m.startswith(f"facts.yaml:{labels_line}:") and "`unsur` under `labels:` is not a value" in m for m in messages
    ), messages
