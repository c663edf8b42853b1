"""Prove, by evaluating every case that can behave differently, that the policy answers each exactly once.

The space is every combination of the facts the rules read, each with each
of its allowed values and "not given" (a list fact: every subset of its
values, and not given), with one piece of information for every combination
of the item fields the rules read. Every combination is accounted for; only
combinations that provably behave alike are evaluated once. The reduction,
and why it is sound:

1. Facts no rule reads are left out: a rule fires or not by its `when:`
   alone, so such a fact cannot change which rules fire, hence any answer.
2. Values no rule tells apart are one class. Each condition on a fact is
   true or false for each value; values (and "not given") for which every
   condition on that fact comes out the same make exactly the same rules
   fire, so one representative stands for the class. `consent: given` is
   kept apart from the other values because the report below asks about it.
3. Independent parts are enumerated separately. Rules are grouped into
   components that share no fact (derived facts link the rules that
   conclude them to the rules that read them). Which rules of a component
   fire depends only on that component's facts, so the rules that fire on a
   whole case are the union of what fires in each component. Each
   component's combinations are evaluated (the others held at one
   representative) to find its distinct sets of fired rules, its
   *behaviours*; then one case per combination of behaviours is evaluated
   through the engine. That case fires exactly the rules that every case
   with those behaviours fires, and gets the same verdict, because a verdict
   is a function of the rules that fired.

Every verdict here comes from the engine (durable-rules) itself; Python only
partitions values and counts. What is checked on each evaluated case:

- a gap: no rule concludes a decision, so the answer is only the default;
- a conflict: the deciding precedence rank holds two different decisions;
- a `share`-family decision without `consent: given` and without any
  derived fact concluded `yes` (an exception or an overriding duty);
- per rule, where it fires and whether its conclusion ever stands: a rule
  whose every conclusion is overruled wherever it fires is shadowed, and a
  rule that fires on no combination is dead.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from infoshare.engine.evaluator import Engine
from infoshare.engine.policy.model import Condition, Fact, Policy, Rule
from infoshare.engine.policy.problems import Problem

CONSENT = ("consent", "given")  # the fact and value meaning "the subject consents"
ITEMS_NODE = "$items"


def domain(fact: Fact) -> list[Any]:
    """Every value a case can give for `fact`, then None for "not given" (unless it is required)."""
    if fact.type == "choices":
        values: list[Any] = [
            list(c) for n in range(len(fact.values) + 1) for c in itertools.combinations(fact.values, n)
        ]
    else:
        values = list(fact.allowed_values())
    return values if fact.required else values + [None]


def combinations(policy: Policy, names: Iterable[str], fixed: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every combination of the named facts' domains (a fact at None is left out), with `fixed` added."""
    names = list(names)
    facts = {f.name: f for f in policy.facts}
    for values in itertools.product(*(domain(facts[n]) for n in names)):
        yield {**(fixed or {}), **{n: v for n, v in zip(names, values) if v is not None}}


def holds(condition: Condition, value: Any) -> bool:
    """Whether `condition` is true of `value` (None: not given); used only to group values."""
    if value is None:
        return condition.test == "one_of" and condition.or_not_given
    if condition.test == "one_of":
        return value in condition.values
    if condition.test == "none_of":
        return value not in condition.values
    present = set(value) if isinstance(value, list) else {value}
    if condition.test == "includes":
        return all(v in present for v in condition.values)
    if condition.test == "includes_any":
        return any(v in present for v in condition.values)
    return not any(v in present for v in condition.values)  # includes_none


@dataclass
class ValueClass:
    representative: Any
    members: list[Any]

    @property
    def size(self) -> int:
        return len(self.members)


def classes(values: list[Any], conditions: list[Condition], keep_apart: Any = ...) -> list[ValueClass]:
    """`values` grouped by the truth of every condition on them; first member represents."""
    groups: dict[tuple[Any, ...], ValueClass] = {}
    for value in values:
        signature = tuple(holds(c, value) for c in conditions) + (value == keep_apart,)
        if signature in groups:
            groups[signature].members.append(value)
        else:
            groups[signature] = ValueClass(value, [value])
    return list(groups.values())


def _hashable(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list) else value


class Partition:
    """The policy's read facts in value classes and independent components (reductions 1-3 above).

    `behaviour` evaluates one component's class choice through the engine
    (the other components held at their first classes) and names the set of
    that component's rules that fired; cases with the same behaviour in
    every component fire the same rules, so `representative` stands for all.
    """

    def __init__(self, policy: Policy, engine: Engine):
        self.policy, self.engine = policy, engine
        self.case_facts = {f.name: f for f in policy.case_facts if f.type != "items"}
        on_fact: dict[str, list[Condition]] = defaultdict(list)
        for rule in policy.rules:
            for condition in rule.when:
                if condition.fact in self.case_facts:
                    on_fact[condition.fact].append(condition)
        self.read = [n for n in self.case_facts if n in on_fact]
        self.classes = {
            n: classes(domain(self.case_facts[n]), on_fact[n], CONSENT[1] if n == CONSENT[0] else ...)
            for n in self.read
        }
        self._class_of = {
            n: {_hashable(v): i for i, c in enumerate(cs) for v in c.members} for n, cs in self.classes.items()
        }
        self.fixed = {f.name: domain(f)[0] for f in self.case_facts.values() if f.required and f.name not in on_fact}
        self.items = _item_variants(policy)
        self.components = _components(policy, self.read, {f.name for f in policy.derived_facts})
        self._rule_component = {r: i for i, (_, rules) in enumerate(self.components) for r in rules}
        self._positions = [[self.read.index(n) for n in names] for names, _ in self.components]
        self.default = {n: self.classes[n][0].representative for n in self.read}
        self._behaviours: list[dict[tuple[int, ...], int]] = [{} for _ in self.components]
        self._fired: list[dict[frozenset[tuple[str, tuple[int, ...]]], int]] = [{} for _ in self.components]
        self.examples: list[list[dict[str, Any]]] = [[] for _ in self.components]  # behaviour -> partial case
        self._item_rules = {r.id for r in policy.rules if r.is_item_rule}
        self.evaluated = 0

    def case(self, assignment: dict[str, Any], with_items: bool = False) -> dict[str, Any]:
        facts = {**self.fixed, **{n: v for n, v in assignment.items() if v is not None}}
        if with_items and self.items and self.policy.items_fact:
            facts[self.policy.items_fact.name] = self.items
        return facts

    def classes_of(self, facts: dict[str, Any]) -> tuple[int, ...] | None:
        """Each read fact's class in `facts`; None if a fact or value is not in the vocabulary."""
        if not facts.keys() <= self.case_facts.keys() or not self.fixed.keys() <= facts.keys():
            return None
        try:
            return tuple(self._class_of[n][_hashable(facts.get(n))] for n in self.read)
        except (KeyError, TypeError):
            return None

    def behaviour(self, index: int, chosen: tuple[int, ...]) -> tuple[int, Any]:
        """The behaviour id of component `index` with its facts in classes `chosen`, and the verdict
        when it was evaluated here (None when the behaviour was already known)."""
        known = self._behaviours[index].get(chosen)
        if known is not None:
            return known, None
        names, rules = self.components[index]
        partial = {n: self.classes[n][i].representative for n, i in zip(names, chosen)}
        item_rules = any(r in self._item_rules for r in rules)  # only they need the pieces of information
        verdict = self.engine.evaluate(self.case({**self.default, **partial}, with_items=item_rules))
        self.evaluated += 1
        fired = frozenset(
            (e["rule"], tuple(e.get("items", ())))
            for e in verdict.rationale
            if self._rule_component.get(e["rule"]) == index
        )
        found = self._fired[index].setdefault(fired, len(self._fired[index]))
        if found == len(self.examples[index]):
            self.examples[index].append(partial)
        self._behaviours[index][chosen] = found
        return found, verdict

    def behaviours_of(self, chosen: tuple[int, ...]) -> tuple[int, ...]:
        """The behaviour vector of a whole case given each read fact's class."""
        return tuple(
            self.behaviour(i, tuple(chosen[p] for p in positions))[0] for i, positions in enumerate(self._positions)
        )

    def representative(self, vector: tuple[int, ...]) -> dict[str, Any]:
        """A case with behaviour `vector`: it fires exactly the rules every such case fires."""
        assignment = {**self.default}
        for index, behaviour in enumerate(vector):
            assignment.update(self.examples[index][behaviour])
        return assignment


@dataclass
class Finding:
    """Combinations that share one problem, with one example case and how many there are."""

    kind: str  # gap | conflict | share-without-consent
    key: tuple[Any, ...]
    example: dict[str, Any]
    combinations: int = 0
    rules: tuple[str, ...] = ()


@dataclass
class Report:
    facts_read: list[str]
    facts_unread: list[str]
    combinations: int
    item_variants: int
    evaluated: int
    seconds: float
    decisions: dict[str, int]
    findings: list[Finding]
    fired: dict[str, int]
    stood: dict[str, int]
    shadowed: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)

    @property
    def proven(self) -> bool:
        """Each combination yields exactly one decision, and none shares without a basis."""
        return not self.findings


def check_exhaustively(policy: Policy, engine: Engine | None = None) -> Report:
    started = time.perf_counter()
    part = Partition(policy, engine or Engine(policy))
    by_id = {r.id: r for r in policy.rules}
    item_rules = {r.id for r in policy.rules if r.is_item_rule}
    tallies = _Tallies()
    weights: list[dict[int, int]] = []
    for index, (names, rules) in enumerate(part.components):
        weight_of: dict[int, int] = defaultdict(int)
        for chosen in itertools.product(*(range(len(part.classes[n])) for n in names)):
            behaviour, verdict = part.behaviour(index, chosen)
            weight = math.prod(part.classes[n][i].size for n, i in zip(names, chosen))
            weight_of[behaviour] += weight
            if verdict is not None and item_rules & rules:  # items never touch the decision: tallied once here
                tallies.rules(by_id, verdict, weight, item_rules & rules)
        weights.append(dict(weight_of))

    decision = policy.outcomes["decision"]
    case_rules = {r.id for r in policy.rules if not r.is_item_rule}
    for vector in itertools.product(*(sorted(w) for w in weights)):
        assignment = part.representative(vector)
        weight = math.prod(weights[i][b] for i, b in enumerate(vector))
        facts = part.case(assignment)
        verdict = part.engine.evaluate(facts)
        part.evaluated += 1
        tallies.add(by_id, decision, facts, assignment, verdict, weight)
        tallies.rules(by_id, verdict, weight, case_rules)

    space = math.prod(len(domain(part.case_facts[n])) for n in part.read)
    return Report(
        facts_read=part.read,
        facts_unread=[n for n in part.case_facts if n not in part.read],
        combinations=space,
        item_variants=len(part.items),
        evaluated=part.evaluated,
        seconds=time.perf_counter() - started,
        decisions=dict(tallies.decisions),
        findings=list(tallies.findings.values()),
        fired=dict(tallies.fired),
        stood=dict(tallies.stood),
        shadowed=[
            r.id
            for r in policy.rules
            if tallies.fired.get(r.id) and not tallies.stood.get(r.id) and _concludes_outcome(r)
        ],
        dead=[r.id for r in policy.rules if not tallies.fired.get(r.id)],
    )


class _Tallies:
    def __init__(self) -> None:
        self.decisions: dict[str, int] = defaultdict(int)
        self.findings: dict[tuple[Any, ...], Finding] = {}
        self.fired: dict[str, int] = defaultdict(int)
        self.stood: dict[str, int] = defaultdict(int)

    def add(
        self,
        by_id: dict[str, Rule],
        decision: Any,
        facts: dict[str, Any],
        assignment: dict[str, Any],
        verdict: Any,
        weight: int,
    ) -> None:
        self.decisions[verdict.decision] += weight
        on_case = [by_id[e["rule"]] for e in verdict.rationale if not by_id[e["rule"]].is_item_rule]
        concluded = [r.then.decision for r in on_case if r.then.decision]
        if not concluded:
            self._find("gap", (), assignment, weight, ())
        tied = decision.conflict(concluded)
        if tied:
            rules = tuple(r.id for r in on_case if r.then.decision in tied)
            self._find("conflict", rules, assignment, weight, rules)
        derived_yes = any(value == "yes" for r in on_case for _, value in r.then.derive)
        if verdict.decision in decision.shares and facts.get(CONSENT[0]) != CONSENT[1] and not derived_yes:
            rules = tuple(r.id for r in on_case if r.then.decision == verdict.decision)
            self._find("share-without-consent", (verdict.decision, rules), assignment, weight, rules)

    def rules(self, by_id: dict[str, Rule], verdict: Any, weight: int, only: set[str]) -> None:
        """Where each rule in `only` fired, and where its conclusion stood."""
        outcome = {
            "decision": verdict.decision,
            "confidentiality": verdict.confidentiality,
            "explain_to_subject": verdict.explain_to_subject,
        }
        for entry in verdict.rationale:
            rule = by_id[entry["rule"]]
            if rule.id not in only:
                continue
            self.fired[rule.id] += weight
            if rule.is_item_rule:
                stands = any(verdict.information[i]["outcome"] == rule.then.item for i in entry["items"])
            elif rule.then.decision is not None:  # a decision that lost takes its other conclusions with it
                stands = rule.then.decision == verdict.decision
            else:
                stands = any(
                    getattr(rule.then, k) is not None and getattr(rule.then, k) == v for k, v in outcome.items()
                )
            if stands:
                self.stood[rule.id] += weight

    def _find(
        self, kind: str, key: tuple[Any, ...], assignment: dict[str, Any], weight: int, rules: tuple[str, ...]
    ) -> None:
        finding = self.findings.get((kind, key))
        if finding is None:
            example = {n: v for n, v in assignment.items() if v is not None}
            finding = self.findings[(kind, key)] = Finding(kind, key, example, 0, rules)
        finding.combinations += weight


def _concludes_outcome(rule: Rule) -> bool:
    then = rule.then
    return any(v is not None for v in (then.decision, then.confidentiality, then.explain_to_subject, then.item))


def _item_variants(policy: Policy) -> list[dict[str, Any]]:
    """One piece of information per class of item-field values the item rules tell apart."""
    items = policy.items_fact
    if items is None:
        return []
    conditions: dict[str, list[Condition]] = defaultdict(list)
    for rule in policy.rules:
        for condition in rule.for_each_item:
            conditions[condition.fact].append(condition)
    read = [f for f in items.fields if f.name in conditions]
    per_field = [classes([True, False] + ([] if f.required else [None]), conditions[f.name]) for f in read]
    text = next((f.name for f in items.fields if f.type == "text" and f.required), None)
    out = []
    for n, chosen in enumerate(itertools.product(*per_field)):
        piece = {f.name: c.representative for f, c in zip(read, chosen) if c.representative is not None}
        if text:
            piece[text] = f"piece {n + 1}"
        out.append(piece)
    return out


def _components(policy: Policy, read: list[str], derived: set[str]) -> list[tuple[list[str], set[str]]]:
    """Groups of facts, with their rules, that no rule connects to another group."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def nodes(rule: Rule) -> list[str]:
        out = [c.fact for c in rule.when] + [name for name, _ in rule.then.derive]
        return out + ([ITEMS_NODE] if rule.is_item_rule else [])

    for rule in policy.rules:
        linked = nodes(rule) or [f"$rule:{rule.id}"]
        for node in linked[1:]:
            parent[find(node)] = find(linked[0])
        find(linked[0])
    groups: dict[str, tuple[list[str], set[str]]] = {}
    for name in read:
        groups.setdefault(find(name), ([], set()))[0].append(name)
    for rule in policy.rules:
        root = find((nodes(rule) or [f"$rule:{rule.id}"])[0])
        groups.setdefault(root, ([], set()))[1].add(rule.id)
    return list(groups.values())


def problems(report: Report, policy: Policy) -> list[Problem]:
    """Gaps, conflicts and shares without a basis, as the file:line problems `check` prints."""
    by_id = {r.id: r for r in policy.rules}
    out = []
    for finding in report.findings:
        example = ", ".join(f"{k}: {_show(v)}" for k, v in finding.example.items())
        count = f"{finding.combinations:,} combination{'s' if finding.combinations != 1 else ''}"
        if finding.kind == "gap":
            out.append(
                Problem(
                    "rules/",
                    1,
                    (
                        f"no rule decides {count}, e.g. {{{example}}}; they get only the default "
                        f"`{policy.outcomes['decision'].otherwise}`: add a rule that decides them"
                    ),
                )
            )
            continue
        first = by_id[finding.rules[0]] if finding.rules else None
        where = (first.file, first.line) if first else ("rules/", 1)
        if finding.kind == "conflict":
            message = (
                f"rules {', '.join(f'`{r}` ({by_id[r].then.decision})' for r in finding.rules)} "
                f"conclude different decisions of the same precedence rank on {count}, e.g. "
                f"{{{example}}}; rank them apart in policy.yaml or narrow a rule's `when:`"
            )
        else:
            message = (
                f"{finding.key[0]} is reached without consent given and without an exception or "
                f"overriding duty on {count}, e.g. {{{example}}}; narrow the deciding rules' `when:`"
            )
        out.append(Problem(where[0], where[1], message))
    return out


def _show(value: Any) -> str:
    if isinstance(value, list):
        return f"[{', '.join(value)}]"
    return "true" if value is True else "false" if value is False else str(value)
