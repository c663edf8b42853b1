"""Run the Gherkin scenarios in-process against a policy, and see what each one checked and fired.

The scenarios are the policy owners' statement of what the protocol means, so
the traceability report runs them rather than reading their text: a rule
counts as fired by a scenario only if its id is in the rationale of a verdict
that scenario produced. The features' environment.py collects those ids (see
its docstring) and this module reads them from behave's context after the
run. Settings reach the environment as behave userdata, as `behave -D` would
pass them. Running in-process keeps a run well under a second, so the
removal check can afford one run per rule.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from behave import step_registry
from behave.configuration import Configuration
from behave.model import Scenario
from behave.runner import Runner

CLAUSE_TAG = "clause."


@dataclass(frozen=True)
class ScenarioResult:
    file: str
    line: int
    name: str
    clauses: tuple[str, ...]
    passed: bool
    failure: str
    rules_fired: frozenset[str]

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


class ScenarioRunError(RuntimeError):
    """The scenarios could not be run at all (set-up failed); no result says anything."""


def run_scenarios(features: Path, policy: Path, without_rule: str | None = None) -> list[ScenarioResult]:
    """Every scenario under `features`, run against the policy in `policy` (minus `without_rule`)."""
    args = [str(features), "--format", "null", "--no-summary", "--no-snippets", "--no-color", "-D", f"policy={policy}"]
    if without_rule:
        args += ["-D", f"without_rule={without_rule}"]
    config = Configuration(command_args=args, load_config=False)
    config.scenario_outline_annotation_schema = "{name}"  # a row is named like its outline, placeholders filled
    config.setup_model()
    runner = Runner(config)
    with _fresh_steps(features):
        runner.run()
    if runner.hook_failures or runner.aborted:
        raise ScenarioRunError(
            f"the scenarios could not run: a hook in {features}/environment.py failed (behave printed the error above)"
        )
    fired: dict[tuple[str, int], set[str]] = getattr(runner.context, "rules_fired", {})
    return [
        _result(scenario, fired.get((scenario.filename, scenario.line), set()))
        for feature in runner.features
        for scenario in feature.walk_scenarios()
    ]


@contextmanager
def _fresh_steps(features: Path) -> Iterator[None]:
    """Each run reads its own step files: behave keeps one step registry per process, and the
    helper modules step files import would otherwise be reused from an earlier run's folder."""
    step_registry.registry.clear()
    before = set(sys.modules)
    try:
        yield
    finally:
        root = features.resolve()
        for name in set(sys.modules) - before:
            file = getattr(sys.modules[name], "__file__", None)
            if file and Path(file).resolve().is_relative_to(root):
                del sys.modules[name]


def _result(scenario: Scenario, fired: set[str]) -> ScenarioResult:
    passed = scenario.status.name == "passed"
    return ScenarioResult(
        file=_shown(scenario.filename),
        line=scenario.line,
        name=scenario.name,
        clauses=tuple(dict.fromkeys(t[len(CLAUSE_TAG) :] for t in scenario.effective_tags if t.startswith(CLAUSE_TAG))),
        passed=passed,
        failure="" if passed else _failure(scenario),
        rules_fired=frozenset(fired),
    )


def _shown(filename: str) -> str:
    """A feature file's name as a reader finds it: relative to here when it is below here."""
    path = Path(filename).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _failure(scenario: Scenario) -> str:
    """The first failing step and what went wrong, in words (no traceback, no exception class)."""
    for step in scenario.all_steps:
        if step.status.name in ("failed", "error", "undefined"):
            message = (step.error_message or "").strip().splitlines()
            detail = message[-1] if message else step.status.name
            if step.exception is not None and not isinstance(step.exception, AssertionError):
                detail = str(step.exception) or "the step could not be run"
            for prefix in ("Assertion Failed: ", "ASSERT FAILED: "):
                detail = detail.removeprefix(prefix)
            return f"{step.keyword} {step.name}: {detail}"
    return f"not run ({scenario.status.name})"
