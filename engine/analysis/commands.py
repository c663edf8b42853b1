"""The policy owner's commands: `infoshare check`, `coverage`, `fmt` and `evaluate`.

Plain click commands, so the service's CLI group can include them without
the engine knowing about the service.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import click

from infoshare.engine.analysis.coverage import coverage_of, show_coverage
from infoshare.engine.analysis.coverage_html import render_html
from infoshare.engine.analysis.exhaustive import Report as ExhaustiveReport
from infoshare.engine.analysis.exhaustive import check_exhaustively
from infoshare.engine.analysis.exhaustive import problems as exhaustive_problems
from infoshare.engine.analysis.policytests import run_tests
from infoshare.engine.evaluator import Engine, EvaluationError
from infoshare.engine.explain import render_verdict
from infoshare.engine.policy.factschema import FactsInvalid
from infoshare.engine.policy.layout import LayoutChangesMeaning, formatted
from infoshare.engine.policy.loader import RULES_DIR, SHIPPED_FEATURES, SHIPPED_POLICY, load_policy
from infoshare.engine.policy.model import Policy
from infoshare.engine.policy.problems import PolicyError
from infoshare.engine.policy.yamlsource import YamlSyntaxError

POLICY_CHECKS = "infoshare.policy_checks"
policy_dir = click.Path(exists=False, file_okay=False, path_type=Path)
features_dir = click.Path(file_okay=False, path_type=Path)

# Every command takes the policy folder as `--policy DIR`; the service's CLI sets the default
# from its working folder (click's default_map), so each command here names the shipped one.
policy_option = click.option(
    "--policy",
    "-p",
    "directory",
    type=policy_dir,
    default=SHIPPED_POLICY,
    show_default="the working folder's policy",
    help="The policy folder (the one holding policy.yaml).",
)
features_option = click.option(
    "--features",
    type=features_dir,
    default=SHIPPED_FEATURES,
    show_default="the working folder's scenarios",
    help="Folder of Gherkin scenarios.",
)
# `check DIR` and `impact DIR`, as they were first written, still work: the same as --policy DIR.
policy_argument = click.argument("positional", metavar="[DIR]", type=policy_dir, required=False)


def load_or_exit(directory: Path) -> Policy:
    try:
        return load_policy(directory)
    except PolicyError as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        count = len(err.problems)
        click.echo(f"{directory}: {count} problem{'s' if count != 1 else ''}; the policy was not loaded.", err=True)
        sys.exit(1)


@click.command("check")
@policy_argument
@policy_option
@click.option("--coverage", is_flag=True, help="Also run the scenarios and report as `infoshare coverage` does.")
@features_option
@click.option(
    "--exhaustive",
    is_flag=True,
    hidden=True,
    help="Kept for scripts written before the proof ran on every check; it changes nothing.",
)
@click.pass_context
def check_command(
    ctx: click.Context, positional: Path | None, directory: Path, coverage: bool, features: Path, exhaustive: bool
) -> None:
    """Check the policy (DIR or --policy; default: the working folder's), run its tests, and prove that
    every combination of facts gets exactly one decision, on a ground that reaches it.

    A program that includes this command may add checks of its own as
    ``ctx.meta["infoshare.policy_checks"]``: callables from the policy to Problems
    (the service checks the version against its store's).
    """
    directory = positional or directory
    policy = load_or_exit(directory)
    for warning in policy.warnings:
        click.echo(f"warning: {warning}", err=True)
    engine = Engine(policy)
    count, problems = run_tests(engine, directory)
    for extra in ctx.meta.get(POLICY_CHECKS, ()):
        problems = problems + list(extra(policy))
    report = check_exhaustively(policy, engine)
    problems = problems + exhaustive_problems(report, policy)
    for problem in problems:
        click.echo(str(problem), err=True)
    if count == 0 and problems:
        sys.exit(1)
    failed = len({(p.file, p.line) for p in problems if p.message.startswith("test `")})

    implemented = policy.implemented_by()
    normative = [c for c in policy.clauses if c.normative]
    per_item = sum(r.is_item_rule for r in policy.rules)
    click.echo(f"policy {policy.id} {policy.version}: {policy.title}")
    click.echo(f"  rules:      {len(policy.rules)} ({per_item} on each piece of information)")
    click.echo(f"  facts:      {len(policy.case_facts)} asked, {len(policy.derived_facts)} derived")
    click.echo(
        f"  protocol:   {len(policy.clauses)} statements; {len(normative)} normative, "
        f"{sum(bool(implemented[c.id]) for c in normative)} of them implemented by rules; "
        f"{len(policy.clauses) - len(normative)} informative"
    )
    click.echo(f"  tests:      {count - failed} of {count} passed")
    click.echo(f"  digest:     sha256:{policy.digest}")
    _print_exhaustive(report)
    if coverage:
        failed += show_coverage(coverage_of(policy, features))
    if problems or failed:
        sys.exit(1)


@click.command("coverage")
@features_option
@policy_option
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as a web page to this file.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the totals and the problems.")
def coverage_command(features: Path, directory: Path, html_file: Path | None, quiet: bool) -> None:
    """Each protocol statement with the rules that implement it and the scenarios that exercise it.

    Runs the scenarios against the policy; a rule counts as fired when it is in
    the rationale of a verdict a scenario produced. Exits 1 when a normative
    statement has no rule or no scenario, a rule is fired by no scenario, or a
    scenario fails.
    """
    report = coverage_of(load_or_exit(directory), features)
    failed = show_coverage(report, quiet)
    if html_file:
        write_page(html_file, render_html(report))
        click.echo(f"report written to {html_file}")
    sys.exit(1 if failed else 0)


def write_page(file: Path, html: str) -> None:
    """Write a report page, making its folder first (`--html build/coverage.html` on a fresh clone)."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(html, encoding="utf-8")
    except OSError as err:
        raise click.ClickException(f"cannot write {file}: {err.strerror}") from None


def _print_exhaustive(report: ExhaustiveReport) -> None:
    click.echo(
        f"exhaustive: {report.combinations:,} combinations of the {len(report.facts_read)} facts the rules "
        f"read, each with {report.item_variants} kinds of information; {report.behaviours:,} distinct "
        f"behaviours, {report.evaluated:,} of them confirmed in the engine, in {report.seconds:.1f} s"
    )
    if report.facts_unread:
        click.echo(f"  not read by any rule (cannot change an answer): {', '.join(report.facts_unread)}")
    shares = ", ".join(f"{d} {n:,}" for d, n in sorted(report.decisions.items(), key=lambda x: -x[1]))
    click.echo(f"  decisions:  {shares}")
    kinds = {
        "gap": "gaps (no rule decides)",
        "conflict": "conflicts (same precedence rank)",
        "share-without-consent": "shares without consent, exception or duty",
        "share-outside-scope": "shares without consent outside every ground's scope",
        "confidentiality": "confidentiality offered where sharing without consent can follow",
        "engine": "cases where the engine and the proof disagree",
    }
    for kind, title in kinds.items():
        found = [f for f in report.findings if f.kind == kind]
        click.echo(
            f"  {title}: "
            + (", ".join(f"{f.combinations:,} ({', '.join(f.rules) or 'no rule'})" for f in found) if found else "none")
        )
    click.echo(
        "  every combination yields exactly one decision"
        if report.proven
        else "  NOT every combination yields exactly one decision with a basis: see the problems above"
    )
    click.echo(f"  shadowed rules (overruled wherever they fire): {', '.join(report.shadowed) or 'none'}")
    click.echo(f"  rules that never fire: {', '.join(report.dead) or 'none'}")
    for contradiction, rules in report.on_contradictions.items():
        click.echo(
            f"  contradiction {contradiction} decides instead of these rules, which fire on it: "
            f"{', '.join(rules) or 'none'}"
        )


@click.command("fmt")
@policy_option
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 naming each file not in the layout.")
def fmt_command(directory: Path, check_only: bool) -> None:
    """Rewrite the rule files (rules/*.yaml) in one canonical layout, keeping every comment."""
    if not (directory / RULES_DIR).is_dir():
        raise click.ClickException(f"{directory}: no rules/ folder; give the policy folder with --policy")
    changed, broken = [], False
    for file in sorted((directory / RULES_DIR).glob("*.yaml")):
        name = f"{RULES_DIR}/{file.name}"
        text = file.read_text(encoding="utf-8")
        try:
            canonical = formatted(text, name)
        except YamlSyntaxError as err:
            click.echo(str(err.problem), err=True)
            broken = True
            continue
        except LayoutChangesMeaning as err:
            click.echo(str(err), err=True)
            broken = True
            continue
        if canonical != text:
            changed.append(name)
            if not check_only:
                file.write_text(canonical, encoding="utf-8")
    said = "not in the canonical layout (`infoshare fmt` rewrites it)" if check_only else "reformatted"
    for name in changed:
        click.echo(f"{directory / name}: {said}", err=check_only)
    if not changed:
        click.echo(f"{directory}: every rule file is in the canonical layout")
    if broken or (check_only and changed):
        sys.exit(1)


@click.command("evaluate")
@click.argument("case_file", type=click.File("r"))
@policy_option
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def evaluate_command(case_file: TextIO, directory: Path, as_json: bool) -> None:
    """Evaluate the case in CASE_FILE (JSON: the facts, or an object with `facts`) and print the verdict."""
    try:
        case = json.load(case_file)
    except json.JSONDecodeError as err:
        click.echo(f"{case_file.name}:{err.lineno}: not valid JSON: {err.msg}", err=True)
        sys.exit(2)
    facts = case.get("facts", case) if isinstance(case, dict) else case
    engine = Engine(load_or_exit(directory))
    try:
        verdict = engine.evaluate(facts).to_dict()
    except FactsInvalid as err:
        for field, messages in err.messages.items():
            click.echo(f"{case_file.name}: {field}: {' '.join(map(str, messages))}", err=True)
        sys.exit(2)
    except EvaluationError as err:
        click.echo(f"no verdict: {err}", err=True)
        sys.exit(3)
    click.echo(json.dumps(verdict, indent=2) if as_json else render_verdict(verdict))
