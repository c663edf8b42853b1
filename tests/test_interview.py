"""The interview asks a fact only if its answer can still change the outcome, and stops only when nothing can.

Checked against the engine itself, case by case, over the reduced space
(each read fact's value classes, "not given" among them): from partial
cases reached by answering the listed questions in any order,

- every listed fact has a witness: two whole cases that complete the facts
  known, differ only in that fact, contradict nothing (facts.yaml
  `contradictions:`), and get different outcomes (decision,
  confidentiality, explain_to_subject) from the engine;
- no open fact that is not listed changes the outcome, for every value of
  it that contradicts nothing, on completions of the other open facts
  (sampled here);
- every case the interview calls settled ends in a decision other than
  `undetermined`, and `missing_facts` agrees with the questions.

Here 150 partial cases reached by random answers in random orders are
checked; `make soak` (INFOSHARE_INTERVIEW_STATES=all) checks every
reachable one, one at a time, and every path of the walk from the subject.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from infoshare.engine import Engine
from infoshare.engine.analysis.exhaustive import domain
from infoshare.engine.analysis.interview import OUTCOMES, analyse, interview, space_for

SOAK = os.environ.get("INFOSHARE_INTERVIEW_STATES") == "all"
SAMPLED = 150  # partial cases checked in make test, reached by random walks


def outcome(engine: Engine, facts: dict[str, Any]) -> tuple:
    return judged(engine, facts)[0]


def contradicts(engine: Engine, facts: dict[str, Any]) -> bool:
    """Whether the case is one the policy declares impossible (it refers whatever else it says)."""
    return judged(engine, facts)[1]


_JUDGED: dict[tuple, tuple[tuple, bool]] = {}  # the same facts, the same verdict: soak asks for many again


def judged(engine: Engine, facts: dict[str, Any]) -> tuple[tuple, bool]:
    """The engine's outcome for the case, and whether a declared contradiction fired on it."""
    key = (engine.policy.digest, *sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in facts.items()))
    found = _JUDGED.get(key)
    if found is None:
        verdict = engine.evaluate(facts)
        declared = {r.id for r in engine.policy.rules if r.contradiction}
        found = _JUDGED[key] = (
            tuple(getattr(verdict, name) for name in OUTCOMES),
            any(e["rule"] in declared for e in verdict.rationale),
        )
    return found


def answers(engine: Engine, name: str) -> list[Any]:
    """One given value per value class of the fact: the answers that can lead anywhere different."""
    classes = space_for(engine).classes[name]
    return [next(v for v in c.members if v is not None) for c in classes if any(v is not None for v in c.members)]


def sampled(engine: Engine, count: int, seed: int = 16) -> list[dict[str, Any]]:
    """`count` partial cases reached from {subject} by random walks (random listed question, random answer)."""
    starts = [{"subject": s} for s in engine.policy.fact("subject").values]
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    while len(out) < count:
        case = dict(rng.choice(starts))
        while True:
            out.append(case)
            questions = analyse(engine, case).questions
            if not questions or len(out) >= count:
                break
            asked = rng.choice(questions).fact
            case = {**case, asked: rng.choice(answers(engine, asked))}
    return out


def every_reachable(engine: Engine) -> Iterator[dict[str, Any]]:
    """Every partial case reached from {subject} by answering listed questions in any order, once each
    (by its value classes), one at a time: there are too many to keep."""
    space = space_for(engine)
    radix = [len(space.classes[n]) + 1 for n in space.read]
    seen: set[int] = set()
    todo = [{"subject": s} for s in engine.policy.fact("subject").values]
    while todo:
        case = todo.pop()
        key = 0
        for found, size in zip(space.known_classes(case), radix):
            key = key * size + (0 if found is None else found + 1)
        if key in seen:
            continue
        seen.add(key)
        yield case
        todo += [{**case, q.fact: v} for q in analyse(engine, case).questions for v in answers(engine, q.fact)]


@pytest.fixture(scope="module")
def states(engine: Engine) -> list[dict[str, Any]]:
    return sampled(engine, SAMPLED)


def check_listed(engine: Engine, case: dict[str, Any]) -> None:
    """Every listed fact can change the outcome: its witnesses, in the engine."""
    found = analyse(engine, case)
    assert len(found.witnesses) == len(found.questions)
    for question, witness in zip(found.questions, found.witnesses):
        a, b = ({**w, **case_without(case, question.fact)} for w in witness.cases)  # the known values as given
        assert set(a) ^ set(b) <= {question.fact} and {k for k in a if a[k] != b.get(k)} <= {question.fact}
        assert question.fact not in case
        if not contradicts(engine, case):  # facts that already contradict each other: every completion does
            assert not contradicts(engine, a) and not contradicts(engine, b), (case, question.fact, a, b)
        assert outcome(engine, a) != outcome(engine, b), (case, question.fact, a, b)


def case_without(case: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k != name}


def check_unlisted(engine: Engine, case: dict[str, Any], rng: random.Random, completions: int) -> None:
    """No unlisted fact changes the outcome, on `completions` random completions of the other open facts."""
    space = space_for(engine)
    facts = {f.name: f for f in engine.policy.case_facts if f.type != "items"}
    found = analyse(engine, case)
    listed = {q.fact for q in found.questions}
    open_facts = [n for n in facts if n not in case]
    for name in (n for n in open_facts if n not in listed):
        for _ in range(completions):
            rest = {}
            for other in open_facts:
                if other != name and other in space.classes:
                    value = rng.choice(rng.choice(space.classes[other]).members)
                    if value is not None:
                        rest[other] = value
            cases = [{**case, **rest, **({name: v} if v is not None else {})} for v in domain(facts[name])]
            seen = {outcome(engine, c) for c in cases if not contradicts(engine, c)}
            assert len(seen) <= 1, (case, rest, name, seen)
    if found.settled:
        assert len(found.possible) == 1
        assert contradicts(engine, case) or outcome(engine, case) in found.possible


def check_verdict(engine: Engine, case: dict[str, Any]) -> None:
    """A settled case is never undetermined; `missing_facts` agrees with the questions (what
    `missing_facts` of POST /v1/evaluate promises; the README says why it is not the same list): an
    undetermined verdict is never settled and every fact it waits for is asked; any other waits for none."""
    result = interview(engine, case)
    missing = result.verdict.missing_facts
    if result.settled:
        assert result.verdict.decision != "undetermined", case
    if result.verdict.decision == "undetermined":
        assert not result.settled and missing
        assert set(missing) <= set(result.facts), (case, missing)
    else:
        assert missing == [], (case, missing)


def test_every_listed_fact_can_change_the_outcome(engine, states):
    for case in states:
        check_listed(engine, case)


def test_no_unlisted_fact_can_change_the_outcome(engine, states):
    rng = random.Random(1616)
    for case in states:
        check_unlisted(engine, case, rng, completions=2)


def test_a_settled_case_is_decided_and_missing_facts_agree_with_the_questions(engine, states):
    for case in states:
        check_verdict(engine, case)


@pytest.mark.skipif(not SOAK, reason="make soak: every reachable partial case")
def test_every_reachable_partial_case(engine):
    rng = random.Random(1616)
    count = 0
    for case in every_reachable(engine):
        check_listed(engine, case)
        check_unlisted(engine, case, rng, completions=1)
        check_verdict(engine, case)
        count += 1
        if len(_JUDGED) > 200_000:
            _JUDGED.clear()
        if count % 50_000 == 0:
            print(f"interview soundness: {count:,} reachable partial cases checked so far", flush=True)
    print(f"interview soundness: {count:,} reachable partial cases checked, all sound")


def test_the_walk_from_the_subject_always_ends_in_a_decision(engine):
    """Answering the interview's first question, whatever the answer, until it is settled: every path
    under `make soak` (~44,000 ends), 400 drawn at random here. Each end's one possible outcome is a
    decision, and the engine gives that outcome to the case the walk ends on."""
    ends: list[tuple[dict[str, Any], tuple]] = []
    rng = random.Random(1616)

    def walk(case: dict[str, Any]) -> None:
        found = analyse(engine, engine.load(case))
        if found.settled:
            (settled,) = found.possible
            ends.append((case, settled))
            return
        asked = found.questions[0].fact
        for value in answers(engine, asked) if SOAK else [rng.choice(answers(engine, asked))]:
            walk({**case, asked: value})

    for subject in engine.policy.fact("subject").values:
        for _ in range(1 if SOAK else 200):
            walk({"subject": subject})
    decisions = {settled[0] for _, settled in ends}
    assert ends and "undetermined" not in decisions
    assert {"share", "share_without_consent", "seek_consent", "do_not_share", "refer"} <= decisions
    for case, settled in ends:
        assert outcome(engine, case) == settled, case


def test_combined_outcomes_are_what_the_engine_gives_the_whole_case(engine, states):
    """The analysis folds class masks and combines the rules they fire as the engine does; a whole case,
    any member of its classes (not only their representatives), gets that outcome in durable-rules."""
    space = space_for(engine)
    rng = random.Random(7)
    for _ in range(300):
        case = {n: rng.choice(rng.choice(space.classes[n]).members) for n in space.read}
        case = space.masks.case({n: v for n, v in case.items() if v is not None})
        mask = -1
        for unit, found in zip(space.masks.units, space.masks.classes_of(case)):
            mask &= space._unit_masks[unit][found]
        predicted, contradicted = space._outcome(mask, partial(dict, case))
        assert outcome(engine, case) == predicted and contradicted == contradicts(engine, case), case


def test_questions_carry_labels_and_why(engine):
    result = interview(engine, {"subject": "adult", "harm_concern": "yes"})
    asked = {q.fact: q for q in result.questions}
    assert "crime_suspected" in asked, "an adult at risk: whether a crime is suspected decides"
    crime = asked["crime_suspected"]
    assert [v["label"] for v in crime.values] == ["Yes, a crime is suspected", "No crime is suspected", "I am not sure"]
    assert crime.why.startswith("The answer can still change the decision")
    seeking = asked["seeking_consent_would"]
    assert seeking.type == "choices" and len(seeking.values) == 4 and all(v["label"] for v in seeking.values)


@pytest.mark.parametrize("subject", ["child", "adult"])
def test_once_the_recipient_need_not_know_no_crime_question_follows(engine, subject):
    """ "Does not need to know" means nothing is shared, whatever else holds, so no question about
    whether a crime is suspected follows, and no question is about the decision any more. Only a case
    the policy declares contradictory (no crime suspected, yet a serious one) would refer instead, and
    a completion the policy calls impossible is no reason to ask."""
    result = interview(engine, {"subject": subject, "recipient_needs_to_know": "no"})
    assert result.verdict.decision == "do_not_share"
    assert "crime_suspected" not in result.facts, result.facts
    for question in result.questions:  # what is still asked can change only the confidentiality
        assert "decision" not in question.separates, question
        assert all(v.get("decisions", ["do_not_share"]) == ["do_not_share"] for v in question.values), question


def test_an_adult_at_risk_who_need_not_know_is_settled(engine):
    """Harm concern: confidentiality cannot be promised; not needing to know: nothing is shared; so
    nothing left can change the outcome, and nothing about a crime is asked."""
    result = interview(engine, {"subject": "adult", "harm_concern": "yes", "recipient_needs_to_know": "no"})
    assert result.verdict.decision == "do_not_share"
    assert result.settled and result.facts == [], result.facts


def test_a_child_is_never_asked_whether_a_crime_is_suspected(engine):
    """No rule about a child reads `crime_suspected`; only the declared contradiction does."""
    assert "crime_suspected" not in interview(engine, {"subject": "child", "harm_concern": "yes"}).facts


def test_facts_that_contradict_each_other_are_still_asked_what_changes_the_confidentiality(engine):
    """No crime suspected, yet a serious one: the Co-ordinator decides whatever else is said, but whether
    confidentiality can be offered still turns on what seeking consent would do; it is not settled."""
    case = {"subject": "adult", "crime_suspected": "no", "serious_crime": "yes", "harm_concern": "no"}
    result = interview(engine, {**case, "consent": "given", "purpose": "referral", "recipient": "insurer"})
    assert result.verdict.decision == "refer" and not result.settled
    assert "seeking_consent_would" in result.facts
    assert all(q.separates.keys() == {"confidentiality"} for q in result.questions), result.questions
    check_listed(engine, case)
    check_unlisted(engine, case, random.Random(5), completions=3)
