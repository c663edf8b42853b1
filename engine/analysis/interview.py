"""Ask only what the answer still depends on: the interview, proven over the reduced case space.

Given the facts known so far, a fact not yet given is asked only if some
answer to it can change the decision, the confidentiality or whether to
tell the subject (the *outcome*), for some way of answering (or not
answering) the other facts still open. That is decided exactly, with the
reduction `infoshare check --exhaustive` uses (``engine.analysis.exhaustive``):

- a fact no rule reads can change nothing, and values no rule tells apart
  are one class, so the open facts range over their value classes (each
  with "not given" in one of them);
- the rules fall into components that share no fact; which rules of a
  component fire depends only on its facts (its *behaviour*), and the
  outcome only on which rules fire, so the outcome is a function of one
  behaviour per component. Each behaviour comes from evaluating its
  component in durable-rules; the outcome of a whole case is the engine's
  own combination (``engine.verdict.resolve``) of the rules its components'
  behaviours fire, which is what evaluating that case gives (the docstring
  of ``engine.analysis.exhaustive`` says why; a test evaluates such cases
  in durable-rules and compares).

For the component holding an open fact f, every completion of its open
facts gets a *signature*: its outcome under every combination of the other
components' reachable behaviours. f can change the outcome exactly when
two completions that differ only in f have different signatures; the
answer is *settled* when every completion of every open fact has one and
the same outcome, which is when no open fact can change it. Nothing is
sampled and nothing guessed; what is learnt (behaviours, outcomes, and the
analysis of each partial case) is kept per policy digest, so a case is
worked out once.

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infoshare.engine.analysis.exhaustive import Partition
from infoshare.engine.evaluator import Engine
from infoshare.engine.policy.model import Fact, Policy
from infoshare.engine.verdict import Firing, Verdict, resolve

OUTCOMES = ("decision", "confidentiality", "explain_to_subject")
Outcome = tuple[Any, ...]  # one value per name in OUTCOMES
Row = tuple[int, ...]  # one class per fact of a component, in its order
Context = tuple[int | None, ...]  # one behaviour per component, None for the component being varied
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

    MAX_CASES = 8192  # partial cases whose analysis is kept (a few KiB each; an interview's walks pass ~2,300)
    MAX_SIGNATURES = 128  # combinations of the other components' reach whose outcomes are kept (~50 KiB each)

    def __init__(self, engine: Engine):
        self.engine, self.policy = engine, engine.policy
        self.part = Partition(engine.policy, engine)
        self._lock = threading.RLock()
        self._outcomes: dict[tuple[int, ...], Outcome] = {}
        self._fired: dict[tuple[int, int], list[Firing]] = {}
        self._signature_cache: OrderedDict[
            tuple[int, tuple[tuple[int | None, ...], ...]], tuple[list[Context], dict[int, tuple[Outcome, ...]]]
        ] = OrderedDict()
        self._rules = {r.id: r for r in engine.policy.rules}
        self._cases: OrderedDict[tuple[int | None, ...], Analysis] = OrderedDict()
        read = self.part.read
        self._positions = [[read.index(n) for n in names] for names, _ in self.part.components]
        self._component_of = {n: i for i, (names, _) in enumerate(self.part.components) for n in names}
        self._index = {n: read.index(n) for n in read}

    def known_classes(self, case: dict[str, Any]) -> tuple[int | None, ...]:
        """Each read fact's class in the partial case, None where it is not given (still open)."""
        classes_of = self.part._class_of
        out: list[int | None] = []
        for name in self.part.read:
            if name in case:
                value = case[name]
                out.append(classes_of[name][frozenset(value) if isinstance(value, list) else value])
            else:
                out.append(None)
        return tuple(out)

    def analysis(self, case: dict[str, Any]) -> Analysis:
        key = self.known_classes(case)
        with self._lock:
            found = self._cases.get(key)
            if found is None:
                found = self._analyse(key)
                self._cases[key] = found
                while len(self._cases) > self.MAX_CASES:
                    self._cases.popitem(last=False)
            else:
                self._cases.move_to_end(key)
            return found

    def outcome(self, vector: tuple[int, ...]) -> Outcome:
        """The outcome of a whole case with one behaviour per component: the rules each behaviour fired
        (in durable-rules), combined as the engine combines them."""
        known = self._outcomes.get(vector)
        if known is None:
            firings = [f for index, behaviour in enumerate(vector) for f in self._firings(index, behaviour)]
            verdict = resolve(self.policy, {}, firings, 0)
            known = self._outcomes[vector] = tuple(getattr(verdict, name) for name in OUTCOMES)
        return known

    def _firings(self, index: int, behaviour: int) -> list[Firing]:
        known = self._fired.get((index, behaviour))
        if known is None:
            fired = next(rules for rules, b in self.part._fired[index].items() if b == behaviour)
            known = self._fired[(index, behaviour)] = [
                Firing(self._rules[rule], None, frozenset()) for rule, items in sorted(fired) if not items
            ]
        return known

    def _analyse(self, known: tuple[int | None, ...]) -> Analysis:
        part = self.part
        read = part.read
        # Per component: each completion of its open facts (class choices, in the component's order) and
        # the behaviour it gives.
        completions: list[list[tuple[Row, int]]] = []
        open_slots: list[list[int]] = []
        for index, positions in enumerate(self._positions):
            slots = [k for k, p in enumerate(positions) if known[p] is None]
            ranges: list[Sequence[int]] = []
            for p in positions:
                given = known[p]
                ranges.append(range(len(part.classes[read[p]])) if given is None else (given,))
            rows = [(chosen, part.behaviour(index, chosen)[0]) for chosen in itertools.product(*ranges)]
            completions.append(rows)
            open_slots.append(slots)
        reach = [sorted({b for _, b in rows}) for rows in completions]
        example = [{b: chosen for chosen, b in reversed(rows)} for rows in completions]  # behaviour -> a row

        questions: list[tuple[OrderKey, Question, Witness]] = []
        possible: set[Outcome] = set()
        for index, rows in enumerate(completions):
            others = tuple(tuple(reach[i]) if i != index else (None,) for i in range(len(reach)))
            contexts, signature = self._signatures(index, others, reach[index])
            possible.update(o for b in reach[index] for o in signature[b])
            for slot in open_slots[index]:
                found = self._question(index, slot, rows, signature, contexts, example)
                if found is not None:
                    questions.append(found)
        questions.sort(key=lambda q: q[0])
        return Analysis(frozenset(possible), tuple(q[1] for q in questions), tuple(q[2] for q in questions))

    def _signatures(
        self, index: int, others: tuple[tuple[int | None, ...], ...], behaviours: list[int]
    ) -> tuple[list[Context], dict[int, tuple[Outcome, ...]]]:
        """The contexts (the other components' reachable behaviours, combined) and, for each of this
        component's behaviours, its outcome in every context; kept, as the same reach recurs."""
        key = (index, others)
        known = self._signature_cache.get(key)
        if known is None:
            known = self._signature_cache[key] = (list(itertools.product(*others)), {})
            while len(self._signature_cache) > self.MAX_SIGNATURES:
                self._signature_cache.popitem(last=False)
        else:
            self._signature_cache.move_to_end(key)
        contexts, signature = known
        for behaviour in behaviours:
            if behaviour not in signature:
                signature[behaviour] = tuple(
                    self.outcome(tuple(behaviour if b is None else b for b in ctx)) for ctx in contexts
                )
        return contexts, signature

    def _question(
        self,
        index: int,
        slot: int,
        rows: list[tuple[Row, int]],
        signature: dict[int, tuple[Outcome, ...]],
        contexts: list[Context],
        example: list[dict[int, Row]],
    ) -> tuple[OrderKey, Question, Witness] | None:
        """The question for the open fact in `slot` of component `index`, if its answer can change the outcome."""
        part = self.part
        name = part.components[index][0][slot]
        fact = part.case_facts[name]
        groups: dict[Row, dict[tuple[Outcome, ...], Row]] = defaultdict(dict)  # the rest -> signature -> a row
        after: dict[int, set[tuple[Outcome, ...]]] = defaultdict(set)  # class of this fact -> signatures
        for chosen, behaviour in rows:
            sig = signature[behaviour]
            groups[chosen[:slot] + chosen[slot + 1 :]].setdefault(sig, chosen)
            after[chosen[slot]].add(sig)
        witness: tuple[Row, Row, Context] | None = None
        separated: dict[str, set[Any]] = defaultdict(set)
        done: set[frozenset[tuple[Outcome, ...]]] = set()
        for by_signature in groups.values():
            if len(by_signature) < 2 or (signatures := frozenset(by_signature)) in done:
                continue
            done.add(signatures)
            for k, name_k in enumerate(OUTCOMES):
                if any(len({sig[c][k] for sig in signatures}) > 1 for c in range(len(contexts))):
                    separated[name_k].update(o[k] for sig in signatures for o in sig)
            if witness is None:
                (sig_a, row_a), (sig_b, row_b) = list(by_signature.items())[:2]
                where = next(c for c in range(len(contexts)) if sig_a[c] != sig_b[c])
                witness = (row_a, row_b, contexts[where])
        if witness is None:
            return None
        outcomes_after = {c: {o for sig in sigs for o in sig} for c, sigs in after.items()}
        return self._describe(index, fact, outcomes_after, separated, witness, example)

    def _describe(
        self,
        index: int,
        fact: Fact,
        after: dict[int, set[Outcome]],
        separated: dict[str, set[Any]],
        witness: tuple[Row, Row, Context],
        example: list[dict[int, Row]],
    ) -> tuple[OrderKey, Question, Witness]:
        classes = self.part.classes[fact.name]
        answers = [v for c in classes for v in c.members if v is not None]
        class_of = self.part._class_of[fact.name]
        settling = [len(after[class_of[_key(v)]]) == 1 for v in answers]
        left = [len({o for o in after[class_of[_key(v)]]}) for v in answers]
        settles = sum(settling) / len(answers)
        mean_left = sum(left) / len(answers)
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
        order = (-settles, mean_left, self.part.read.index(fact.name))
        return order, question, self._witness(index, fact.name, witness, example)

    def _witness(
        self, index: int, name: str, found: tuple[Row, Row, Context], example: list[dict[int, Row]]
    ) -> Witness:
        """Whole cases, each a completion of the known facts, differing only in `name`."""
        row_a, row_b, context = found
        part = self.part
        chosen: list[Row | None] = [example[i][b] if b is not None else None for i, b in enumerate(context)]
        cases = []
        for row in (row_a, row_b):
            chosen[index] = row
            whole = {
                n: part.classes[n][c].representative
                for (names, _), rows in zip(part.components, chosen)
                for n, c in zip(names, rows or ())
            }
            cases.append(part.case(whole))
        return Witness(name, (cases[0], cases[1]))


_OUTCOME_WORDS = {
    "decision": "the decision",
    "confidentiality": "whether confidentiality can be offered",
    "explain_to_subject": "whether the subject is told",
}


def _key(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list) else value


def _show(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)
