"""An engine that answers a kind of case it has evaluated before from a bounded memo.

A verdict is a function of the rules that fired and of the pieces of
information's own texts, which it repeats (engine/verdict.py). Which rules
fire depends only on what `check --exhaustive` reduces a case to
(engine/analysis/exhaustive.py): each read fact's class of values that no
condition tells apart (`Partition.classes_of`), and each piece's class of
item-field values that no item rule tells apart; facts no rule reads change
nothing. So the key is the reduced case with each piece's reduced pattern,
in order; one memo belongs to one compiled policy, so the policy digest is
part of every key. A hit is the stored verdict with this case's item texts
put back. Every kind still runs in durable-rules the first time it is seen,
and a case outside the vocabulary's classes is never memoised.
`tests/test_memo.py` checks the key against fresh evaluations over the
exhaustive representatives and random members of their classes.

Bounded as an approximate LRU in two generations of at most `size // 2`
entries: a hit in the older generation is copied into the newer one; when
the newer one is full the older is dropped and the newer takes its place.
Lookups take no lock (a dict's get and set are atomic in CPython); only a
miss, which runs the rules under the engine's lock anyway, takes the
memo's lock to insert.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from infoshare.engine.analysis.exhaustive import Partition, classes
from infoshare.engine.evaluator import Engine
from infoshare.engine.policy.model import Condition, Policy
from infoshare.engine.verdict import Verdict

MEMO_SIZE = 4_096  # verdicts kept at most: ~4.7 kB each with the shipped policy, so ~20 MB when full

Key = tuple[Any, ...]


class MemoEngine(Engine):
    """An Engine whose verdicts for a kind of case seen before come from a bounded memo."""

    def __init__(self, policy: Policy, size: int = MEMO_SIZE):
        super().__init__(policy)
        partition = Partition(policy, self)
        lists = {f.name for f in policy.case_facts if f.type == "choices"}
        self._read = [
            (name, name in lists, {_hashable(v): n for n, c in enumerate(found) for v in c.members})
            for name, found in partition.classes.items()
        ]
        self._item_classes = _item_classes(policy)
        self._half = max(1, size // 2)
        self._newer: dict[Key, Verdict] = {}
        self._older: dict[Key, Verdict] = {}
        self._insert = threading.Lock()
        self.hits = 0  # counted without a lock: approximate when threads evaluate at once
        self.misses = 0

    def key(self, case: dict[str, Any]) -> Key | None:
        """The kind of `case` (validated facts), or None where it falls outside the vocabulary's classes."""
        get = case.get
        key: list[Any] = []
        for name, is_list, by_value in self._read:
            value = get(name)
            found = by_value.get(frozenset(value) if is_list and value is not None else value)
            if found is None:
                return None
            key.append(found)
        for piece in get(self._items_fact) or () if self._items_fact else ():
            pattern = tuple(by_value.get(piece.get(name)) for name, by_value in self._item_classes)
            if None in pattern:
                return None
            key.append(pattern)
        return tuple(key)

    def evaluate_valid(self, case: dict[str, Any]) -> Verdict:
        key = self.key(case)
        if key is None:
            return super().evaluate_valid(case)
        found = self._newer.get(key)
        if found is None:
            found = self._older.get(key)
            if found is not None:
                self._newer[key] = found
        if found is None:
            self.misses += 1
            verdict = super().evaluate_valid(case)
            self._put(key, verdict)
            return verdict
        self.hits += 1
        return _with_texts(found, case.get(self._items_fact) if self._items_fact else None)

    def _put(self, key: Key, verdict: Verdict) -> None:
        with self._insert:
            if len(self._newer) >= self._half:
                self._older, self._newer = self._newer, {}
            self._newer[key] = verdict

    def __len__(self) -> int:
        return len(self._newer) + len(self._older)


def _hashable(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list) else value


def _with_texts(verdict: Verdict, pieces: list[dict[str, Any]] | None) -> Verdict:
    """`verdict` for a case of its kind: the same, but with this case's pieces of information."""
    if not pieces:
        return verdict
    answer = object.__new__(Verdict)  # a frozen dataclass's __init__ costs ~2 us of setattr calls; a copy is ~0.3
    answer.__dict__.update(verdict.__dict__)
    answer.__dict__["information"] = [
        {**entry, "item": piece.get("item")} for entry, piece in zip(verdict.information, pieces)
    ]
    return answer


def _item_classes(policy: Policy) -> list[tuple[str, dict[Any, int]]]:
    """Each item field an item rule reads, with its values (None: not given) by class, as
    `check --exhaustive` groups them; a field no rule reads changes nothing, so it is left out."""
    conditions: dict[str, list[Condition]] = defaultdict(list)
    for rule in policy.rules:
        for condition in rule.for_each_item:
            conditions[condition.fact].append(condition)
    return [
        (name, {v: n for n, c in enumerate(classes([True, False, None], found)) for v in c.members})
        for name, found in conditions.items()
    ]
