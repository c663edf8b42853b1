"""The `when:` / `for each item:` mini-language: from what a policy owner writes to Conditions.

The forms are few on purpose, so a rule reads as a sentence:
    consent: refused                          consent is refused
    consent: [refused, not_sought]            consent is one of these
    harm_concern: the case does not say       the case does not give the fact
    consent: not known to be given            a named value set of the fact (facts.yaml `sets:`)
    welfare_override: {not: yes}              given, and anything but yes
    seeking_consent_would: {includes: x} / {includes any of: [..]} / {includes none of: <set or list>}
    purpose and recipient: {within: <ground>} / {outside: <ground>}   a ground's scope (grounds.yaml)

`not given` is the old spelling of `the case does not say`: it still works for
one release, with a warning naming the line.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infoshare.engine.policy.model import NOT_GIVEN, OLD_NOT_GIVEN, Condition, Fact, Ground, ItemField
from infoshare.engine.policy.problems import Problem
from infoshare.engine.policy.yamlsource import Source

LIST_TESTS = {"includes": "includes", "includes any of": "includes_any", "includes none of": "includes_none"}
MAPPING_KEYS = ["not", *LIST_TESTS]
SCOPE_TESTS = {"within": "pair_in", "outside": "pair_out"}


@dataclass(frozen=True)
class Scope:
    """What a `when:` may say of a ground's scope: the key naming the two facts, and the grounds."""

    purpose: str
    recipient: str
    grounds: dict[str, Ground]

    @property
    def key(self) -> str:
        return f"{self.purpose} and {self.recipient}"


def suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(str(name), known, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def show(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def parse_conditions(
    raw: dict[str, Any],
    source: Source,
    path: tuple[Any, ...],
    lookup: Callable[[str], Fact | ItemField | None],
    known: list[str],
    what: str,
    warnings: list[Problem] | None = None,
    scope: Scope | None = None,
) -> tuple[list[Condition], list[Problem]]:
    """Turn one `when:` mapping into Conditions, reporting every mistake in it."""
    conditions: list[Condition] = []
    problems: list[Problem] = []
    for name, spec in raw.items():
        here = path + (name,)
        if scope is not None and name == scope.key:
            parsed, found = _parse_scope(scope, spec, source, here)
            problems.extend(found)
            conditions.extend(parsed)
            continue
        fact = lookup(name)
        if fact is None:
            choices = known + ([scope.key] if scope is not None else [])
            problems.append(
                source.problem(
                    here, (f"unknown {what} `{name}`{suggest(name, choices)}; the {what}s are: {', '.join(choices)}")
                )
            )
            continue
        parsed, found = _parse_one(fact, spec, source, here, warnings if warnings is not None else [])
        problems.extend(found)
        conditions.extend(parsed)
    return conditions, problems


def _parse_scope(
    scope: Scope, spec: Any, source: Source, here: tuple[Any, ...]
) -> tuple[list[Condition], list[Problem]]:
    usage = f"write `{scope.key}: {{within: <ground>}}` or `{scope.key}: {{outside: <ground>}}`"
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in SCOPE_TESTS:
        return [], [source.problem(here, f"a ground's scope is tested one way: {usage}")]
    [(key, ground_id)] = spec.items()
    ground = scope.grounds.get(str(ground_id))
    if ground is None:
        known = list(scope.grounds)
        return [], [
            source.problem(
                here + (key,),
                (
                    f"unknown ground `{ground_id}`{suggest(str(ground_id), known)}; the grounds in grounds.yaml are: "
                    f"{', '.join(known) or 'none'}"
                ),
            )
        ]
    condition = Condition(
        scope.purpose, SCOPE_TESTS[key], ground.serves, False, source.line(here), scope.recipient, ground.id
    )
    return [condition], []


def _expand(fact: Fact | ItemField, values: list[Any]) -> list[Any]:
    """Named value sets replaced by their values, in place."""
    out: list[Any] = []
    for value in values:
        named = fact.value_set(value) if isinstance(fact, Fact) and isinstance(value, str) else None
        out.extend(named if named is not None else (value,))
    return out


def _not_given_word(values: list[Any], source: Source, here: tuple[Any, ...], warnings: list[Problem]) -> list[Any]:
    if OLD_NOT_GIVEN in values:
        warnings.append(
            source.problem(
                here,
                (
                    f"`{OLD_NOT_GIVEN}` is the old word for a fact the case does not give; write `{NOT_GIVEN}` "
                    f"(`{OLD_NOT_GIVEN}` stops working in the next release)"
                ),
            )
        )
    return [NOT_GIVEN if v == OLD_NOT_GIVEN else v for v in values]


def _parse_one(
    fact: Fact | ItemField, spec: Any, source: Source, here: tuple[Any, ...], warnings: list[Problem]
) -> tuple[list[Condition], list[Problem]]:
    line = source.line(here)
    problems: list[Problem] = []
    is_list_fact = getattr(fact, "type", None) == "choices"
    if isinstance(spec, dict):
        out = []
        for key, value in spec.items():
            if key not in MAPPING_KEYS:
                problems.append(
                    source.problem(
                        here + (key,),
                        (
                            f"unknown test `{key}` on `{fact.name}`{suggest(key, MAPPING_KEYS)}; "
                            f"the tests are: {', '.join(MAPPING_KEYS)}"
                        ),
                    )
                )
                continue
            tested = tuple(_expand(fact, list(value) if isinstance(value, list) else [value]))
            if key in LIST_TESTS and not is_list_fact:
                problems.append(
                    source.problem(
                        here + (key,),
                        (
                            f"`{key}` is for list facts, and `{fact.name}` takes one value; "
                            f"write `{fact.name}: <value>` or `{fact.name}: [<value>, <value>]`"
                        ),
                    )
                )
                continue
            problems.extend(_check_values(fact, tested, source, here + (key,)))
            test = "none_of" if key == "not" else LIST_TESTS[key]
            out.append(Condition(fact.name, test, tested, False, line))
        problems.extend(_contradictions(fact, out, source, here))
        return out, problems
    values = list(spec) if isinstance(spec, list) else [spec]
    if not values:
        return [], [source.problem(here, f"`{fact.name}: []` can never be true; list at least one value")]
    values = _not_given_word(_expand(fact, values), source, here, warnings)
    or_not_given = NOT_GIVEN in values
    values = [v for v in values if v != NOT_GIVEN]
    if is_list_fact and values:
        problems.append(
            source.problem(
                here,
                (
                    f"`{fact.name}` is a list; test it with `{{includes: <value>}}`, "
                    "`{includes any of: [..]}` or `{includes none of: [..]}`"
                ),
            )
        )
    problems.extend(_check_values(fact, tuple(values), source, here))
    if or_not_given and getattr(fact, "required", False):
        problems.append(
            source.problem(
                here,
                (f"`{fact.name}` is required, so every case gives it: `{NOT_GIVEN}` can never be true; remove it"),
            )
        )
    return [Condition(fact.name, "one_of", tuple(values), or_not_given, line)], problems


def _check_values(
    fact: Fact | ItemField, values: tuple[Any, ...], source: Source, here: tuple[Any, ...]
) -> list[Problem]:
    if fact.type == "boolean":
        allowed: tuple[Any, ...] = (True, False)
    elif isinstance(fact, Fact) and fact.type in ("choice", "choices"):
        allowed = fact.values
    else:
        return [source.problem(here, f"`{fact.name}` is free text; rules cannot test it")]
    named = [name for name, _ in getattr(fact, "sets", ())]
    problems = []
    for value in values:
        if value not in allowed or isinstance(value, bool) != (fact.type == "boolean"):
            hint = " (write true or false, without quotes)" if fact.type == "boolean" else ""
            sets = f"; its named sets are: {', '.join(named)}" if named else ""
            problems.append(
                source.problem(
                    here,
                    (
                        f"`{show(value)}` is not a value of `{fact.name}`"
                        f"{suggest(show(value), [show(a) for a in allowed] + named)}; "
                        f"the values are: {', '.join(show(a) for a in allowed)}{sets}{hint}"
                    ),
                )
            )
    return problems


def _contradictions(
    fact: Fact | ItemField, conditions: list[Condition], source: Source, here: tuple[Any, ...]
) -> list[Problem]:
    required = {v for c in conditions if c.test == "includes" for v in c.values}
    excluded = {v for c in conditions if c.test == "includes_none" for v in c.values}
    clash = sorted(required & excluded)
    if clash:
        return [
            source.problem(
                here, (f"`{fact.name}` must both include and not include {', '.join(clash)}: this rule can never fire")
            )
        ]
    return []
