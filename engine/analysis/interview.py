"""Ask only what the answer still depends on: the interview, proven over the reduced case space.

Given the facts known so far, a fact not yet given is asked only if some
answer to it can change the decision, the confidentiality or whether to
tell the subject (the *outcome*), for some way of answering (or not
answering) the other facts still open. That is decided exactly, with the
reduction and the fold `infoshare check --exhaustive` uses
(``engine.analysis.exhaustive``: ``Masks`` and ``fold``):

- a fact no rule reads can change nothing, and the values of a unit (one
  fact, or a ground's purpose and recipient) that every condition treats
  alike are one class, each with the mask of the rules whose conditions on
  the unit hold; a whole case fires, after its derived facts are settled,
  what the AND of its classes' masks gives (``Masks.fired``), and its
  outcome follows from the fired rules by the engine's own combination
  (``exhaustive.combined_outcome``, which is ``engine.verdict.decide``);
- for an open fact f, the completions of the *other* open facts are folded
  into the distinct masks they can make (``fold``), so millions of
  completions become a few hundred masks; f can change the outcome exactly
  when, for one of those masks (and one answer to f's partner in a pair),
  two of f's value classes give different outcomes. That is a proof over
  every completion, not a sample;
- a completion the policy declares contradictory (facts.yaml
  ``contradictions:``, which refers whatever else the case says) is no
  reason to ask: answers that would contradict the case are not counted as
  changing its outcome (unless the facts given already contradict each
  other: then every completion does, and they are compared among
  themselves, as the confidentiality may still change);
- the answer is *settled* when no open fact can change the outcome.

The fired rules are computed without the engine, so each distinct set the
analysis meets is confirmed in durable-rules the first time a process meets
it: a whole case that gives it is evaluated by the engine, which must fire
exactly those of the rules that conclude an outcome (the others matter only
through them) and reach the same outcome; a disagreement is an EvaluationError (the service fails
closed with a 503). What is learnt (outcomes, confirmations, the analysis of
each partial case) is kept per policy digest, so a case is worked out once.

The order of the questions: first the fact whose answer most often settles
the case at once (the share of its answers after which nothing more can
change the outcome, each answer counted as equally likely, a list fact's
every combination of items as one answer), then, among equals, the one
after whose answer the fewest different outcomes remain possible (the mean
over its answers), then the vocabulary's order.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from infoshare.engine.analysis.exhaustive import (
    Masks,
    Unit,
    ValueClass,
    combined_outcome,
    concludes_outcome,
    domain,
    fold,
)
from infoshare.engine.evaluator import Engine, EvaluationError
from infoshare.engine.policy.model import Policy
from infoshare.engine.verdict import Verdict

OUTCOMES = ("decision", "confidentiality", "explain_to_subject")
Outcome = tuple[Any, ...]  # one value per name in OUTCOMES
OrderKey = tuple[float, float, int]


@dataclass(frozen=True)
class Question:
    """One fact to ask, as a form or the terminal shows it."""

    fact: str
    question: str
    type: str  # choice | choices | boolean
    values: tuple[dict[str, Any], ...]  # {value, label, decisions}: decisions still possible after this answer
    why: str
    separates: dict[str, list[Any]]  # outcome name -> its values the answer still tells apart
    settles: float  # the share of answers after which nothing more can change the outcome

    def to_dict(self) -> dict[str, Any]:
        return {
            "fact": self.fact,
            "question": self.question,
            "type": self.type,
            "values": [dict(v) for v in self.values],
            "why": self.why,
            "separates": {k: list(v) for k, v in self.separates.items()},
            "settles": self.settles,
        }


@dataclass(frozen=True)
class Interview:
    verdict: Verdict
    settled: bool
    questions: tuple[Question, ...]

    @property
    def facts(self) -> list[str]:
        """The facts asked, first question first."""
        return [q.fact for q in self.questions]

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.to_dict(),
            "settled": self.settled,
            "questions": [q.to_dict() for q in self.questions],
        }


@dataclass(frozen=True)
class Witness:
    """Two cases that differ only in `fact` and get different outcomes: why it is asked."""

    fact: str
    cases: tuple[dict[str, Any], dict[str, Any]]


@dataclass(frozen=True)
class Analysis:
    """What is open about one partial case (in value classes), worked out once per policy digest."""

    possible: frozenset[Outcome]  # every outcome some completion of the open facts reaches
    questions: tuple[Question, ...]
    witnesses: tuple[Witness, ...]  # one per question, in the same order

    @property
    def settled(self) -> bool:
        return not self.questions


def interview(engine_or_policy: Engine | Policy, facts: dict[str, Any]) -> Interview:
    """The verdict on `facts` (any subset, as POST /v1/evaluate takes), whether it is settled, and
    the questions whose answers can still change it, best first. Raises FactsInvalid for bad facts."""
    engine = engine_for(engine_or_policy)
    return interview_valid(engine, engine.load(facts))


def interview_valid(engine: Engine, case: dict[str, Any]) -> Interview:
    """As `interview`, for facts already loaded by the policy's facts schema (as the service's are)."""
    verdict = engine.evaluate_valid(case)
    found = analyse(engine, case)
    return Interview(verdict, found.settled, found.questions)


def analyse(engine: Engine, case: dict[str, Any]) -> Analysis:
    """The open questions of a loaded partial case, with a witness for each."""
    return space_for(engine).analysis(case)


def engine_for(engine_or_policy: Engine | Policy) -> Engine:
    if isinstance(engine_or_policy, Engine):
        return engine_or_policy
    return space_for_policy(engine_or_policy).engine


_SPACES: OrderedDict[str, Space] = OrderedDict()
_SPACES_LOCK = threading.Lock()
MAX_POLICIES = 4  # policy versions whose spaces are kept (a reload makes a new one)


def space_for(engine: Engine) -> Space:
    """The reduced space of the engine's policy, shared by every engine of the same digest."""
    digest = engine.policy.digest
    with _SPACES_LOCK:
        space = _SPACES.get(digest)
        if space is None:
            space = _SPACES[digest] = Space(engine)
            while len(_SPACES) > MAX_POLICIES:
                _SPACES.popitem(last=False)
        _SPACES.move_to_end(digest)
        return space


def space_for_policy(policy: Policy) -> Space:
    with _SPACES_LOCK:
        space = _SPACES.get(policy.digest)
    return space if space is not None else space_for(Engine(policy))


class Space:
    """One policy's reduced case space and everything learnt about it so far."""

    MAX_CASES = 8192  # partial cases whose analysis is kept (a few KiB each)

    def __init__(self, engine: Engine):
        self.engine, self.policy = engine, engine.policy
        self.masks = masks = Masks(engine.policy, engine)
        self.case_facts = masks.case_facts
        self.read = [n for n in masks.case_facts if n in masks.read]  # the vocabulary's order
        self._unit_of = {n: u for u in masks.units for n in u.facts}
        bits = list(enumerate(masks.rules))
        # the outcome is what the rules that conclude one (a contradiction concludes `refer`) combine into;
        # the rules that derive facts matter only through which of those fire
        self._deciding = sum(1 << b for b, r in bits if concludes_outcome(r))
        self._relevant = self._deciding | sum(1 << b for b, r in bits if r.then.derive)
        self._deciding_ids = {r.id for r in masks.rules_in(self._deciding)}
        self._contradictions = sum(1 << b for b, r in bits if r.contradiction)
        self._unit_masks = {u: [m & self._relevant for m in found] for u, found in masks.masks.items()}
        self.classes = {n: self._fact_classes(n) for n in self.read}
        self._class_of = {
            n: {_key(v): i for i, c in enumerate(found) for v in c.members} for n, found in self.classes.items()
        }
        self._by_mask: dict[int, tuple[Outcome, bool]] = {}  # AND of class masks -> outcome, contradicted
        self._by_fired: dict[int, tuple[Outcome, bool]] = {}  # fired deciding rules -> the same, confirmed
        self.confirmed: dict[int, dict[str, Any]] = {}  # fired deciding rules -> the case the engine fired them on
        self._lock = threading.RLock()
        self._cases: OrderedDict[tuple[int | None, ...], Analysis] = OrderedDict()

    def _fact_classes(self, name: str) -> list[ValueClass]:
        """`name`'s values that its unit's classes never tell apart, whatever its partner in a pair says."""
        unit = self._unit_of[name]
        if len(unit.facts) == 1:
            return self.masks.classes[unit]
        at = unit.facts.index(name)
        partner = domain(self.case_facts[unit.facts[1 - at]])
        groups: dict[tuple[int, ...], ValueClass] = {}
        for value in domain(self.case_facts[name]):
            key = tuple(self.masks.class_index(unit, _pair(at, value, other)) for other in partner)
            if key in groups:
                groups[key].members.append(value)
            else:
                groups[key] = ValueClass(value, [value])
        return list(groups.values())

    def known_classes(self, case: dict[str, Any]) -> tuple[int | None, ...]:
        """Each read fact's class in the partial case, None where it is not given (still open)."""
        return tuple(self._class_of[n][_key(case[n])] if n in case else None for n in self.read)

    def analysis(self, case: dict[str, Any]) -> Analysis:
        key = self.known_classes(case)
        with self._lock:
            found = self._cases.get(key)
            if found is None:
                found = self._analyse(dict(zip(self.read, key)))
                self._cases[key] = found
                while len(self._cases) > self.MAX_CASES:
                    self._cases.popitem(last=False)
            else:
                self._cases.move_to_end(key)
            return found

    def _choices(self, unit: Unit, known: dict[str, int | None]) -> list[tuple[int, dict[str, Any]]]:
        """The unit's classes its open facts can still put it in, each with the facts of one such case."""
        options = [
            [self.classes[n][known[n]].representative]  # type: ignore[index]
            if known[n] is not None
            else [c.representative for c in self.classes[n]]
            for n in unit.facts
        ]
        out: dict[int, tuple[int, dict[str, Any]]] = {}  # by mask: classes with one mask fire alike
        for values in itertools.product(*options):
            found = self.masks.class_index(unit, values if len(values) > 1 else values[0])
            out.setdefault(self._unit_masks[unit][found], (found, dict(zip(unit.facts, values))))
        return list(out.values())

    def _analyse(self, known: dict[str, int | None]) -> Analysis:
        choices = {u: self._choices(u, known) for u in self.masks.units}
        open_facts = [n for n in self.read if known[n] is None]
        questions: list[tuple[OrderKey, Question, Witness]] = []
        possible: set[Outcome] = set()
        contradictory: set[Outcome] = set()
        for name in open_facts:
            found = self._question(name, known, choices, apart=True)
            possible |= found.possible
            contradictory |= found.contradictory
            if found.question is not None:
                questions.append(found.question)
        if open_facts and not possible:  # the facts given contradict each other: every completion does too,
            questions = []  # so they are compared among themselves (the confidentiality may still change)
            for name in open_facts:
                found = self._question(name, known, choices, apart=False)
                if found.question is not None:
                    questions.append(found.question)
        if not open_facts:
            whole = {n: v for u in self.masks.units for n, v in choices[u][0][1].items()}
            mask = -1
            for unit in self.masks.units:
                mask &= self._unit_masks[unit][choices[unit][0][0]]
            outcome, contradicted = self._outcome(mask, lambda: whole)
            (contradictory if contradicted else possible).add(outcome)
        questions.sort(key=lambda q: q[0])
        return Analysis(
            frozenset(possible or contradictory), tuple(q[1] for q in questions), tuple(q[2] for q in questions)
        )

    def _question(
        self,
        name: str,
        known: dict[str, int | None],
        choices: dict[Unit, list[tuple[int, dict[str, Any]]]],
        apart: bool,
    ) -> _Found:
        """Whether some answer to the open fact `name` changes the outcome of some completion of the other
        open facts that contradicts nothing (with `apart`; else of any completion), the outcomes each of
        its classes still allows, and a witness."""
        unit = self._unit_of[name]
        # the fewest choices first: the known facts' masks narrow every later step of the fold
        rest = sorted((u for u in self.masks.units if u != unit), key=lambda u: len(choices[u]))
        folded = fold([[(self._unit_masks[u][c], 1) for c, _ in choices[u]] for u in rest])
        classes = self.classes[name]
        if len(unit.facts) == 1:
            partners: list[dict[str, Any]] = [{}]
        else:
            other = unit.facts[1 - unit.facts.index(name)]
            given = known[other]
            partners = [{other: c.representative} for c in self.classes[other]]
            if given is not None:
                partners = [partners[given]]
        columns = [
            tuple(
                self._unit_masks[unit][
                    self.masks.class_index(unit, tuple({**partner, name: c.representative}[n] for n in unit.facts))
                    if partner
                    else k
                ]
                for k, c in enumerate(classes)
            )
            for partner in partners
        ]
        # each completion of the other facts gives one outcome per class of this fact: its vector
        vectors: dict[tuple[tuple[Outcome, bool], ...], tuple[tuple[int, ...], int]] = {}  # vector -> where first
        by_mask = self._by_mask
        for at, column in enumerate(columns):
            if len(set(column)) == 1:  # no class of it is told apart from another here
                column = column[:1]
            for (mask, _), (_, chosen) in folded.items():
                both = [mask & unit_mask for unit_mask in column]
                vector: tuple[Any, ...] = tuple(map(by_mask.get, both))
                if None in vector:
                    vector = tuple(
                        self._outcome(
                            m,
                            partial(
                                self._whole, rest, choices, chosen, {**partners[at], name: classes[k].representative}
                            ),
                        )
                        for k, m in enumerate(both)
                    )
                if vector not in vectors:
                    vectors[vector] = (chosen, at)
        after: list[set[Outcome]] = [set() for _ in classes]
        against: list[set[Outcome]] = [set() for _ in classes]  # outcomes of contradictory completions
        separated: dict[str, set[Any]] = defaultdict(set)
        witness: tuple[tuple[int, ...], int, int, int] | None = None
        for vector, (chosen, at) in vectors.items():
            seen: dict[Outcome, int] = {}
            for k in range(len(classes)):
                outcome, contradicted = vector[k if len(vector) > 1 else 0]
                if contradicted and apart:
                    against[k].add(outcome)
                else:
                    after[k].add(outcome)
                    seen.setdefault(outcome, k)
            if len(seen) > 1:
                for j, outcome_name in enumerate(OUTCOMES):
                    if len({o[j] for o in seen}) > 1:
                        separated[outcome_name].update(o[j] for o in seen)
                if witness is None:
                    first, second = list(seen.values())[:2]
                    witness = (chosen, at, first, second)
        possible = {o for found in after for o in found}
        contradictory = {o for found in against for o in found}
        if witness is None:
            return _Found(None, possible, contradictory)
        chosen, at, first, second = witness
        cases = tuple(
            self.masks.case(self._whole(rest, choices, chosen, {**partners[at], name: classes[k].representative}))
            for k in (first, second)
        )
        outcomes_after = [found or against[k] for k, found in enumerate(after)]
        question = self._describe(name, outcomes_after, separated, Witness(name, (cases[0], cases[1])))
        return _Found(question, possible, contradictory)

    def _whole(
        self,
        rest: list[Unit],
        choices: dict[Unit, list[tuple[int, dict[str, Any]]]],
        chosen: tuple[int, ...],
        own: dict[str, Any],
    ) -> dict[str, Any]:
        """A whole case: the other units' facts as `chosen` (positions in their choices), and `own`."""
        out: dict[str, Any] = {}
        for unit, position in zip(rest, chosen):
            out.update(choices[unit][position][1])
        return {**out, **own}

    def _outcome(self, mask: int, example: Callable[[], dict[str, Any]]) -> tuple[Outcome, bool]:
        """The outcome of the cases whose classes' masks AND to `mask`, and whether they contradict
        themselves; a set of fired rules met for the first time is confirmed in durable-rules on `example`."""
        fired = self.masks.fired(mask)[0] & self._deciding
        found = self._by_fired.get(fired)
        if found is None:
            rules = self.masks.rules_in(fired)
            decided = combined_outcome(self.policy, rules)
            found = ((decided.decision, decided.confidentiality, decided.explain), bool(fired & self._contradictions))
            case = self.masks.case(example())
            verdict = self.engine.evaluate(case)
            got = {e["rule"] for e in verdict.rationale} & self._deciding_ids
            if got != {r.id for r in rules} or tuple(getattr(verdict, n) for n in OUTCOMES) != found[0]:
                raise EvaluationError("the rules engine and the interview's analysis disagree on a case")
            self._by_fired[fired] = found
            self.confirmed[fired] = case
        self._by_mask[mask] = found
        return found

    def _describe(
        self, name: str, after: list[set[Outcome]], separated: dict[str, set[Any]], witness: Witness
    ) -> tuple[OrderKey, Question, Witness]:
        fact = self.case_facts[name]
        class_of = self._class_of[name]
        answers = [v for c in self.classes[name] for v in c.members if v is not None]
        settles = sum(len(after[class_of[_key(v)]]) <= 1 for v in answers) / len(answers)
        mean_left = sum(len(after[class_of[_key(v)]]) for v in answers) / len(answers)
        decision_at = OUTCOMES.index("decision")
        if fact.type == "choices":
            values = tuple({"value": v, "label": fact.label(v)} for v in fact.values)
        else:
            values = tuple(
                {
                    "value": v,
                    "label": fact.label(v),
                    "decisions": sorted({o[decision_at] for o in after[class_of[_key(v)]]}),
                }
                for v in fact.allowed_values()
            )
        separates = {k: sorted(separated[k], key=str) for k in OUTCOMES if k in separated}
        why = "The answer can still change " + "; ".join(
            f"{_OUTCOME_WORDS[k]} ({', '.join(_show(v) for v in vs)})" for k, vs in separates.items()
        )
        question = Question(
            fact=fact.name,
            question=fact.question,
            type=fact.type,
            values=values,
            why=why + ".",
            separates=separates,
            settles=round(settles, 4),
        )
        return (-settles, mean_left, self.read.index(name)), question, witness


@dataclass(frozen=True)
class _Found:
    """What one open fact's analysis found: its question (None: no answer to it changes the outcome) and
    the outcomes the completions reach, apart from those of completions that contradict themselves."""

    question: tuple[OrderKey, Question, Witness] | None
    possible: set[Outcome]
    contradictory: set[Outcome]


def _pair(at: int, value: Any, other: Any) -> tuple[Any, Any]:
    return (value, other) if at == 0 else (other, value)


_OUTCOME_WORDS = {
    "decision": "the decision",
    "confidentiality": "whether confidentiality can be offered",
    "explain_to_subject": "whether the subject is told",
}


def _key(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list) else value


def _show(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)
