"""The `when:` / `for each item:` mini-language: from what a policy owner writes to Conditions.

The forms are few on purpose, so a rule reads as a sentence:
    consent: refused                 consent is refused
    consent: [refused, not_sought]   consent is one of these
    harm_concern: not given          the case does not say
    welfare_override: {not: yes}     given, and anything but yes
    seeking_consent_would: {includes: x} / {includes any of: [..]} / {includes none of: [..]}
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from infoshare.engine.policy.model import NOT_GIVEN, Condition, Fact, ItemField
from infoshare.engine.policy.problems import Problem
from infoshare.engine.policy.yamlsource import Source

LIST_TESTS = {"includes": "includes", "includes any of": "includes_any", "includes none of": "includes_none"}
MAPPING_KEYS = ["not", *LIST_TESTS]


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
) -> tuple[list[Condition], list[Problem]]:
    """Turn one `when:` mapping into Conditions, reporting every mistake in it."""
    conditions: list[Condition] = []
    problems: list[Problem] = []
    for name, spec in raw.items():
        here = path + (name,)
        fact = lookup(name)
        if fact is None:
            problems.append(
                source.problem(
                    here, (f"unknown {what} `{name}`{suggest(name, known)}; the {what}s are: {', '.join(known)}")
                )
            )
            continue
        parsed, found = _parse_one(fact, spec, source, here)
        problems.extend(found)
        conditions.extend(parsed)
    return conditions, problems


def _parse_one(
    fact: Fact | ItemField, spec: Any, source: Source, here: tuple[Any, ...]
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
            tested = tuple(value) if isinstance(value, list) else (value,)
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
                here, (f"`{fact.name}` is required, so every case gives it: `not given` can never be true; remove it")
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
    problems = []
    for value in values:
        if value not in allowed or isinstance(value, bool) != (fact.type == "boolean"):
            hint = " (write true or false, without quotes)" if fact.type == "boolean" else ""
            problems.append(
                source.problem(
                    here,
                    (
                        f"`{show(value)}` is not a value of `{fact.name}`{suggest(show(value), [show(a) for a in allowed])}; "
                        f"the values are: {', '.join(show(a) for a in allowed)}{hint}"
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
