"""The policy owner's commands: `infoshare check`, `infoshare coverage` and `infoshare evaluate`.

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
from infoshare.engine.policy.loader import SHIPPED_POLICY, load_policy
from infoshare.engine.policy.model import Policy
from infoshare.engine.policy.problems import PolicyError

policy_dir = click.Path(exists=False, file_okay=False, path_type=Path)


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
@click.argument("directory", type=policy_dir, default=SHIPPED_POLICY, required=False)
@click.option("--coverage", is_flag=True, help="Also run the scenarios and report as `infoshare coverage` does.")
@click.option(
    "--features",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("features"),
    show_default=True,
    help="Folder of Gherkin scenarios for --coverage.",
)
@click.option(
    "--exhaustive",
    is_flag=True,
    help="Also evaluate every combination of the facts the rules read: prove each gets exactly one "
    "decision, and list conflicts, gaps, shadowed rules and shares without consent or exception.",
)
def check_command(directory: Path, coverage: bool, features: Path, exhaustive: bool) -> None:
    """Check the policy in DIRECTORY (default: the shipped policy) and run its tests."""
    policy = load_or_exit(directory)
    engine = Engine(policy)
    count, problems = run_tests(engine, directory)
    report = check_exhaustively(policy, engine) if exhaustive else None
    if report is not None:
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
    if report is not None:
        _print_exhaustive(report)
    if coverage:
        failed += show_coverage(coverage_of(policy, features))
    if problems or failed:
        sys.exit(1)


@click.command("coverage")
@click.option(
    "--features",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("features"),
    show_default=True,
    help="Folder of Gherkin scenarios.",
)
@click.option("--policy", "directory", type=policy_dir, default=SHIPPED_POLICY, help="Policy folder.")
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
        html_file.write_text(render_html(report), encoding="utf-8")
        click.echo(f"report written to {html_file}")
    sys.exit(1 if failed else 0)


def _print_exhaustive(report: ExhaustiveReport) -> None:
    click.echo(
        f"exhaustive: {report.combinations:,} combinations of the {len(report.facts_read)} facts the rules "
        f"read, each with {report.item_variants} kinds of information; {report.evaluated:,} evaluated "
        f"through the engine in {report.seconds:.1f} s"
    )
    if report.facts_unread:
        click.echo(f"  not read by any rule (cannot change an answer): {', '.join(report.facts_unread)}")
    shares = ", ".join(f"{d} {n:,}" for d, n in sorted(report.decisions.items(), key=lambda x: -x[1]))
    click.echo(f"  decisions:  {shares}")
    kinds = {
        "gap": "gaps (no rule decides)",
        "conflict": "conflicts (same precedence rank)",
        "share-without-consent": "shares without consent, exception or duty",
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


@click.command("evaluate")
@click.argument("case_file", type=click.File("r"))
@click.option("--policy", "directory", type=policy_dir, default=SHIPPED_POLICY, help="Policy folder.")
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
