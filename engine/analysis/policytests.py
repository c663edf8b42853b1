"""A policy's own tests: example cases with the verdicts they must get, kept beside the policy.

Like `opa test`, they let a policy owner pin down what an edit must not
change; `infoshare check` runs them, and so does the pytest suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import fields, validate

from infoshare.engine.analysis.misses import why_not
from infoshare.engine.evaluator import Engine
from infoshare.engine.policy.conditions import show
from infoshare.engine.policy.factschema import FactsInvalid
from infoshare.engine.policy.loader import validate as validate_with
from infoshare.engine.policy.problems import PolicyError, Problem
from infoshare.engine.policy.schemas import Bool, StrictSchema
from infoshare.engine.policy.yamlsource import read_or_report

TESTS_DIR = "tests"
CHECKED = (
    "decision",
    "confidentiality",
    "explain_to_subject",
    "missing_facts",
    "conditions",
    "obligations",
    "shared_items",
)


class ExpectSchema(StrictSchema):
    decision = fields.String()
    confidentiality = fields.String()
    explain_to_subject = Bool()
    missing_facts = fields.List(fields.String())
    conditions = fields.List(fields.String())
    obligations = fields.List(fields.String())
    shared_items = fields.List(fields.String())
    rules_fired = fields.List(fields.String())


class CaseSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1))
    facts = fields.Dict(required=True)
    expect = fields.Nested(ExpectSchema, required=True)


class FileSchema(StrictSchema):
    tests = fields.List(fields.Nested(CaseSchema), required=True)


@dataclass(frozen=True)
class PolicyTest:
    name: str
    facts: dict[str, Any]
    expect: dict[str, Any]
    file: str
    line: int


def test_files(directory: Path) -> dict[str, str]:
    """The text of each test file under `directory`/tests, by name (`tests/cases.yaml`): what an
    activation carries, so every process that follows it runs the tests it was checked with."""
    return {
        f"{TESTS_DIR}/{file.name}": file.read_text(encoding="utf-8")
        for file in sorted((directory / TESTS_DIR).glob("*.yaml"))
    }


def load_tests(tests: Path | Mapping[str, str]) -> list[PolicyTest]:
    """Every test case under a policy folder's tests/, or in test files given by name and text
    (as ``test_files`` returns them); PolicyError if a file is malformed."""
    problems: list[Problem] = []
    out: list[PolicyTest] = []
    files = test_files(tests) if isinstance(tests, Path) else tests
    for name, text in sorted(files.items()):
        source = read_or_report(text.encode("utf-8"), name, problems)
        if source is None:
            continue
        data, found = validate_with(FileSchema(), source.data, source, ())
        problems.extend(found)
        for index, case in enumerate(data["tests"] if data else []):
            out.append(
                PolicyTest(case["name"], case["facts"], case["expect"], name, source.line(("tests", index, "name")))
            )
    if problems:
        raise PolicyError(problems)
    return out


def observed(engine: Engine, facts: dict[str, Any]) -> dict[str, Any]:
    """The parts of a verdict a test can pin down, in the tests' own terms."""
    verdict = engine.evaluate(facts)
    return {
        "decision": verdict.decision,
        "confidentiality": verdict.confidentiality,
        "explain_to_subject": verdict.explain_to_subject,
        "missing_facts": sorted(verdict.missing_facts),
        "conditions": sorted(c["id"] for c in verdict.conditions),
        "obligations": sorted(o["id"] for o in verdict.obligations),
        "shared_items": [i["item"] for i in verdict.information if i["share"]],
        "rules_fired": sorted(r["rule"] for r in verdict.rationale),
    }


def failures(engine: Engine, test: PolicyTest) -> list[str]:
    """What differs between the test's expectations and the verdict (empty when it passes)."""
    try:
        got = observed(engine, test.facts)
    except FactsInvalid as err:
        return [str(err)]
    out = []
    for key, want in test.expect.items():
        have = got[key]
        if key == "rules_fired":
            absent = sorted(set(want) - set(have))
            if absent:
                out.append(f"expected rules {', '.join(absent)} to fire; fired: {', '.join(have)}")
        elif (sorted(want) if key in ("missing_facts", "conditions", "obligations") else want) != have:
            message = f"expected {key} {_shown(want)}, got {_shown(have)}"
            if key in OUTCOMES:
                message += f": {why_not(engine.policy, test.facts, got['rules_fired'], key, want, have)}"
            out.append(message)
    return out


OUTCOMES = ("decision", "confidentiality", "explain_to_subject")


def _shown(value: Any) -> str:
    """A value as the test file writes it: `[a, b]` for a list, never Python's quotes."""
    if isinstance(value, list):
        return f"[{', '.join(map(show, value))}]"
    return show(value)


def run_tests(engine: Engine, tests: Path | Mapping[str, str]) -> tuple[int, list[Problem]]:
    """Run the policy's tests (a policy folder's, or test files by name and text): how many there
    are, and each failure as a file:line Problem.

    A malformed test file is a Problem too, so a reload refuses it like `check` does.
    """
    try:
        cases = load_tests(tests)
    except PolicyError as err:
        return 0, list(err.problems)
    return len(cases), [
        Problem(test.file, test.line, f"test `{test.name}`: {message}")
        for test in cases
        for message in failures(engine, test)
    ]
