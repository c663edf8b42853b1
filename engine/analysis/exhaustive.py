"""Prove that the policy answers every case exactly once, on a ground that reaches it.

The space is every combination of the facts the rules read, each with each
of its allowed values and "the case does not say" (a list fact: every subset
of its values, and not given), with one piece of information for every
combination of the item fields the rules read. Every combination is
accounted for; only combinations that provably behave alike are decided
once. The reduction, and why it is sound:

1. Facts no rule reads are left out: a rule fires or not by its `when:`
   alone, so such a fact cannot change which rules fire, hence any answer.
2. Facts tested together (a ground's scope tests the purpose and the
   recipient as a pair) form one *unit*; every other fact is a unit alone.
   A unit's values that every condition on it (and every ground's scope,
   and `consent: given`, which the report asks about) treats alike are one
   class: one representative stands for all its members.
3. Whether a rule's conditions on the case's facts hold is, unit by unit,
   the truth of its conditions on that unit; so each class carries the set
   of rules whose conditions on its unit hold (a bit mask), and a whole
   combination of classes fires, among the rules that read only case facts,
   exactly the AND of its classes' masks. Combinations are folded unit by
   unit into their masks, so the millions of combinations become the few
   thousand distinct sets of rules they can make fire, each with the number
   of combinations behind it.
4. Derived facts are settled in strata, as the evaluator settles them: each
   one's value is the first listed of those its fired rules conclude, and a
   rule that reads it fires when its case conditions hold (its mask bit) and
   its conditions on the settled values hold. The decision then follows
   from the fired rules by the policy's precedence (`verdict.decide`, the
   same code the evaluator's verdicts use).

The rules run in durable-rules for every distinct set of fired rules: one
representative case per set is evaluated in the engine and must fire exactly
the rules predicted (a mismatch is reported as a problem: the proof and the
engine would disagree). What is checked on each distinct set:

- a gap: no rule concludes a decision, so the answer is only the default
  (located at the rules nearest to deciding it: the fewest unmet conditions);
- a conflict: the deciding precedence rank holds two different decisions;
- a `share`-family decision without `consent: given` and without any
  derived fact concluded `yes` (an exception or an overriding duty);
- a `share`-family decision without consent for a purpose and recipient that
  no ground in the decision's chain reaches (grounds.yaml);
- `can_be_offered` on a case that, with another answer about consent, is
  shared without consent;
- per rule, where it fires and whether its conclusion ever stands: a rule
  whose every conclusion is overruled wherever it fires is shadowed, and a
  rule that fires on no combination is dead; and the rules that fire on
  cases contradicting themselves (facts.yaml `contradictions:`).
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from infoshare.engine.evaluator import Engine
from infoshare.engine.policy.model import Condition, Fact, Policy, Rule
from infoshare.engine.policy.problems import Problem
from infoshare.engine.verdict import combined, decide

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


def holds(condition: Condition, value: Any, partner: Any = None) -> bool:
    """Whether `condition` is true of `value` (None: not given), and of `partner` for a pair test."""
    if condition.test in ("pair_in", "pair_out"):
        inside = value is not None and partner is not None and (value, partner) in condition.values
        return inside if condition.test == "pair_in" else not inside
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


def holds_in(condition: Condition, facts: dict[str, Any]) -> bool:
    """Whether `condition` is true of a case's facts (or of settled derived values)."""
    return holds(condition, facts.get(condition.fact), facts.get(condition.partner) if condition.partner else None)


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


class _Classing:
    """What `Partition` and `Masks` share: a case from a class choice, and a case's classes (each
    computes its own classes; a subclass says how a case's values are looked up in them)."""

    policy: Policy
    case_facts: dict[str, Fact]
    fixed: dict[str, Any]
    items: list[dict[str, Any]]

    def case(self, assignment: dict[str, Any], with_items: bool = False) -> dict[str, Any]:
        """The whole case for `assignment`: the fixed required facts added, unset facts left out."""
        facts = {**self.fixed, **{n: v for n, v in assignment.items() if v is not None}}
        if with_items and self.items and self.policy.items_fact:
            facts[self.policy.items_fact.name] = self.items
        return facts

    def classes_of(self, facts: dict[str, Any]) -> tuple[int, ...] | None:
        """The class of each part of `facts`; None if a fact or value is not in the vocabulary."""
        if not facts.keys() <= self.case_facts.keys() or not self.fixed.keys() <= facts.keys():
            return None
        try:
            return tuple(self._class_indices(facts))
        except (KeyError, TypeError):
            return None

    def _class_indices(self, facts: dict[str, Any]) -> Iterator[int]:
        raise NotImplementedError


class Partition(_Classing):  # the interview and impact replay build on its components
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
                for name in condition.facts:
                    if name in self.case_facts:
                        on_fact[name].append(condition)
        self.read = [n for n in self.case_facts if n in on_fact]
        self.classes = {n: self._fact_classes(n, on_fact[n]) for n in self.read}
        self._class_of = {
            n: {_hashable(v): i for i, c in enumerate(cs) for v in c.members} for n, cs in self.classes.items()
        }
        self.fixed = {f.name: domain(f)[0] for f in self.case_facts.values() if f.required and f.name not in on_fact}
        self.items = _item_variants(policy)
        self.components = _fact_components(policy, self.read)
        self._rule_component = {r: i for i, (_, rules) in enumerate(self.components) for r in rules}
        self._positions = [[self.read.index(n) for n in names] for names, _ in self.components]
        self.default = {n: self.classes[n][0].representative for n in self.read}
        self._behaviours: list[dict[tuple[int, ...], int]] = [{} for _ in self.components]
        self._fired: list[dict[frozenset[tuple[str, tuple[int, ...]]], int]] = [{} for _ in self.components]
        self.examples: list[list[dict[str, Any]]] = [[] for _ in self.components]  # behaviour -> partial case
        self._item_rules = {r.id for r in policy.rules if r.is_item_rule}
        self._masks = Masks(policy, engine)
        self._unit_masks: dict[tuple[Unit, tuple[int, ...]], int] = {}
        self._with_items = [any(r in self._item_rules for r in rules) for _, rules in self.components]
        self._ids: dict[tuple[int, int], frozenset[tuple[str, tuple[int, ...]]]] = {}
        self.evaluated = 0

    def _fact_classes(self, name: str, conditions: list[Condition]) -> list[ValueClass]:
        """`name`'s values by the truth of every condition on it; a ground's scope tests two facts, so a
        value's part in it is the set of the other fact's values it holds with."""
        groups: dict[tuple[Any, ...], ValueClass] = {}
        for value in domain(self.case_facts[name]):
            signature: list[Any] = [value == CONSENT[1] if name == CONSENT[0] else False]
            for c in conditions:
                if c.partner is None:
                    signature.append(holds(c, value))
                    continue
                other = c.partner if name == c.fact else c.fact
                first = name == c.fact
                signature.append(
                    frozenset(
                        _hashable(v)
                        for v in domain(self.case_facts[other])
                        if (holds(c, value, v) if first else holds(c, v, value))
                    )
                )
            key = tuple(signature)
            if key in groups:
                groups[key].members.append(value)
            else:
                groups[key] = ValueClass(value, [value])
        return list(groups.values())

    def _class_indices(self, facts: dict[str, Any]) -> Iterator[int]:
        """Each read fact's class in `facts`."""
        return (self._class_of[n][_hashable(facts.get(n))] for n in self.read)

    def behaviour(self, index: int, chosen: tuple[int, ...]) -> tuple[int, Any]:
        """The behaviour id of component `index` with its facts in classes `chosen`, and the verdict
        when it was evaluated here (None when the behaviour was already known)."""
        known = self._behaviours[index].get(chosen)
        if known is not None:
            return known, None
        names, rules = self.components[index]
        partial = {n: self.classes[n][i].representative for n, i in zip(names, chosen)}
        verdict = None
        if self._with_items[index]:  # only item rules need the pieces of information: the engine
            verdict = self.engine.evaluate(self.case({**self.default, **partial}, with_items=True))
            self.evaluated += 1
            fired = frozenset(
                (e["rule"], tuple(e.get("items", ())))
                for e in verdict.rationale
                if self._rule_component.get(e["rule"]) == index
            )
        else:  # the rules a case fires, predicted as `check` proves them (Masks), without the engine
            fired = self._predicted(index, dict(zip(names, chosen)))
        found = self._fired[index].setdefault(fired, len(self._fired[index]))
        if found == len(self.examples[index]):
            self.examples[index].append(partial)
        self._behaviours[index][chosen] = found
        return found, verdict

    def _predicted(self, index: int, chosen: dict[str, int]) -> frozenset[tuple[str, tuple[int, ...]]]:
        """Component `index`'s fired rules with its facts in the classes `chosen` (the others at their
        defaults), folded from the masks `check` uses."""
        masks = self._masks
        mask = -1
        for unit in masks.units:
            key = (unit, tuple(chosen.get(n, 0) for n in unit.facts))  # class 0 holds the default
            unit_mask = self._unit_masks.get(key)
            if unit_mask is None:
                values = tuple(self.classes[n][i].representative for n, i in zip(unit.facts, key[1]))
                found = masks.class_index(unit, values if len(values) > 1 else values[0])
                unit_mask = self._unit_masks[key] = masks.masks[unit][found]
            mask &= unit_mask
        fired, _ = masks.fired(mask)
        ids = self._ids.get((index, fired))
        if ids is None:
            rules = self.components[index][1]
            ids = self._ids[(index, fired)] = frozenset((r.id, ()) for r in masks.rules_in(fired) if r.id in rules)
        return ids

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


def _fact_components(policy: Policy, read: list[str]) -> list[tuple[list[str], set[str]]]:
    """Groups of facts, with their rules, that no rule connects to another group."""

    def nodes(rule: Rule) -> list[str]:
        out = [n for c in rule.when for n in c.facts] + [name for name, _ in rule.then.derive]
        return (out + ([ITEMS_NODE] if rule.is_item_rule else [])) or [f"$rule:{rule.id}"]

    groups = _connected(read, [nodes(rule) for rule in policy.rules])
    return [(names, {policy.rules[position].id for position in rules}) for names, rules in groups]


def _connected(items: Sequence[Any], rule_nodes: Sequence[Sequence[Any]]) -> list[tuple[list[Any], list[int]]]:
    """``items`` in groups, each with the rules (by position) joined to it, where a rule joins every
    node it names (``rule_nodes``: one non-empty list per rule) and no rule joins two groups."""
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for nodes in rule_nodes:
        for node in nodes[1:]:
            parent[find(node)] = find(nodes[0])
        find(nodes[0])
    groups: dict[Any, tuple[list[Any], list[int]]] = {}
    for item in items:
        groups.setdefault(find(item), ([], []))[0].append(item)
    for position, nodes in enumerate(rule_nodes):
        groups.setdefault(find(nodes[0]), ([], []))[1].append(position)
    return list(groups.values())


@dataclass(frozen=True)
class Unit:
    """Facts whose values are classed together: one fact, or a ground's (purpose, recipient) pair."""

    facts: tuple[str, ...]

    def assign(self, value: Any) -> dict[str, Any]:
        values = value if len(self.facts) > 1 else (value,)
        return dict(zip(self.facts, values))


class Masks(_Classing):
    """The policy's read facts in units and value classes, each class with the mask of the rules whose
    conditions on its unit hold (reductions 1-3 above); a combination's *behaviour* is the set of rules
    it fires, found by folding masks and settling derived facts (reduction 4), without the engine.

    `classes_of` classes a case, `behaviours_of` its behaviour, and `representative` a case with that
    behaviour: every case with the same behaviour fires the same rules, so gets the same verdict.
    """

    def __init__(self, policy: Policy, engine: Engine | None = None):
        self.policy, self.engine = policy, engine
        self.case_facts = {f.name: f for f in policy.case_facts if f.type != "items"}
        self.rules = [r for r in policy.rules if not r.is_item_rule]
        self.derived = {f.name for f in policy.derived_facts}
        self._facts = {f.name: f for f in policy.facts}
        self.units = self._units()
        self.read = [n for u in self.units for n in u.facts]
        self.classes: dict[Unit, list[ValueClass]] = {u: self._classes(u) for u in self.units}
        self.masks = {u: [self._mask(u, c.representative) for c in cs] for u, cs in self.classes.items()}
        self._class_of = {
            u: {_hashable_unit(v): i for i, c in enumerate(cs) for v in c.members} for u, cs in self.classes.items()
        }
        self.fixed = {f.name: domain(f)[0] for f in self.case_facts.values() if f.required and f.name not in self.read}
        self.items = _item_variants(policy)
        self._strata = policy.derived_strata()
        self._derived_tests = [
            (bit, r, [c for c in r.when if c.fact in self.derived])
            for bit, r in enumerate(self.rules)
            if any(c.fact in self.derived for c in r.when)
        ]
        self._reads_mask = sum(1 << bit for bit, _, _ in self._derived_tests)
        self._derives: dict[str, list[tuple[int, Any]]] = defaultdict(list)
        for bit, rule in enumerate(self.rules):
            for name, value in rule.then.derive:
                self._derives[name].append((bit, value))
        self._derive_mask = sum(1 << bit for bit, r in enumerate(self.rules) if r.then.derive)
        self._settled: dict[int, tuple[dict[str, Any], int]] = {}
        self._attributes = [_attributes(r) if concludes_outcome(r) else None for r in self.rules]
        self._examples: dict[int, dict[str, Any]] = {}
        self.evaluated = 0

    def _units(self) -> list[Unit]:
        read: list[str] = []
        pairs: list[tuple[str, str]] = []
        for rule in self.rules:
            for c in rule.when:
                for name in c.facts:
                    if name in self.case_facts and name not in read:
                        read.append(name)
                if c.partner and (c.fact, c.partner) not in pairs:
                    pairs.append((c.fact, c.partner))
        units: list[Unit] = []
        paired = {n for p in pairs for n in p}
        for name in read:
            if name in paired:
                pair = next(p for p in pairs if name in p)
                unit = Unit(pair)
                if unit not in units:
                    units.append(unit)
            else:
                units.append(Unit((name,)))
        consent = next((u for u in units if u.facts == (CONSENT[0],)), None)
        if consent is not None:  # last, so that a case and its other answers about consent are folded together
            units.remove(consent)
            units.append(consent)
        return units

    def values(self, unit: Unit) -> list[Any]:
        if len(unit.facts) == 1:
            return domain(self.case_facts[unit.facts[0]])
        return list(itertools.product(*(domain(self.case_facts[n]) for n in unit.facts)))

    def _conditions(self, unit: Unit) -> list[Condition]:
        return [c for r in self.rules for c in r.when if set(c.facts) & set(unit.facts)]

    def _classes(self, unit: Unit) -> list[ValueClass]:
        conditions = self._conditions(unit)
        grounds = self.policy.grounds if len(unit.facts) > 1 else ()
        groups: dict[tuple[Any, ...], ValueClass] = {}
        for value in self.values(unit):
            facts = unit.assign(value)
            signature = (
                tuple(holds_in(c, facts) for c in conditions)
                + tuple(g.reaches(*value) for g in grounds)
                + (facts.get(CONSENT[0]) == CONSENT[1],)
            )
            if signature in groups:
                groups[signature].members.append(value)
            else:
                groups[signature] = ValueClass(value, [value])
        return list(groups.values())

    def _mask(self, unit: Unit, value: Any) -> int:
        facts = unit.assign(value)
        mask = 0
        for bit, rule in enumerate(self.rules):
            if all(holds_in(c, facts) for c in rule.when if set(c.facts) & set(unit.facts)):
                mask |= 1 << bit
        return mask

    def _class_indices(self, facts: dict[str, Any]) -> Iterator[int]:
        """Each unit's class in `facts`."""
        return (
            self._class_of[u][
                _hashable_unit(tuple(facts.get(n) for n in u.facts) if len(u.facts) > 1 else facts.get(u.facts[0]))
            ]
            for u in self.units
        )

    def class_index(self, unit: Unit, value: Any) -> int:
        """The class of `unit` that `value` (a tuple for a pair) belongs to."""
        return self._class_of[unit][_hashable_unit(value)]

    def assignment(self, chosen: tuple[int, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for unit, index in zip(self.units, chosen):
            out.update(unit.assign(self.classes[unit][index].representative))
        return out

    def fired(self, mask: int) -> tuple[int, dict[str, Any]]:
        """The rules a combination whose case conditions hold for the rules in `mask` fires, and its
        derived facts' settled values."""
        settled, passes = self._settle(mask & self._derive_mask)
        return (mask & ~self._reads_mask) | (mask & passes), settled

    def _settle(self, deriving: int) -> tuple[dict[str, Any], int]:
        """The derived values settled when the rules in `deriving` (those that conclude derived facts and
        whose case conditions hold) are considered, and the rules whose tests on derived facts then pass."""
        known = self._settled.get(deriving)
        if known is not None:
            return known
        fired = deriving & ~self._reads_mask
        settled: dict[str, Any] = {}
        passes = 0
        for stratum in self._strata:
            for name in stratum:
                values = [v for bit, v in self._derives[name] if fired >> bit & 1]
                if values:
                    settled[name] = self._facts[name].combine(values)
            for bit, _, tests in self._derived_tests:
                if all(c.fact in settled and holds(c, settled[c.fact]) for c in tests):
                    passes |= 1 << bit
                    if deriving >> bit & 1:
                        fired |= 1 << bit
        self._settled[deriving] = (settled, passes)
        return settled, passes

    def behaviours_of(self, chosen: tuple[int, ...]) -> int:
        """The behaviour (the set of rules fired, as a mask) of a whole case given each unit's class."""
        mask = -1
        for unit, index in zip(self.units, chosen):
            mask &= self.masks[unit][index]
        behaviour, _ = self.fired(mask)
        self._examples.setdefault(behaviour, self.assignment(chosen))
        return behaviour

    def representative(self, behaviour: int) -> dict[str, Any]:
        """A case with `behaviour`: it fires exactly the rules every such case fires."""
        return self._examples[behaviour]

    def rules_in(self, mask: int) -> list[Rule]:
        out = []
        while mask > 0:
            low = mask & -mask
            out.append(self.rules[low.bit_length() - 1])
            mask ^= low
        return out

    def signature(self, mask: int) -> frozenset[tuple[Any, ...]]:
        """What decides a combined outcome: each fired rule's decision, confidentiality, explanation and
        whether it is a contradiction."""
        out = set()
        while mask > 0:
            low = mask & -mask
            attributes = self._attributes[low.bit_length() - 1]
            if attributes is not None:
                out.add(attributes)
            mask ^= low
        return frozenset(out)


def _hashable_unit(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, tuple) else _hashable(value)


@dataclass
class Finding:
    """Combinations that share one problem, with one example case and how many there are."""

    kind: str  # gap | conflict | share-without-consent | share-outside-scope | confidentiality | engine
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
    behaviours: int = 0
    on_contradictions: dict[str, list[str]] = field(default_factory=dict)  # contradiction -> other rules firing

    @property
    def proven(self) -> bool:
        """Each combination yields exactly one decision, and none shares without a basis."""
        return not self.findings


def check_exhaustively(policy: Policy, engine: Engine | None = None, sample: int = 150) -> Report:
    """Fold each component's combinations into its behaviours, then combine the components by what
    their rules conclude (reduction 3 of the module docstring); `sample` behaviours of the largest
    component, and every case with a finding, are evaluated in the engine to confirm the prediction."""
    started = time.perf_counter()
    engine = engine or Engine(policy)
    part = Masks(policy, engine)
    tallies = _Tallies(policy)
    components = [_fold(part, units, rules) for units, rules in _components(part)]
    if components:
        main = max(components, key=lambda c: len(c.behaviours))
        combos = _combos([c for c in components if c is not main])
        _combine(part, engine, tallies, main, combos, sample)
    space = math.prod(len(part.values(u)) for u in part.units)
    tallies.items(part, engine, space)
    return Report(
        facts_read=part.read,
        facts_unread=[n for n in part.case_facts if n not in part.read],
        combinations=space,
        item_variants=len(part.items),
        evaluated=tallies.evaluated,
        seconds=time.perf_counter() - started,
        decisions=dict(tallies.decisions),
        findings=list(tallies.findings.values()),
        fired=dict(tallies.fired),
        stood=dict(tallies.stood),
        shadowed=[
            r.id
            for r in policy.rules
            if tallies.fired.get(r.id) and not tallies.stood.get(r.id) and concludes_outcome(r)
        ],
        dead=[r.id for r in policy.rules if not tallies.fired.get(r.id)],
        behaviours=sum(len(c.behaviours) for c in components),
        on_contradictions={k: sorted(v) for k, v in tallies.contradicted.items()},
    )


@dataclass
class _Behaviour:
    mask: int
    rules: list[Rule]
    weight: int
    facts: dict[str, Any]  # one case of the component's facts with this behaviour
    settled: dict[str, Any]
    signature: frozenset[tuple[Any, ...]]

    @property
    def consented(self) -> bool:
        return self.facts.get(CONSENT[0]) == CONSENT[1]


@dataclass
class _Component:
    """One component's behaviours; `groups` holds them by the combination of the other units, so a
    case's answers about consent (the last unit) sit together."""

    behaviours: dict[int, _Behaviour]
    groups: list[list[tuple[_Behaviour, int, tuple[int, ...]]]]
    facts: Any  # the facts of a combination of the component's classes


@dataclass
class _Combo:
    """One behaviour group (by signature) from each of the smaller components."""

    rules: list[Rule]  # a representative's rules, for the combined outcome
    weight: int
    facts: dict[str, Any]
    members: list[list[_Behaviour]]  # per component, the behaviours of the group


def _attributes(rule: Rule) -> tuple[Any, ...]:
    return (rule.then.decision, rule.then.confidentiality, rule.then.explain_to_subject, rule.contradiction)


def _components(part: Masks) -> list[tuple[list[Unit], int]]:
    """Units with their rules that no rule connects to another group (derived facts link the rules
    that conclude and read them)."""
    unit_of = {n: u for u in part.units for n in u.facts}
    rule_nodes: list[list[Any]] = []
    for bit, rule in enumerate(part.rules):
        nodes: list[Any] = [unit_of[n] for c in rule.when for n in c.facts if n in unit_of]
        nodes += [("derived", c.fact) for c in rule.when if c.fact in part.derived]
        nodes += [("derived", n) for n, _ in rule.then.derive]
        rule_nodes.append(nodes or [("rule", bit)])
    return [(units, sum(1 << bit for bit in bits)) for units, bits in _connected(part.units, rule_nodes)]


Folded = dict[tuple[int, tuple[int, ...]], tuple[int, tuple[int, ...]]]


def fold(units: Sequence[Sequence[tuple[int, int]]], start: int = -1, apart: Container[int] = ()) -> Folded:
    """Every choice of one class per unit (each class given as its mask and its size), folded into the
    distinct ANDs of the chosen masks with `start` (reduction 3): each with the number of value
    combinations behind it and the first choice (class positions, one per unit) that made it. The
    classes of the units whose positions are in `apart` are kept apart (in the key), never merged.
    `check --exhaustive` folds the whole space so; the interview folds the completions of a partial case."""
    folded: Folded = {(start, ()): (1, ())}
    for position, classes_here in enumerate(units):
        step: Folded = {}
        is_apart = position in apart
        for (mask, tags), (weight, chosen) in folded.items():
            for index, (unit_mask, size) in enumerate(classes_here):
                key = (mask & unit_mask, tags + (index,) if is_apart else tags)
                known = step.get(key)
                add = weight * size
                step[key] = (known[0] + add, known[1]) if known else (add, chosen + (index,))
        folded = step
    return folded


def _fold(part: Masks, units: list[Unit], own: int) -> _Component:
    """Every combination of `units`' classes, folded into the behaviours of the rules in `own`."""
    # a pair's class decides the scope property: never merged
    folded = fold(
        [list(zip(part.masks[u], (c.size for c in part.classes[u]))) for u in units[:-1]],
        own,
        {k for k, u in enumerate(units[:-1]) if len(u.facts) > 1},
    )
    last = units[-1]
    behaviours: dict[int, _Behaviour] = {}
    groups = []

    assigned = [[u.assign(c.representative) for c in part.classes[u]] for u in units]

    def facts_of(chosen: tuple[int, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for values, index in zip(assigned, chosen):
            out.update(values[index])
        return out

    last_masks, last_sizes = part.masks[last], [c.size for c in part.classes[last]]
    for (mask, _), (weight, chosen) in folded.items():
        group = []
        for index, last_mask in enumerate(last_masks):
            fired, settled = part.fired(mask & last_mask)
            add = weight * last_sizes[index]
            found = behaviours.get(fired)
            if found is None:
                found = behaviours[fired] = _Behaviour(
                    fired, part.rules_in(fired), 0, facts_of(chosen + (index,)), settled, part.signature(fired)
                )
            found.weight += add
            group.append((found, add, chosen + (index,)))
        groups.append(group)
    return _Component(behaviours, groups, lambda chosen: facts_of(chosen))


def _combos(components: list[_Component]) -> list[_Combo]:
    """Every combination of the smaller components' behaviours, grouped by what their rules conclude."""
    combos = [_Combo([], 1, {}, [])]
    for component in components:
        by_signature: dict[frozenset[tuple[Any, ...]], list[_Behaviour]] = {}
        for behaviour in component.behaviours.values():
            by_signature.setdefault(behaviour.signature, []).append(behaviour)
        combos = [
            _Combo(
                combo.rules + group[0].rules,
                combo.weight * sum(b.weight for b in group),
                {**combo.facts, **group[0].facts},
                combo.members + [group],
            )
            for combo in combos
            for group in by_signature.values()
        ]
    return combos


def _combine(
    part: Masks, engine: Engine, tallies: _Tallies, main: _Component, combos: list[_Combo], sample: int
) -> None:
    policy = part.policy
    outcomes: dict[tuple[frozenset[tuple[Any, ...]], int], _Outcome] = {}
    standing: dict[
        tuple[frozenset[tuple[Any, ...]], tuple[Any, ...]], int
    ] = {}  # (main signature, rule attributes) -> weight where it stands
    combo_total = sum(c.weight for c in combos)
    by_signature: dict[frozenset[tuple[Any, ...]], int] = defaultdict(int)
    verified: set[int] = set()

    def outcome_of(behaviour: _Behaviour, k: int) -> _Outcome:
        key = (behaviour.signature, k)
        found = outcomes.get(key)
        if found is None:
            found = outcomes[key] = combined_outcome(policy, behaviour.rules + combos[k].rules)
        return found

    shares = set(policy.outcomes["decision"].shares)
    flagged: dict[int, list[int]] = {}  # behaviour -> combos where it is shared without consent
    for behaviour in main.behaviours.values():
        by_signature[behaviour.signature] += behaviour.weight
        flagged[behaviour.mask] = []
        for k, combo in enumerate(combos):
            outcome = outcome_of(behaviour, k)
            tallies.decisions[outcome.decision] += behaviour.weight * combo.weight
            if outcome.decision in shares and not behaviour.consented:
                flagged[behaviour.mask].append(k)
        tallies.contradictions(behaviour.rules)
    odd = {
        b.mask
        for b in main.behaviours.values()
        if flagged[b.mask] or any(outcome_of(b, k).tied or not outcome_of(b, k).concluded for k in range(len(combos)))
    }
    for group in main.groups:
        if not any(behaviour.mask in odd for behaviour, _, _ in group):
            continue
        suspects = {k for behaviour, _, _ in group for k in flagged[behaviour.mask]}
        for behaviour, weight, chosen in group:
            for k, combo in enumerate(combos):
                outcome = outcome_of(behaviour, k)
                if k in flagged[behaviour.mask] or outcome.tied or not outcome.concluded:
                    whole = {**combo.facts, **main.facts(chosen)}
                    if tallies.add(part, outcome, behaviour, combo, whole, weight * combo.weight) and (
                        behaviour.mask not in verified
                    ):
                        verified.add(behaviour.mask)
                        tallies.verify(part, engine, behaviour.rules + combo.rules, whole)
                if k in suspects and outcome.confidentiality == "can_be_offered":
                    # a case and its other answers about consent: none may offer confidentiality
                    tallies.offered(
                        behaviour.rules + combo.rules, {**combo.facts, **main.facts(chosen)}, weight * combo.weight
                    )
    for behaviour in main.behaviours.values():  # where each rule of the main component fires and stands
        for rule in behaviour.rules:
            tallies.fired[rule.id] += behaviour.weight * combo_total
            key = (behaviour.signature, _attributes(rule))
            if key not in standing:
                standing[key] = sum(c.weight for k, c in enumerate(combos) if _stands(rule, outcome_of(behaviour, k)))
            tallies.stood[rule.id] += behaviour.weight * standing[key]
    for k, combo in enumerate(combos):  # and of the smaller components, against every main behaviour
        for members in combo.members:
            group_weight = sum(b.weight for b in members)
            rest = combo.weight // group_weight
            for behaviour in members:
                for rule in behaviour.rules:
                    tallies.fired[rule.id] += behaviour.weight * rest * sum(by_signature.values())
                    stands = sum(
                        w
                        for sig, w in by_signature.items()
                        if _stands(rule, outcomes.get((sig, k)) or combined_outcome(policy, []))
                    )
                    tallies.stood[rule.id] += behaviour.weight * rest * stands
    every = sorted(main.behaviours)
    for mask in every[:: max(1, len(every) // max(1, sample))]:
        if mask not in verified:
            behaviour = main.behaviours[mask]
            tallies.verify(part, engine, behaviour.rules + combos[0].rules, {**combos[0].facts, **behaviour.facts})


def _stands(rule: Rule, outcome: _Outcome) -> bool:
    if rule.then.decision is not None:
        return rule.then.decision == outcome.decision and (rule.contradiction or not outcome.contradicted)
    return (rule.then.confidentiality is not None and rule.then.confidentiality == outcome.confidentiality) or (
        rule.then.explain_to_subject is not None and rule.then.explain_to_subject == outcome.explain
    )


@dataclass
class _Outcome:
    decision: str
    confidentiality: Any
    explain: Any
    tied: tuple[str, ...]
    contradicted: bool
    concluded: bool


def combined_outcome(policy: Policy, rules: list[Rule]) -> _Outcome:
    """What rules with these conclusions combine into; shared by every behaviour with the same signature,
    so it holds no rule of its own (`decide` gives a behaviour's own deciding rules)."""
    decided = decide(policy, rules)
    return _Outcome(
        decision=decided.decision,
        confidentiality=combined(policy, "confidentiality", decided.standing),
        explain=combined(policy, "explain_to_subject", decided.standing),
        tied=decided.tied,
        contradicted=any(r.contradiction for r in rules),
        concluded=any(r.then.decision for r in rules),
    )


def _chain(rules: list[Rule], decisive: tuple[Rule, ...], settled: dict[str, Any]) -> list[Rule]:
    """The decisive rules and the rules whose conclusions became the derived values they read."""
    chain: list[Rule] = []
    todo = list(decisive)
    while todo:
        rule = todo.pop()
        if rule in chain:
            continue
        chain.append(rule)
        for condition in rule.when:
            if condition.fact in settled:
                todo += [r for r in rules if (condition.fact, settled[condition.fact]) in r.then.derive]
    return chain


class _Tallies:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.decision = policy.outcomes["decision"]
        self.decisions: dict[str, int] = defaultdict(int)
        self.findings: dict[tuple[Any, ...], Finding] = {}
        self.fired: dict[str, int] = defaultdict(int)
        self.stood: dict[str, int] = defaultdict(int)
        self.contradicted: dict[str, set[str]] = defaultdict(set)
        self.evaluated = 0
        self._chains: dict[tuple[Any, ...], list[Rule]] = {}

    def verify(self, part: Masks, engine: Engine, rules: list[Rule], facts: dict[str, Any]) -> None:
        """The engine itself must fire exactly the rules the fold predicts for this case."""
        verdict = engine.evaluate(part.case(facts))
        self.evaluated += 1
        got = {e["rule"] for e in verdict.rationale}
        want = {r.id for r in rules}
        if got != want:
            differ = tuple(sorted(got ^ want))
            self._find("engine", differ, facts, 1, differ)

    def add(
        self, part: Masks, outcome: _Outcome, behaviour: _Behaviour, combo: _Combo, facts: dict[str, Any], weight: int
    ) -> bool:
        """Tally one combination of behaviours; whether it has a finding."""
        decision = outcome.decision
        rules = behaviour.rules + combo.rules
        found = False
        if not outcome.concluded:
            nearest = _nearest(part, facts, behaviour.settled)
            found = self._find("gap", nearest, facts, weight, nearest)
        if outcome.tied:
            tied = tuple(r.id for r in rules if r.then.decision in outcome.tied)
            found = self._find("conflict", tied, facts, weight, tied)
        if decision in self.decision.shares and facts.get(CONSENT[0]) != CONSENT[1]:
            decisive = decide(self.policy, rules).decisive
            deciding = tuple(r.id for r in decisive)
            if "yes" not in behaviour.settled.values():
                found = self._find("share-without-consent", (decision, deciding), facts, weight, deciding)
            elif self.policy.grounds:
                key = (behaviour.mask, deciding, tuple(r.id for r in combo.rules))
                chain = self._chains.get(key)
                if chain is None:
                    chain = self._chains[key] = _chain(rules, decisive, behaviour.settled)
                if not _reached(self.policy, chain, facts):
                    ids = tuple(r.id for r in chain)
                    found = self._find("share-outside-scope", (decision, ids), facts, weight, ids)
        return found

    def contradictions(self, rules: list[Rule]) -> None:
        """The rules that fire on a case that contradicts itself and read one of the contradicting facts."""
        for contradiction in (r for r in rules if r.contradiction):
            facts_of = {c.fact for c in contradiction.when}
            self.contradicted[contradiction.id] |= {
                r.id for r in rules if not r.contradiction and any(c.fact in facts_of for c in r.when)
            }

    def offered(self, rules: list[Rule], facts: dict[str, Any], weight: int) -> None:
        """Confidentiality offered where another answer about consent is shared without consent."""
        offering = tuple(
            r.id for r in decide(self.policy, rules).standing if r.then.confidentiality == "can_be_offered"
        )
        self._find("confidentiality", offering, facts, weight, offering)

    def items(self, part: Masks, engine: Engine, space: int) -> None:
        """Item rules conclude only an item's outcome: one case with every kind of piece shows them all."""
        if not part.items:
            return
        verdict = engine.evaluate(part.case(part.assignment(tuple(0 for _ in part.units)), with_items=True))
        self.evaluated += 1
        by_id = {r.id: r for r in self.policy.rules}
        for entry in verdict.rationale:
            rule = by_id[entry["rule"]]
            if not rule.is_item_rule:
                continue
            self.fired[rule.id] += space
            if any(verdict.information[i]["outcome"] == rule.then.item for i in entry["items"]):
                self.stood[rule.id] += space

    def _find(
        self, kind: str, key: tuple[Any, ...], facts: dict[str, Any], weight: int, rules: tuple[str, ...]
    ) -> bool:
        finding = self.findings.get((kind, key))
        if finding is None:
            example = {n: v for n, v in facts.items() if v is not None}
            finding = self.findings[(kind, key)] = Finding(kind, key, example, 0, rules)
        finding.combinations += weight
        return True


def _reached(policy: Policy, chain: list[Rule], facts: dict[str, Any]) -> bool:
    """Whether a ground in the decision's chain reaches the case's purpose and recipient."""
    for rule in chain:
        for condition in rule.when:
            ground = policy.ground(condition.ground) if condition.test == "pair_in" and condition.ground else None
            if ground and ground.reaches(facts.get(condition.fact), facts.get(condition.partner or "")):
                return True
    return False


def _nearest(part: Masks, facts: dict[str, Any], settled: dict[str, Any]) -> tuple[str, ...]:
    """The rules that conclude a decision with the fewest conditions unmet on this case."""
    values = {**facts, **settled}
    unmet = {
        rule.id: sum(not holds_in(c, values) for c in rule.when)
        for rule in part.rules
        if rule.then.decision is not None and not rule.contradiction
    }
    if not unmet:
        return ()
    least = min(unmet.values())
    return tuple(r for r, n in unmet.items() if n == least)


def concludes_outcome(rule: Rule) -> bool:
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


def problems(report: Report, policy: Policy) -> list[Problem]:
    """Every finding as the file:line problem `check` prints, at the rules nearest to it."""
    by_id = {r.id: r for r in policy.rules}
    out = []
    for finding in report.findings:
        example = ", ".join(f"{k}: {_show(v)}" for k, v in finding.example.items())
        count = f"{finding.combinations:,} combination{'s' if finding.combinations != 1 else ''}"
        first = by_id.get(finding.rules[0]) if finding.rules else None
        where = (first.file, first.line) if first else ("rules/", 1)
        if finding.kind == "gap":
            nearest = ", ".join(f"`{r}` ({by_id[r].file}:{by_id[r].line})" for r in finding.rules) or "none"
            message = (
                f"no rule decides {count}, e.g. {{{example}}}; they get only the default "
                f"`{policy.outcomes['decision'].otherwise}`. The rules nearest to deciding them: {nearest}; "
                "widen one of them, or add a rule that decides them"
            )
        elif finding.kind == "conflict":
            message = (
                f"rules {', '.join(f'`{r}` ({by_id[r].then.decision})' for r in finding.rules)} "
                f"conclude different decisions of the same precedence rank on {count}, e.g. "
                f"{{{example}}}; rank them apart in policy.yaml or narrow a rule's `when:`"
            )
        elif finding.kind == "share-without-consent":
            message = (
                f"{finding.key[0]} is reached without consent given and without an exception or "
                f"overriding duty on {count}, e.g. {{{example}}}; narrow the deciding rules' `when:`"
            )
        elif finding.kind == "share-outside-scope":
            message = (
                f"{finding.key[0]} is reached without consent on {count} whose purpose and recipient no ground "
                f"in the decision reaches (grounds.yaml), e.g. {{{example}}}; test "
                "`purpose and recipient: {within: <ground>}` in the rule that concludes the ground"
            )
        elif finding.kind == "confidentiality":
            message = (
                f"confidentiality is offered on {count} that, with another answer about consent, are shared "
                f"without consent, e.g. {{{example}}}; narrow this rule's `when:` so it holds only where nothing "
                "can lead to sharing without consent"
            )
        else:
            message = (
                f"the engine fires other rules than the proof predicts ({', '.join(finding.rules)}) on "
                f"{{{example}}}: the proof cannot vouch for this policy; report it with the policy attached"
            )
        out.append(Problem(where[0], where[1], message))
    return out


def _show(value: Any) -> str:
    if isinstance(value, list):
        return f"[{', '.join(value)}]"
    return "true" if value is True else "false" if value is False else str(value)
