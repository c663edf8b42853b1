"""Replay recorded decisions against an edited policy: which verdicts would change, and by which rules.

Each distinct set of case facts is evaluated once, in the engine, and its
answer reused for every recorded decision with the same facts. That is
sound because a decision depends on the case facts only: rules that read a
piece of information (`for each item`) may conclude nothing but the item's
own outcome (the loader refuses anything else), and no case rule reads the
information list, so the list is left out of the key and of the replay.
Recorded cases repeat a great deal (a few hundred thousand distinct fact
sets cover millions of decisions), so the engine sees each once.

Old rules responsible are found by replaying the changed fact sets under the
version each decision was recorded under, when the caller can supply it
(the service rebuilds it from the store); the old decision itself is always
the recorded one.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .evaluator import Engine
from .factschema import FactsInvalid
from .model import Policy

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
        self._engine = Engine(new)
        self._old_version = old_version
        self._old_engines: dict[str, Engine | None] = {}
        self._items = new.items_fact.name if new.items_fact else None
        self._answers: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._old_rules: dict[tuple[str, str], tuple[str, ...] | None] = {}
        self.changes: dict[tuple[str, str], Change] = {}
        self.replayed = 0
        self.started = time.perf_counter()

    def add(self, rows: Iterable[tuple[int, str, dict[str, Any], str, str]]) -> None:
        """Rows of (id, case_ref, facts, recorded decision, recorded policy digest)."""
        for decision_id, case_ref, facts, old, digest in rows:
            self.replayed += 1
            case = {k: v for k, v in facts.items() if k != self._items}
            key = json.dumps(case, sort_keys=True)
            answer = self._answers.get(key)
            if answer is None:
                answer = self._answers[key] = self._decide(self._engine, case)
            new, new_rules = answer
            if new == old:
                continue
            change = self.changes.get((old, new))
            if change is None:
                change = self.changes[(old, new)] = Change(old, new)
            change.count += 1
            change.decisions.append((decision_id, case_ref))
            change.rules[(self._old_rules_for(digest, key, case), new_rules)] += 1

    def _old_rules_for(self, digest: str, key: str, case: dict[str, Any]) -> tuple[str, ...] | None:
        if (digest, key) not in self._old_rules:
            if digest not in self._old_engines:
                old = self._old_version(digest)
                self._old_engines[digest] = Engine(old) if old is not None else None
            engine = self._old_engines[digest]
            self._old_rules[(digest, key)] = self._decide(engine, case)[1] if engine else None
        return self._old_rules[(digest, key)]

    @staticmethod
    def _decide(engine: Engine, case: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        try:
            verdict = engine.evaluate(case)
        except FactsInvalid:
            return NOT_ACCEPTED, ()
        return verdict.decision, tuple(r["rule"] for r in verdict.rationale if r["role"] == "decided")

    def report(self) -> dict[str, Any]:
        changed = sum(c.count for c in self.changes.values())
        return {
            "policy": {"id": self.new.id, "version": self.new.version, "digest": self.new.digest},
            "replayed": self.replayed,
            "changed": changed,
            "unchanged": self.replayed - changed,
            "distinct_fact_sets": len(self._answers),
            "seconds": round(time.perf_counter() - self.started, 2),
            "changes": [
                {
                    "from": c.old,
                    "to": c.new,
                    "count": c.count,
                    "because": [
                        {"rules_before": list(before) if before is not None else None,
                         "rules_after": list(after), "count": n}
                        for (before, after), n in sorted(c.rules.items(), key=lambda x: -x[1])
                    ],
                    "decisions": [{"id": i, "case_ref": ref} for i, ref in c.decisions],
                }
                for c in sorted(self.changes.values(), key=lambda c: -c.count)
            ],
        }
