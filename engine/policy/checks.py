"""What makes a well-formed policy mean something: the checks that need the whole policy in view.

Each check answers a question a policy owner would otherwise find out about
in production: does this rule cite a real protocol statement, can it ever
fire, does every normative statement have a rule, can a decision it
concludes actually be combined with the others?
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infoshare.engine.policy.conditions import show, suggest
from infoshare.engine.policy.model import CONTRACT_DECISIONS, Fact, Policy
from infoshare.engine.policy.problems import Problem
from infoshare.engine.policy.yamlsource import Source

RESERVED = {"sid", "id", "kind", "name", "value", "by", "index"}
OUTCOME_KEYS = ("decision", "confidentiality", "explain_to_subject", "item")


@dataclass(frozen=True)
class Known:
    """What rules may refer to, taken from policy.yaml, protocol.yaml and facts.yaml."""

    facts: dict[str, Fact]
    clauses: dict[str, bool]  # id -> normative
    outcomes: dict[str, dict[str, Any]]
    conditions: dict[str, str]
    obligations: dict[str, str]


def check_rule(source: Source, path: tuple[Any, ...], raw: dict[str, Any], known: Known) -> list[Problem]:
    """The checks of one rule that need no other rule: citations and conclusions."""
    problems = []
    for i, clause_id in enumerate(raw["implements"]):
        where = path + ("implements", i)
        if clause_id not in known.clauses:
            problems.append(
                source.problem(
                    where,
                    (
                        f"unknown protocol statement `{clause_id}`{suggest(clause_id, list(known.clauses))}; "
                        "cite an id from protocol.yaml"
                    ),
                )
            )
        elif not known.clauses[clause_id]:
            problems.append(
                source.problem(
                    where,
                    (
                        f"`{clause_id}` is marked informative in protocol.yaml, so no rule implements it; "
                        "cite a normative statement, or make it normative there"
                    ),
                )
            )
    problems.extend(_check_then(source, path + ("then",), raw["then"], known, "for_each_item" in raw))
    return problems


def _check_then(
    source: Source, path: tuple[Any, ...], then: dict[str, Any], known: Known, item_rule: bool
) -> list[Problem]:
    problems = []
    derived = [n for n, f in known.facts.items() if f.derived]
    allowed_keys = (
        ["item"]
        if item_rule
        else ["decision", "confidentiality", "explain_to_subject", "conditions", "obligations", "missing", *derived]
    )
    if item_rule and "item" not in then:
        problems.append(source.problem(path, "a `for each item` rule concludes `item: share` or `item: withhold`"))
    for key, value in then.items():
        where = path + (key,)
        if key not in allowed_keys:
            if key in known.facts and not known.facts[key].derived:
                message = (
                    f"`{key}` is a fact the case gives, so a rule cannot set it; only derived facts "
                    "(`derived: true` in facts.yaml) can be concluded"
                )
            else:
                message = (
                    f"`{key}` cannot be concluded here{suggest(key, allowed_keys)}; "
                    f"a rule here concludes: {', '.join(allowed_keys)}"
                )
            problems.append(source.problem(where, message))
        elif key in OUTCOME_KEYS:
            order = [
                v
                for entry in known.outcomes[key]["precedence"]
                for v in (entry if isinstance(entry, list) else [entry])
            ]
            if value not in order or isinstance(value, bool) != isinstance(order[0], bool):
                problems.append(
                    source.problem(
                        where,
                        (
                            f"{key} `{show(value)}` is not in the precedence order of `{key}` in policy.yaml"
                            f"{suggest(show(value), [show(v) for v in order])}; use one of: "
                            f"{', '.join(show(v) for v in order)}, or add it there"
                        ),
                    )
                )
        elif key in ("conditions", "obligations", "missing"):
            catalogue = {
                "conditions": known.conditions,
                "obligations": known.obligations,
                "missing": {n for n, f in known.facts.items() if not f.derived},
            }[key]
            for name in value if isinstance(value, list) else [value]:
                if name not in catalogue:
                    origin = "facts.yaml" if key == "missing" else f"`{key}:` in policy.yaml"
                    problems.append(
                        source.problem(
                            where,
                            (
                                f"unknown {key[:-1] if key != 'missing' else 'fact'} `{name}`{suggest(name, list(catalogue))};"
                                f" use one from {origin}"
                            ),
                        )
                    )
        else:
            fact = known.facts[key]
            if value not in fact.values:
                problems.append(
                    source.problem(
                        where,
                        (
                            f"`{show(value)}` is not a value of `{key}`{suggest(show(value), list(fact.values))}; "
                            f"the values are: {', '.join(fact.values)}"
                        ),
                    )
                )
    return problems


def check_policy(
    policy: Policy, policy_src: Source, protocol_src: Source, facts_src: Source, all_rules_read: bool
) -> list[Problem]:
    """The checks across files: ids, coverage of the protocol, and rules that can never fire.

    Checks that conclude from something's absence (no rule implements this, no
    rule concludes that) run only when every rule was read: a rule file with a
    syntax error would otherwise show up as a cascade of false problems.
    """
    problems: list[Problem] = []
    problems += _duplicates(
        [(c.id, protocol_src, ("clauses", i, "id")) for i, c in enumerate(policy.clauses)], "protocol statement id"
    )
    problems += _duplicates(
        [(f.name, facts_src, ("facts", i, "name")) for i, f in enumerate(policy.facts)], "fact name"
    )
    for i, fact in enumerate(policy.facts):
        if fact.name in RESERVED:
            problems.append(
                facts_src.problem(
                    ("facts", i, "name"),
                    (f"`{fact.name}` is a name the engine uses itself; choose another name for this fact"),
                )
            )
        if fact.derived and (fact.type != "choice" or fact.required):
            problems.append(
                facts_src.problem(
                    ("facts", i, "type"), ("a derived fact is a `choice` and is never `required` (rules conclude it)")
                )
            )
    if sum(f.type == "items" for f in policy.facts) > 1:
        problems.append(facts_src.problem(("facts",), "the vocabulary may have one `items` fact only"))
    if not any(f.required for f in policy.case_facts):
        problems.append(
            facts_src.problem(
                ("facts",),
                (
                    "no fact is `required: true`; every case must carry at least one (the shipped policy requires `subject`)"
                ),
            )
        )

    seen: dict[str, tuple[str, int]] = {}
    for rule in policy.rules:
        if rule.id in seen:
            file, line = seen[rule.id]
            problems.append(
                Problem(
                    rule.file,
                    rule.line,
                    (f"duplicate rule id `{rule.id}` (first used at {file}:{line}); give each rule its own id"),
                )
            )
        else:
            seen[rule.id] = (rule.file, rule.line)

    problems += _check_outcomes(policy, policy_src)
    if not all_rules_read:
        return problems
    implemented = policy.implemented_by()
    for i, clause in enumerate(policy.clauses):
        if clause.normative and not implemented.get(clause.id):
            problems.append(
                protocol_src.problem(
                    ("clauses", i, "id"),
                    (
                        f"normative statement `{clause.id}` is implemented by no rule; cite it in a rule's "
                        "`implements:`, or mark it `normative: false` with `informative_because:`"
                    ),
                )
            )

    concluded: dict[str, set[Any]] = {f.name: set() for f in policy.derived_facts}
    for rule in policy.rules:
        for name, value in rule.then.derive:
            if name in concluded:  # other names are reported by check_rule
                concluded[name].add(value)
    settled = {name for stratum in policy.derived_strata() for name in stratum}
    for i, fact in enumerate(policy.facts):
        if fact.derived and fact.name not in settled:
            problems.append(
                facts_src.problem(
                    ("facts", i, "name"),
                    (
                        f"derived fact `{fact.name}` is concluded by a rule that reads it, directly or through "
                        "other derived facts, so it can never be settled; conclude it from facts it does not depend on"
                    ),
                )
            )
    for i, fact in enumerate(policy.facts):
        if fact.derived and not concluded[fact.name]:
            problems.append(
                facts_src.problem(
                    ("facts", i, "name"),
                    (
                        f"derived fact `{fact.name}` is concluded by no rule; add a rule whose `then:` sets it, or remove it"
                    ),
                )
            )
    for rule in policy.rules:
        for condition in rule.when:
            if condition.fact in concluded and condition.test == "one_of":
                never = [v for v in condition.values if v not in concluded[condition.fact]]
                if never and len(never) == len(condition.values) and not condition.or_not_given:
                    problems.append(
                        Problem(
                            rule.file,
                            condition.line,
                            (
                                f"no rule ever concludes `{condition.fact}: {', '.join(map(show, never))}`, so rule "
                                f"`{rule.id}` can never fire; conclude it in a rule or change this condition"
                            ),
                        )
                    )
    return problems


def _duplicates(entries: list[tuple[str, Source, tuple[Any, ...]]], what: str) -> list[Problem]:
    first: dict[str, int] = {}
    problems = []
    for key, source, path in entries:
        if key in first:
            problems.append(
                source.problem(
                    path, (f"duplicate {what} `{key}` (first used at line {first[key]}); each must be unique")
                )
            )
        else:
            first[key] = source.line(path)
    return problems


def _check_outcomes(policy: Policy, source: Source) -> list[Problem]:
    problems = []
    for name, outcome in policy.outcomes.items():
        path = ("outcomes", name)
        if not all(isinstance(v, (str, bool, int)) for v in outcome.precedence):
            problems.append(
                source.problem(
                    path + ("precedence",),
                    (f"each entry of `{name}` precedence is a value, or a list of values that rank the same"),
                )
            )
            continue
        if len(set(outcome.precedence)) != len(outcome.precedence):
            problems.append(source.problem(path + ("precedence",), f"`{name}` precedence lists a value twice"))
        if outcome.otherwise not in outcome.precedence:
            problems.append(
                source.problem(
                    path + ("otherwise",),
                    (
                        f"`otherwise: {show(outcome.otherwise)}` is not in the precedence order of `{name}`; "
                        f"use one of: {', '.join(map(show, outcome.precedence))}"
                    ),
                )
            )
        for value in outcome.shares:
            if value not in outcome.precedence:
                problems.append(
                    source.problem(
                        path + ("shares",),
                        (
                            f"`{value}` in `shares` is not a decision in the precedence order; "
                            f"use one of: {', '.join(map(show, outcome.precedence))}"
                        ),
                    )
                )
    decision = policy.outcomes["decision"]
    if not all(isinstance(v, str) for v in decision.precedence) or sorted(decision.precedence) != sorted(
        CONTRACT_DECISIONS
    ):
        problems.append(
            source.problem(
                ("outcomes", "decision", "precedence"),
                (
                    "the decision precedence must list exactly the decisions case systems know: "
                    f"{', '.join(CONTRACT_DECISIONS)} (in the order you choose)"
                ),
            )
        )
    if decision.otherwise in decision.shares:
        problems.append(
            source.problem(
                ("outcomes", "decision", "otherwise"),
                ("the decision when no rule decides must not share; use `refer` or `undetermined`"),
            )
        )
    return problems
