"""behave set-up: the policy under test, the HTTP service for the recording scenarios, and the rules each scenario fired.

Settings (`behave -D name=value`, or the INFOSHARE_POLICY variable):
  policy        the policy folder (default: INFOSHARE_POLICY, else the shipped policy)
  without_rule  run against that policy minus this rule, unchecked (the removal check)

Every verdict a step obtains, from the engine or from the service, goes
through `verdict_seen` (steps/verdicts.py); after each scenario the ids of the rules in those
verdicts' rationales are kept in `context.rules_fired`, keyed by the
scenario's (file, line). `infoshare coverage` runs the scenarios in-process
and reads that mapping: a rule counts as fired by a scenario only if it is
in the rationale of a verdict the scenario really produced.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from pathlib import Path

from infoshare.engine import Engine, load_policy
from infoshare.engine.policy.loader import SHIPPED_POLICY


def before_all(context) -> None:
    settings = context.config.userdata
    directory = settings.get("policy") or os.environ.get("INFOSHARE_POLICY") or str(SHIPPED_POLICY)
    policy = load_policy(directory)
    if settings.get("without_rule"):
        policy = policy.without_rule(settings["without_rule"])
    context.policy = policy
    context.engine = Engine(policy)
    context.phrases = _vocabulary().register(context)  # the steps in the policy's own words (phrases.yaml)
    context.rules_fired = {}
    context.service = {}  # the app, its client and keys, made on first use (see service_steps.py)
    context.workdir = tempfile.TemporaryDirectory(prefix="infoshare-scenarios-")
    context.case_numbers = iter(range(1, 1_000_000))
    context.on_exit = []  # what the run changed in the process, undone at its end


def _vocabulary():
    """steps/vocabulary.py, imported with the steps folder on the path as behave puts it there."""
    steps = str(Path(__file__).parent / "steps")
    sys.path.insert(0, steps)
    try:
        return importlib.import_module("vocabulary")
    finally:
        sys.path.remove(steps)


def before_scenario(context, scenario) -> None:
    context.facts = {}
    context.verdict = None
    context.fired = set()
    context.case_ref = f"SCENARIO-{next(context.case_numbers)}"


def after_scenario(context, scenario) -> None:
    context.rules_fired[(scenario.filename, scenario.line)] = context.fired


def after_all(context) -> None:
    for undo in context.on_exit:
        undo()
    context.workdir.cleanup()
