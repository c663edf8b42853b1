"""A fixed, seeded corpus of sharing questions, drawn from the policy's own vocabulary.

Every case fact is drawn independently: given (one of its values, uniformly)
or left out, so that "not given" is as real a possibility as any value; a
list fact is a random subset; each piece of information has its booleans
drawn or left out. Nothing here knows the rules: the mix of decisions is
whatever the policy makes of the draws (the benchmark prints it), so the
corpus cannot be tuned to the engine's fast paths.
"""

from __future__ import annotations

import random
from typing import Any

from infoshare.engine import Policy

SEED = 20261125
P_GIVEN = 0.8  # a fact is given four times in five
MAX_ITEMS = 3


def make_corpus(policy: Policy, size: int, seed: int = SEED) -> list[dict[str, Any]]:
    """`size` cases, the same ones for the same policy, size and seed."""
    draw = random.Random(seed)
    return [_case(policy, draw, n) for n in range(size)]


def _case(policy: Policy, draw: random.Random, number: int) -> dict[str, Any]:
    case: dict[str, Any] = {}
    for fact in policy.case_facts:
        if not fact.required and draw.random() >= P_GIVEN:
            continue
        if fact.type == "choice":
            case[fact.name] = draw.choice(fact.values)
        elif fact.type == "choices":
            case[fact.name] = [v for v in fact.values if draw.random() < 0.3]
        elif fact.type == "boolean":
            case[fact.name] = draw.random() < 0.5
        else:
            case[fact.name] = [_item(fact.fields, draw, number, n) for n in range(draw.randint(0, MAX_ITEMS))]
    return case


def _item(fields: Any, draw: random.Random, number: int, index: int) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for spec in fields:
        if spec.type == "boolean":
            if spec.required or draw.random() < P_GIVEN:
                item[spec.name] = draw.random() < 0.75
        else:
            item[spec.name] = f"piece {index + 1} of case {number + 1}"
    return item
