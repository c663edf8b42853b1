"""From the rules that fired to one verdict, combined as the policy declares and explained.

Which decision wins is not decided here: policy.yaml lists each outcome's
values in order of precedence, and this module only applies that order. A
rule's other conclusions (obligations, confidentiality, ...) stand when the
rule concludes no decision or concludes the winning one; a rule whose decision
lost was overruled, and so were its other conclusions.

A rule made from a declared contradiction (facts.yaml `contradictions:`)
decides before every other: facts that cannot hold together are no ground
for any answer but the Co-ordinator's.

The basis is what decided and what it built on: the decisive rules' reasons,
then the reasons of the rules whose derived facts they read (which exception,
which ground did not reach the purpose).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from infoshare.engine.policy.model import Policy, Rule


class Firing(NamedTuple):
    """One rule that fired, on the case or on one piece (`item`), and the rules whose derived facts it read.
    A tuple: one is made per action, and a frozen dataclass costs several times as much to make."""

    rule: Rule
    item: int | None
    supports: frozenset[str]


@dataclass(frozen=True)
class Verdict:
    decision: str
    confidentiality: str
    basis: list[str]
    conditions: list[dict[str, str]]
    obligations: list[dict[str, str]]
    information: list[dict[str, Any]]
    explain_to_subject: bool
    missing_facts: list[str]
    rationale: list[dict[str, Any]]
    policy: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; shallow, because resolve() builds every nested list and dict afresh."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Decided:
    """How the rules that fired on a case combine into its decision (see the module docstring)."""

    decision: str
    tied: tuple[str, ...]
    decisive: tuple[Rule, ...]
    standing: tuple[Rule, ...]


def decide(policy: Policy, rules: list[Rule]) -> Decided:
    """The decision the rules fired on a case reach, by the policy's precedence; contradictions first."""
    outcome = policy.outcomes["decision"]
    contradicted = [r for r in rules if r.contradiction]
    pool = contradicted or rules
    concluded = [r.then.decision for r in pool if r.then.decision]
    decision = outcome.combine(concluded)
    tied = outcome.conflict(concluded)
    decisive = () if tied else tuple(r for r in pool if r.then.decision == decision)
    standing = tuple(
        r
        for r in rules
        if r.then.decision is None or (r.then.decision == decision and (r.contradiction or not contradicted))
    )
    return Decided(decision, tuple(tied), decisive, standing)


def combined(policy: Policy, name: str, standing: tuple[Rule, ...]) -> Any:
    """An outcome other than the decision (confidentiality, ...), from the rules whose conclusions stand."""
    return policy.outcomes[name].combine([v for r in standing if (v := getattr(r.then, name)) is not None])


def resolve(policy: Policy, case: dict[str, Any], firings: list[Firing], item_count: int) -> Verdict:
    order = policy.rule_order
    firings = sorted(firings, key=lambda f: (order[f.rule.id], -1 if f.item is None else f.item))
    on_case = [f for f in firings if f.item is None]
    decision_outcome = policy.outcomes["decision"]
    decided = decide(policy, [f.rule for f in on_case])
    decision, tied = decided.decision, decided.tied
    decisive_ids = {r.id for r in decided.decisive}
    standing_ids = {r.id for r in decided.standing}
    decisive = [f for f in on_case if f.rule.id in decisive_ids]
    chain = _chain(decisive, {f.rule.id: f for f in on_case})
    standing = [f for f in on_case if f.rule.id in standing_ids]
    shares = decision in decision_outcome.shares

    supporting = [f.rule.because for f in on_case if f.rule.id in chain and f.rule.id not in decisive_ids]
    basis = _unique([f.rule.because for f in decisive] + supporting) or [
        f"Rules conclude {' and '.join(tied)}, which rank the same in the policy, so its safe default "
        f"applies: {decision}."
        if tied
        else f"No rule of the policy decides this case, so its safe default applies: {decision}."
    ]
    return Verdict(
        decision=decision,
        confidentiality=combined(policy, "confidentiality", decided.standing),
        basis=basis,
        conditions=_catalogued(policy.conditions, standing, "conditions") if shares else [],
        obligations=_catalogued(policy.obligations, standing, "obligations"),
        information=_items(policy, case, firings, item_count, decision, shares),
        explain_to_subject=combined(policy, "explain_to_subject", decided.standing),
        missing_facts=_unique(m for f in on_case if f.rule.id in chain for m in f.rule.then.missing)
        if decision == "undetermined"  # the facts the answer waits for; any other answer waits for none
        else [],
        rationale=_rationale(policy, firings, chain, {f.rule.id for f in decisive}, decision),
        policy={"id": policy.id, "version": policy.version, "digest": policy.digest},
    )


def _chain(decisive: list[Firing], by_id: dict[str, Firing]) -> set[str]:
    """The decisive rules and every rule whose derived fact they built on, transitively."""
    seen: set[str] = set()
    todo = [f.rule.id for f in decisive]
    while todo:
        rule_id = todo.pop()
        if rule_id not in seen and rule_id in by_id:
            seen.add(rule_id)
            todo.extend(by_id[rule_id].supports)
    return seen


def _unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values))


def _catalogued(catalogue: dict[str, str], firings: list[Firing], key: str) -> list[dict[str, str]]:
    ids = _unique(i for f in firings for i in getattr(f.rule.then, key))
    return [{"id": i, "text": _one_line(catalogue[i])} for i in ids]


@functools.lru_cache(maxsize=1024)
def _one_line(text: str) -> str:
    """A catalogue text (folded over lines in the YAML) on one line: made once per text, not per verdict."""
    return " ".join(text.split())


def _items(
    policy: Policy, case: dict[str, Any], firings: list[Firing], count: int, decision: str, shares: bool
) -> list[dict[str, Any]]:
    if count == 0 or policy.items_fact is None:
        return []
    pieces = case[policy.items_fact.name]
    outcome = policy.outcomes["item"]
    by_item: dict[int, list[Firing]] = {}
    for f in firings:
        if f.item is not None:
            by_item.setdefault(f.item, []).append(f)
    out = []
    for index in range(count):
        mine = by_item.get(index, [])
        value = outcome.combine([f.rule.then.item for f in mine])
        deciding = [f for f in mine if f.rule.then.item == value]
        reasons = [f.rule.because for f in deciding] or [
            f"No rule speaks of this piece, so the policy's default applies: {value}."
        ]
        passes = value in outcome.shares
        if passes and not shares:
            reasons = [f"Nothing is shared: the decision is {decision}."]
        out.append(
            {
                "item": pieces[index].get("item"),
                "share": passes and shares,
                "outcome": value,
                "reasons": reasons,
                "rules": [f.rule.id for f in deciding],
            }
        )
    return out


def _rationale(
    policy: Policy, firings: list[Firing], chain: set[str], decisive: set[str], decision: str
) -> list[dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    explanations = policy.explanations
    for rule, item, _ in firings:
        entry = entries.get(rule.id)
        if entry is None:
            explained = explanations.get(rule.id) or _explained(policy, rule)
            entry = entries[rule.id] = {"rule": rule.id, "role": _role(rule, chain, decisive, decision), **explained}
        if item is not None:
            entry.setdefault("items", []).append(item)
    return list(entries.values())


def _explained(policy: Policy, rule: Rule) -> dict[str, Any]:
    """What a rationale entry says of a rule whatever the case: computed once per rule."""
    cached = policy.explanations.get(rule.id)
    if cached is None:
        cached = policy.explanations[rule.id] = {
            "because": rule.because,
            "concluded": _concluded(rule),
            "clauses": [{"id": c, "text": policy.clause(c).text} for c in rule.implements],
            "source": f"{rule.file}:{rule.line}",
        }
    return cached


def _role(rule: Rule, chain: set[str], decisive: set[str], decision: str) -> str:
    if rule.id in decisive:
        return "decided"
    if rule.id in chain:
        return "supports"
    if rule.then.decision not in (None, decision):
        return "overruled"
    return "applies"


def _concluded(rule: Rule) -> dict[str, Any]:
    then = rule.then
    out: dict[str, Any] = {
        k: getattr(then, k)
        for k in ("decision", "confidentiality", "explain_to_subject", "item")
        if getattr(then, k) is not None
    }
    out.update({k: list(getattr(then, k)) for k in ("conditions", "obligations", "missing") if getattr(then, k)})
    out.update(dict(then.derive))
    return out
