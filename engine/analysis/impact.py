"""Replay recorded decisions against an edited policy: which verdicts would change, and by which rules.

A decision depends on the case facts only: rules that read a piece of
information (`for each item`) may conclude nothing but the item's own
outcome (the loader refuses anything else), and no case rule reads the
information list, so it is left out of the replay. Case facts are then
reduced as `check --exhaustive` reduces them (engine.exhaustive.Partition):
each value is mapped to its class of values no rule tells apart, each
independent group of facts to the set of rules it makes fire (its
behaviour), and one representative case per combination of behaviours is
evaluated in the engine; every recorded decision with the same behaviours
fires the same rules, so gets the same decision from the same rules. The
engine therefore runs at most as often as `check --exhaustive` does (about
25,000 times for the shipped policy), however many decisions are replayed;
facts outside the edited vocabulary are evaluated as they are, and
refused.

Old rules responsible are found by replaying the changed fact sets under the
version each decision was recorded under, when the caller can supply it
(the service rebuilds it from the store); the old decision itself is always
the recorded one.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from infoshare.engine.analysis.exhaustive import Partition
from infoshare.engine.evaluator import Engine
from infoshare.engine.policy.factschema import FactsInvalid
from infoshare.engine.policy.model import Policy

NOT_ACCEPTED = "not accepted"  # the edited vocabulary refuses these facts


@dataclass
class Change:
    old: str
    new: str
    count: int = 0
    decisions: list[tuple[int, str]] = field(default_factory=list)  # (id, case_ref)
    rules: dict[tuple[tuple[str, ...] | None, tuple[str, ...]], int] = field(default_factory=lambda: defaultdict(int))


class Replay:
    """Feed it recorded decisions in batches; ask for the report at the end."""

    def __init__(self, new: Policy, old_version: Callable[[str], Policy | None]):
        self.new = new
        self._new = DecisionCache(new)
        self._old_version = old_version
        self._old: dict[str, DecisionCache | None] = {}
        self._items = new.items_fact.name if new.items_fact else None
        self.changes: dict[tuple[str, str], Change] = {}
        self.replayed = 0
        self.recorded_under: dict[str, int] = defaultdict(int)  # digest -> decisions recorded under it
        self.started = time.perf_counter()

    def add(self, rows: Iterable[tuple[int, str, dict[str, Any], str, str]]) -> None:
        """Rows of (id, case_ref, facts, recorded decision, recorded policy digest)."""
        for decision_id, case_ref, facts, old, digest in rows:
            self.replayed += 1
            self.recorded_under[digest] += 1
            case = {k: v for k, v in facts.items() if k != self._items}
            new, new_rules = self._new.answer(case)
            if new == old:
                continue
            change = self.changes.get((old, new))
            if change is None:
                change = self.changes[(old, new)] = Change(old, new)
            change.count += 1
            change.decisions.append((decision_id, case_ref))
            change.rules[(self._old_rules_for(digest, case), new_rules)] += 1

    def _recorded(self, digest: str) -> DecisionCache | None:
        """The version a decision was recorded under, if the caller can rebuild it."""
        if digest not in self._old:
            old = self._old_version(digest)
            self._old[digest] = DecisionCache(old) if old is not None else None
        return self._old[digest]

    def _old_rules_for(self, digest: str, case: dict[str, Any]) -> tuple[str, ...] | None:
        answers = self._recorded(digest)
        return answers.answer(case)[1] if answers else None

    def _version_of(self, digest: str) -> str | None:
        answers = self._recorded(digest)
        return answers.engine.policy.version if answers else None

    @property
    def evaluated(self) -> int:
        """Engine evaluations so far, under the edited policy and the recorded versions."""
        return sum(a.evaluated for a in (self._new, *self._old.values()) if a is not None)

    def report(self) -> dict[str, Any]:
        changed = sum(c.count for c in self.changes.values())
        return {
            "policy": {"id": self.new.id, "version": self.new.version, "digest": self.new.digest},
            "recorded_under": [
                {"digest": digest, "version": self._version_of(digest), "decisions": n}
                for digest, n in sorted(self.recorded_under.items(), key=lambda x: -x[1])
            ],
            "replayed": self.replayed,
            "changed": changed,
            "unchanged": self.replayed - changed,
            "evaluated": self.evaluated,
            "seconds": round(time.perf_counter() - self.started, 2),
            "changes": [
                {
                    "from": c.old,
                    "to": c.new,
                    "count": c.count,
                    "because": [
                        {
                            "rules_before": list(before) if before is not None else None,
                            "rules_after": list(after),
                            "count": n,
                        }
                        for (before, after), n in sorted(c.rules.items(), key=lambda x: -x[1])
                    ],
                    "decisions": [{"id": i, "case_ref": ref} for i, ref in c.decisions],
                }
                for c in sorted(self.changes.values(), key=lambda c: -c.count)
            ],
        }


class DecisionCache:
    """One policy's decision and deciding rules for any case, evaluated once per behaviour vector."""

    def __init__(self, policy: Policy):
        self.engine = Engine(policy)
        self.partition = Partition(policy, self.engine)
        self._by_classes: dict[tuple[int, ...], tuple[str, tuple[str, ...]]] = {}
        self._by_vector: dict[tuple[int, ...], tuple[str, tuple[str, ...]]] = {}
        self._outside: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._direct = 0

    @property
    def evaluated(self) -> int:
        return self.partition.evaluated + len(self._by_vector) + self._direct

    def answer(self, case: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        chosen = self.partition.classes_of(case)
        if chosen is None:  # a fact or value the vocabulary does not have: let the engine say so
            key = json.dumps(case, sort_keys=True, default=str)
            if key not in self._outside:
                self._direct += 1
                self._outside[key] = self._decide(case)
            return self._outside[key]
        found = self._by_classes.get(chosen)
        if found is None:
            vector = self.partition.behaviours_of(chosen)
            found = self._by_vector.get(vector)
            if found is None:
                found = self._by_vector[vector] = self._decide(
                    self.partition.case(self.partition.representative(vector))
                )
            self._by_classes[chosen] = found
        return found

    def _decide(self, case: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        try:
            verdict = self.engine.evaluate(case)
        except FactsInvalid:
            return NOT_ACCEPTED, ()
        return verdict.decision, tuple(r["rule"] for r in verdict.rationale if r["role"] == "decided")
