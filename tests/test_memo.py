"""The verdict memo: a case of a kind seen before gets exactly the verdict a fresh evaluation gives.

The key is `check --exhaustive`'s reduction; these tests check it is sound
on the shipped policy by drawing kinds of case (a class per read fact, a
class per piece's read fields), then several cases of each kind with
different members of the same classes, different unread facts and
different item texts, and comparing what the memo answers with what an
engine without a memo answers. A key coarser than the reduction (one read
fact left out) is caught by the same comparison.
"""

from __future__ import annotations

import json
import random
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from infoshare.engine import Engine, FactsInvalid, Policy
from infoshare.engine.analysis.exhaustive import Partition, domain
from infoshare.engine.analysis.memo import MemoEngine
from infoshare.engine.policy.factschema import load_facts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from corpus import make_corpus  # noqa: E402

KINDS = 150  # kinds of case drawn; each evaluated fresh and through the memo
MEMBERS = 3  # cases of each kind


def draw_kind(policy: Policy, part: Partition, memo: MemoEngine, draw: random.Random) -> dict[str, Any]:
    """A kind: a class of each read fact, and 0-3 pieces each with a class of its read fields."""
    pieces = []
    for _ in range(draw.randint(0, 3)):
        pieces.append({name: draw.choice(sorted(set(by.values()))) for name, by in memo._item_classes})
    return {"facts": {n: draw.randrange(len(cs)) for n, cs in part.classes.items()}, "pieces": pieces}


def draw_case(policy: Policy, part: Partition, memo: MemoEngine, kind: dict[str, Any], draw: random.Random) -> dict:
    """A case of `kind`: any member of each class, any value of each unread fact, any texts."""
    case: dict[str, Any] = {}
    for fact in policy.case_facts:
        if fact.type == "items":
            continue
        if fact.name in kind["facts"]:
            value = draw.choice(part.classes[fact.name][kind["facts"][fact.name]].members)
        else:
            value = draw.choice(domain(fact))
        if value is not None:
            case[fact.name] = list(value) if isinstance(value, list) else value
    items = policy.items_fact
    if items is None:
        return case
    required = {f.name for f in items.fields if f.required}
    pieces = []
    for n, pattern in enumerate(kind["pieces"]):
        piece: dict[str, Any] = {"item": f"piece {n} #{draw.randrange(10**6)}"}
        for field in items.fields:
            by = dict(memo._item_classes).get(field.name)
            if by is None:  # a field no rule reads: any value
                if field.type == "boolean" and draw.random() < 0.7:
                    piece[field.name] = draw.random() < 0.5
                continue
            choices = [
                v for v, c in by.items() if c == pattern[field.name] and (v is not None or field.name not in required)
            ]
            value = draw.choice(choices)
            if value is not None:
                piece[field.name] = value
        pieces.append(piece)
    case[items.name] = pieces
    return case


def as_json(verdict: Any) -> str:
    return json.dumps(verdict.to_dict(), sort_keys=True)


def compare(policy: Policy, memo: MemoEngine, fresh: Engine, seed: int, free: str = "") -> tuple[int, int]:
    """(cases whose memo verdict differs from a fresh one, memo hits) over KINDS kinds; the
    fact named `free` is drawn from all its classes in each case, as if the key left it out."""
    part = Partition(policy, fresh)
    draw = random.Random(seed)
    wrong = 0
    for _ in range(KINDS):
        kind = draw_kind(policy, part, memo, draw)
        for _ in range(MEMBERS):
            if free:
                kind["facts"][free] = draw.randrange(len(part.classes[free]))
            case = draw_case(policy, part, memo, kind, draw)
            wrong += as_json(memo.evaluate(case)) != as_json(fresh.evaluate(case))
    return wrong, memo.hits


@pytest.fixture(scope="module")
def fresh(shipped_policy: Policy) -> Engine:
    return Engine(shipped_policy)


def test_a_kind_seen_before_gets_the_verdict_a_fresh_evaluation_gives(shipped_policy: Policy, fresh: Engine) -> None:
    memo = MemoEngine(shipped_policy)
    wrong, hits = compare(shipped_policy, memo, fresh, seed=19)
    assert wrong == 0
    assert memo.misses <= KINDS and hits >= KINDS * (MEMBERS - 1)  # the members after the first were hits


def test_the_comparison_catches_a_key_that_leaves_a_read_fact_out(shipped_policy: Policy, fresh: Engine) -> None:
    memo = MemoEngine(shipped_policy)
    memo._read = [r for r in memo._read if r[0] != "consent"]
    wrong, _ = compare(shipped_policy, memo, fresh, seed=19, free="consent")
    assert wrong > 0


def test_the_corpus_gets_the_same_verdicts_both_ways(shipped_policy: Policy, fresh: Engine) -> None:
    memo = MemoEngine(shipped_policy)
    corpus = make_corpus(shipped_policy, 300)
    first = [as_json(memo.evaluate(c)) for c in corpus]
    again = [as_json(memo.evaluate(c)) for c in corpus]
    assert first == again == [as_json(fresh.evaluate(c)) for c in corpus]
    assert memo.hits >= len(corpus)


def test_the_memo_stays_within_its_size(shipped_policy: Policy, fresh: Engine) -> None:
    memo = MemoEngine(shipped_policy, size=8)
    corpus = make_corpus(shipped_policy, 60)
    for case in corpus + corpus:
        assert as_json(memo.evaluate(case)) == as_json(fresh.evaluate(case))
        assert len(memo) <= 8


def test_threads_share_the_memo_without_wrong_answers(shipped_policy: Policy, fresh: Engine) -> None:
    memo = MemoEngine(shipped_policy, size=64)
    corpus = make_corpus(shipped_policy, 120)
    expected = [as_json(fresh.evaluate(c)) for c in corpus]
    wrong: list[int] = []

    def work(offset: int) -> None:
        for n in range(len(corpus)):
            k = (n + offset) % len(corpus)
            if as_json(memo.evaluate(corpus[k])) != expected[k]:
                wrong.append(k)

    threads = [threading.Thread(target=work, args=(i * 7,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def hostile(case: dict[str, Any], policy: Policy) -> list[Any]:
    """Variants of a valid case that the schema must refuse or load differently."""
    out: list[Any] = [None, [], "facts", {**case, "no_such_fact": "x"}]
    for fact in policy.case_facts:
        for bad in (1, 0.0, "true", None, [], {}, ["x"], "x", [None], [1]):
            out.append({**case, fact.name: bad})
    items = policy.items_fact
    if items is not None:
        piece = {"item": "a piece"}
        out += [
            {**case, items.name: [{}]},
            {**case, items.name: [{**piece, "item": ""}]},
            {**case, items.name: [{**piece, "item": "x" * 2001}]},
            {**case, items.name: [{**piece, "item": 5}]},
            {**case, items.name: [{**piece, "other": True}]},
            {**case, items.name: [piece] * 51},
            {**case, items.name: ["a piece"]},
            {**case, items.name: (piece,)},
        ]
        for field in items.fields:
            for bad in (1, "yes", None, [True]):
                out.append({**case, items.name: [{**piece, field.name: bad}]})
    return out


def test_the_quick_check_never_accepts_what_the_schema_refuses(shipped_policy: Policy, fresh: Engine) -> None:
    accepted = 0
    for case in make_corpus(shipped_policy, 40):
        for facts in [case, *hostile(case, shipped_policy)]:
            quick = fresh._quick.load(facts)
            if quick is None:
                continue
            accepted += 1
            assert quick == load_facts(fresh._schema, facts)
    assert accepted >= 40  # the valid cases took the quick path


def test_facts_the_quick_check_passes_on_are_refused_as_before(fresh: Engine) -> None:
    with pytest.raises(FactsInvalid) as refused:
        fresh.evaluate({"no_such_fact": "x"})
    assert "no_such_fact" in refused.value.messages
