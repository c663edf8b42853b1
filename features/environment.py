"""behave set-up: the policy under test is loaded once (INFOSHARE_POLICY, or the shipped one)."""
from __future__ import annotations

import os

from engine import Engine, load_policy
from engine.loader import SHIPPED_POLICY


def before_all(context) -> None:
    context.engine = Engine(load_policy(os.environ.get("INFOSHARE_POLICY", SHIPPED_POLICY)))


def before_scenario(context, scenario) -> None:
    context.facts = {}
    context.verdict = None
