"""Translate a Policy into a durable-rules ruleset (the engine's JSON form).

The case is asserted as one fact (`kind: case`), each piece of information as
one fact (`kind: item`), and every conclusion of a derived fact as a fact of
its own (`kind: derived`), so rules that build on derived facts are joined to
them by the Rete network itself: chaining happens inside durable-rules.
Actions are bound by name: each rule's action is named after the rule.
"""

from __future__ import annotations

from typing import Any

from infoshare.engine.policy.model import Condition, Policy, Rule

ALWAYS = "$every-case"  # engine plumbing: guarantees an action runs for every case (see evaluator.py)
# durable-rules' `$iall` is false on an empty list, so "includes none of" would
# never hold for `[]`. Every list fact is asserted with this extra element (not
# a value of any fact) so that a list is never empty inside the engine (the
# evaluator adds it when it asserts the case).
LIST_END = "$end"


def compile_policy(policy: Policy) -> dict[str, dict[str, Any]]:
    """One ruleset definition: rule id -> {"all": [patterns], "run": rule id}."""
    definition = {rule.id: {"all": _patterns(policy, rule), "run": rule.id} for rule in policy.rules}
    definition[ALWAYS] = {"all": [{"case": {"kind": "case"}}], "run": ALWAYS}
    return definition


def _patterns(policy: Policy, rule: Rule) -> list[dict[str, Any]]:
    derived = {f.name for f in policy.derived_facts}
    case_tests = [c for c in rule.when if c.fact not in derived]
    patterns = []
    if case_tests or not rule.is_item_rule:
        patterns.append({"case": _and([{"kind": "case"}, *(_test(c, c.fact, policy) for c in case_tests)])})
    for condition in rule.when:
        if condition.fact in derived:
            patterns.append(
                {
                    f"d_{condition.fact}": _and(
                        [{"kind": "derived"}, {"name": condition.fact}, _test(condition, "value", policy)]
                    )
                }
            )
    if rule.is_item_rule:
        patterns.append({"item": _and([{"kind": "item"}, *(_test(c, c.fact, policy) for c in rule.for_each_item)])})
    return patterns


def _test(condition: Condition, field: str, policy: Policy) -> dict[str, Any]:
    values = condition.values
    if condition.test in ("pair_in", "pair_out"):
        return _pair(condition, policy)
    if condition.test == "one_of":
        options = [{field: v} for v in values]
        if condition.or_not_given:
            options.append({"$nex": {field: 1}})
        return _or(options)
    if condition.test == "none_of":
        return _and([{"$ex": {field: 1}}, *({"$neq": {field: v}} for v in values)])
    if condition.test == "includes":
        return _and([{"$iany": {field: {"$i": v}}} for v in values])
    if condition.test == "includes_any":
        return _or([{"$iany": {field: {"$i": v}}} for v in values])
    if condition.test == "includes_none":
        return _and([{"$ex": {field: 1}}, {"$iall": {field: _and([{"$neq": {"$i": v}} for v in values])}}])
    raise ValueError(f"unknown test {condition.test!r}")


def _pair(condition: Condition, policy: Policy) -> dict[str, Any]:
    """A ground's scope: (purpose, recipient) one of the pairs it serves, or (outside) not."""
    first, second = condition.fact, condition.partner or ""
    serves: dict[Any, list[Any]] = {}
    for a, b in condition.values:
        serves.setdefault(a, []).append(b)
    if condition.test == "pair_in":
        if not serves:
            return {"$nex": {"kind": 1}}  # an empty scope: never within it
        return _or([_and([{first: a}, _or([{second: b} for b in bs])]) for a, bs in serves.items()])
    fact = policy.fact(first)
    options: list[dict[str, Any]] = [{"$nex": {first: 1}}, {"$nex": {second: 1}}]
    for a in fact.values if fact else ():
        inside = serves.get(a, [])
        options.append(_and([{first: a}, *({"$neq": {second: b}} for b in inside)]))
    return _or(options)


def _and(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return tests[0] if len(tests) == 1 else {"$and": tests}


def _or(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return tests[0] if len(tests) == 1 else {"$or": tests}
