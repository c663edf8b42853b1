"""Why a verdict is not the one expected, in the policy's own terms: which rules produced the
answer (file:line) and which rule would have given the expected one, and why it did not.

Used by the policy's tests (`infoshare check`) and by the scenarios, so that a failing
example points at the rules to read rather than only at two values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infoshare.engine.policy.conditions import show
from infoshare.engine.policy.model import Condition, Policy, Rule


def where(rule: Rule) -> str:
    return f"`{rule.id}` ({rule.file}:{rule.line})"


def why_not(
    policy: Policy, facts: Mapping[str, Any], fired: Iterable[str], outcome: str, expected: Any, actual: Any
) -> str:
    """A sentence: the fired rules that concluded the `actual` value of `outcome` (and those it
    overruled), and the nearest rule concluding `expected`."""
    by_id = {rule.id: rule for rule in policy.rules}
    concluding = [by_id[r] for r in dict.fromkeys(fired) if r in by_id and by_id[r].then.outcome(outcome) is not None]
    deciding = [r for r in concluding if r.then.outcome(outcome) == actual]
    overruled = [r for r in concluding if r.then.outcome(outcome) != actual]
    said = (
        f"it came from {', '.join(where(r) for r in deciding)}"
        if deciding
        else "no rule concluded it (the policy's default applied)"
    )
    if overruled:
        said += f", which overruled {', '.join(where(r) for r in overruled)}"
    candidates = [r for r in policy.rules if r.then.outcome(outcome) == expected and not r.is_item_rule]
    if not candidates:
        return f"{said}; no rule of the policy concludes {outcome} `{show(expected)}`"
    concluded = {f.name for f in policy.derived_facts}
    unmet = {r.id: [c for c in r.when if c.fact not in concluded and _fails(c, facts)] for r in candidates}
    nearest = min(candidates, key=lambda r: len(unmet[r.id]))
    reasons = "; ".join(_unmet(c, facts) for c in unmet[nearest.id])
    return f"{said}; {outcome} `{show(expected)}` would come from {where(nearest)}" + (
        f", whose `when:` does not hold here: {reasons}"
        if reasons
        else ", which was overruled or needs a concluded fact"
    )


def _fails(condition: Condition, facts: Mapping[str, Any]) -> bool:
    """Whether a condition on a fact the case gives fails for these facts."""
    if condition.fact not in facts:
        return not condition.or_not_given and condition.test not in ("none_of", "includes_none")
    value = facts[condition.fact]
    values = set(condition.values)
    if condition.test == "one_of":
        return value not in values
    if condition.test == "none_of":
        return value in values
    have = set(value) if isinstance(value, list) else {value}
    if condition.test == "includes":
        return not values <= have
    if condition.test == "includes_any":
        return not values & have
    return bool(values & have)  # includes_none


def _unmet(condition: Condition, facts: Mapping[str, Any]) -> str:
    wanted = ", ".join(show(v) for v in condition.values)
    given = facts.get(condition.fact)
    now = (
        "not given"
        if condition.fact not in facts
        else f"`{', '.join(map(show, given)) if isinstance(given, list) else show(given)}`"
    )
    needs = {
        "one_of": f"one of `{wanted}`" if len(condition.values) > 1 else f"`{wanted}`",
        "none_of": f"anything but `{wanted}`",
        "includes": f"to include `{wanted}`",
        "includes_any": f"to include any of `{wanted}`",
        "includes_none": f"to include none of `{wanted}`",
    }[condition.test]
    return f"{condition.fact} is {now}, it needs {needs}"
