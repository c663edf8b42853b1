"""Traceability: for every protocol statement, the rules that implement it and the scenarios that exercise it.

A scenario names the statements it exercises with tags like
`@clause.consent-general-principle` (a tag on a Feature or an Examples table
applies to all of its scenarios). The scenarios are run against the policy
(engine/scenarios.py), so "a rule is fired by a scenario" means its id is in
the rationale of a verdict the scenario produced, and a failing scenario is
reported rather than counted.

The report is a problem list like `infoshare check`'s: it is clean only when
every normative statement has a rule and a scenario, every rule is fired by
some scenario, every scenario passes, and every tag names a statement.
"""

from __future__ import annotations

import dataclasses
import textwrap
from dataclasses import dataclass
from pathlib import Path

import click

from infoshare.engine.analysis.scenarios import ScenarioResult, ScenarioRunError, run_scenarios
from infoshare.engine.policy.model import Clause, Policy, Rule
from infoshare.engine.policy.problems import Problem
from infoshare.engine.policy.yamlsource import read_yaml

PROTOCOL_FILE = "protocol.yaml"


@dataclass(frozen=True)
class ClauseCoverage:
    clause: Clause
    line: int  # in protocol.yaml
    rules: tuple[Rule, ...]
    scenarios: tuple[ScenarioResult, ...]


@dataclass(frozen=True)
class Coverage:
    policy: Policy
    features: Path
    clauses: tuple[ClauseCoverage, ...]
    scenarios: tuple[ScenarioResult, ...]
    never_fired: tuple[Rule, ...]
    problems: tuple[Problem, ...]


def _folder(policy: Policy) -> Path:
    """Scenarios and line numbers are read from the policy's files on disk, which a stored version lacks."""
    if policy.directory is None:
        raise ValueError(f"coverage needs the policy's folder; version {policy.version} was rebuilt from the store")
    return policy.directory


def coverage_of(policy: Policy, features: Path) -> Coverage:
    """Run the scenarios in `features` against `policy` and trace every statement."""
    try:
        scenarios = tuple(run_scenarios(features, _folder(policy))) if features.is_dir() else ()
    except ScenarioRunError as err:  # then the one problem is that nothing could be measured
        return dataclasses.replace(trace(policy, features, ()), problems=(Problem(str(features), 1, str(err)),))
    return trace(policy, features, scenarios)


def trace(policy: Policy, features: Path, scenarios: tuple[ScenarioResult, ...]) -> Coverage:
    """The report for scenarios already run: which statement has which rules and scenarios, and what is missing."""
    protocol = read_yaml(_folder(policy) / PROTOCOL_FILE, PROTOCOL_FILE)
    by_id = {rule.id: rule for rule in policy.rules}
    implemented = policy.implemented_by()
    clauses = tuple(
        ClauseCoverage(
            clause,
            protocol.line(("clauses", i, "id")),
            tuple(by_id[r] for r in implemented[clause.id]),
            tuple(s for s in scenarios if clause.id in s.clauses),
        )
        for i, clause in enumerate(policy.clauses)
    )
    fired = {rule for s in scenarios for rule in s.rules_fired}
    never_fired = tuple(r for r in policy.rules if r.id not in fired)

    problems: list[Problem] = []
    if not scenarios:
        problems.append(Problem(str(features), 1, "no scenarios found; the Gherkin scenarios live in features/"))
    for entry in clauses:
        clause = entry.clause
        if not clause.normative:
            continue
        if not entry.rules:
            problems.append(
                Problem(
                    PROTOCOL_FILE,
                    entry.line,
                    (
                        f"normative statement `{clause.id}` is implemented by no rule; cite it in a rule's `implements:`, "
                        "or mark it `normative: false` with `informative_because:`"
                    ),
                )
            )
        if not entry.scenarios:
            problems.append(
                Problem(
                    PROTOCOL_FILE,
                    entry.line,
                    (
                        f"normative statement `{clause.id}` is exercised by no scenario; tag a scenario that checks it "
                        f"with @clause.{clause.id}"
                    ),
                )
            )
    problems += [
        Problem(
            rule.file,
            rule.line,
            (
                f"rule `{rule.id}` is fired by no scenario (no scenario's verdict cites it); add a scenario whose case "
                "meets its `when:` and checks what it concludes, or remove the rule"
            ),
        )
        for rule in never_fired
    ]
    known = {c.id for c in policy.clauses}
    for s in scenarios:
        problems += [
            Problem(
                s.file, s.line, (f"@clause.{tag} names no statement of the protocol; use an id from {PROTOCOL_FILE}")
            )
            for tag in s.clauses
            if tag not in known
        ]
        if not s.passed:
            problems.append(Problem(s.file, s.line, f"scenario fails: {s.name}: {s.failure}"))
    return Coverage(policy, features, clauses, scenarios, never_fired, tuple(problems))


def render_text(report: Coverage, quiet: bool = False) -> str:
    """The report for a terminal: each statement, its rules and scenarios; then the totals."""
    lines: list[str] = []
    if not quiet:
        for entry in report.clauses:
            clause = entry.clause
            if not clause.normative:
                lines.append(f"{clause.id}: informative: {clause.informative_because}")
            else:
                lines.append(clause.id)
            lines.append(textwrap.fill(f'"{clause.text}"', 100, initial_indent="    ", subsequent_indent="     "))
            if entry.rules or clause.normative:
                lines.append(
                    textwrap.fill(
                        ", ".join(r.id for r in entry.rules) or "NONE",
                        100,
                        initial_indent="    rules:     ",
                        subsequent_indent=" " * 15,
                        break_on_hyphens=False,
                    )
                )
            if entry.scenarios or clause.normative:
                lines.append(f"    scenarios: {len(entry.scenarios) or 'NONE'}")
                lines += [f"      {s.location}  {s.name}" for s in entry.scenarios]
        lines.append("")
    lines += summary(report)
    return "\n".join(lines)


def summary(report: Coverage) -> list[str]:
    normative = [e for e in report.clauses if e.clause.normative]
    passed = sum(s.passed for s in report.scenarios)
    rules = report.policy.rules
    return [
        f"policy {report.policy.id} {report.policy.version} (sha256:{report.policy.digest[:12]}), "
        f"scenarios in {report.features}",
        f"  statements: {len(report.clauses)}; {len(normative)} normative, "
        f"{sum(bool(e.rules) and bool(e.scenarios) for e in normative)} of them with rules and scenarios; "
        f"{len(report.clauses) - len(normative)} informative",
        f"  rules:      {len(rules) - len(report.never_fired)} of {len(rules)} fired by a scenario",
        f"  scenarios:  {passed} of {len(report.scenarios)} passed",
    ]


def show_coverage(report: Coverage, quiet: bool = False) -> bool:
    """Print the report, and its problems on stderr; True when there are problems."""
    click.echo(render_text(report, quiet))
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if report.problems:
        count = len(report.problems)
        click.echo(f"coverage: {count} problem{'s' if count != 1 else ''}", err=True)
    return bool(report.problems)
