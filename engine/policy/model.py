"""The loaded policy as immutable data: what the checker approved and the compiler reads.

A Policy is identified by its id, version and the sha256 digest of its files,
so every verdict can say exactly which text of the policy produced it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOT_GIVEN = "the case does not say"  # the keyword, in `when:`, for a fact the case does not give
OLD_NOT_GIVEN = "not given"  # its old spelling: read for one release, with a warning naming the line
# The decisions case systems integrate against (DESIGN.md's public contract):
# a policy may order them, but not rename them or add others.
CONTRACT_DECISIONS = ("share", "share_without_consent", "seek_consent", "do_not_share", "refer", "undetermined")


@dataclass(frozen=True)
class Clause:
    id: str
    text: str
    normative: bool
    informative_because: str | None = None


@dataclass(frozen=True)
class ItemField:
    name: str
    type: str  # text | boolean
    required: bool
    question: str


@dataclass(frozen=True)
class Fact:
    name: str
    type: str  # choice | choices | boolean | items
    question: str
    values: tuple[Any, ...] = ()
    required: bool = False
    derived: bool = False
    fields: tuple[ItemField, ...] = ()
    labels: tuple[tuple[Any, str], ...] = ()  # value -> the answer in plain words (facts.yaml `labels:`)
    sets: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # named value sets: (name, values)

    def allowed_values(self) -> tuple[Any, ...]:
        return (True, False) if self.type == "boolean" else self.values

    def label(self, value: Any) -> str:
        """The answer `value` in plain words: its `labels:` entry, else the value itself spelt out."""
        for known, text in self.labels:
            if known == value and type(known) is type(value):
                return text
        if isinstance(value, bool):
            return "Yes" if value else "No"
        return str(value).replace("_", " ").capitalize()

    def value_set(self, name: str) -> tuple[Any, ...] | None:
        """The values of the named set `name`, or None if this fact has no such set."""
        return next((values for set_name, values in self.sets if set_name == name), None)

    def combine(self, values: Any) -> Any:
        """A derived fact's one value when rules conclude several: the one listed first in facts.yaml."""
        present = set(values)
        return next((v for v in self.values if v in present), None)


@dataclass(frozen=True)
class Condition:
    """One test on one fact (or item field).

    `test` is one of:
      one_of         the value is one of `values`, or (with `or_not_given`) absent
      none_of        the value is given and is none of `values`
      includes       a list that includes every one of `values`
      includes_any   a list that includes at least one of `values`
      includes_none  a given list that includes none of `values`
      pair_in        (`fact`, `partner`) is one of the pairs in `values` (both given)
      pair_out       not pair_in: a pair not in `values`, or either fact not given
    """

    fact: str
    test: str
    values: tuple[Any, ...]
    or_not_given: bool = False
    line: int = 0
    partner: str | None = None  # the second fact of a pair test
    ground: str | None = None  # the ground whose scope a pair test reads

    @property
    def facts(self) -> tuple[str, ...]:
        return (self.fact,) if self.partner is None else (self.fact, self.partner)


@dataclass(frozen=True)
class Conclusion:
    decision: str | None = None
    confidentiality: str | None = None
    explain_to_subject: bool | None = None
    item: str | None = None
    conditions: tuple[str, ...] = ()
    obligations: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    derive: tuple[tuple[str, str], ...] = ()

    def outcome(self, name: str) -> Any:
        """The value this rule concludes for a combined outcome (decision, item, ...)."""
        return getattr(self, name)


@dataclass(frozen=True)
class Rule:
    id: str
    implements: tuple[str, ...]
    when: tuple[Condition, ...]
    for_each_item: tuple[Condition, ...]
    then: Conclusion
    because: str
    file: str
    line: int
    contradiction: bool = False  # made from a declared contradiction: it decides before any other rule

    @property
    def is_item_rule(self) -> bool:
        return bool(self.for_each_item)

    @property
    def grounds(self) -> tuple[str, ...]:
        """The grounds whose scope this rule tests itself within (`purpose and recipient: {within: G}`)."""
        return tuple(c.ground for c in self.when if c.test == "pair_in" and c.ground)


@dataclass(frozen=True)
class Ground:
    """A ground for sharing without consent and its scope: the purposes it serves, and for each
    purpose the recipients that fit it (grounds.yaml)."""

    id: str
    title: str
    serves: tuple[tuple[str, str], ...]  # (purpose, recipient) pairs
    file: str
    line: int

    def reaches(self, purpose: Any, recipient: Any) -> bool:
        return (purpose, recipient) in self.serves


@dataclass(frozen=True)
class Outcome:
    """How competing conclusions for one output combine: first in `precedence` wins.

    `levels` groups `precedence` into ranks; values that share a rank (written
    as a list in policy.yaml) cannot overrule each other, so concluding two of
    them at once is a conflict, answered with `otherwise` (a safe value).
    """

    name: str
    precedence: tuple[Any, ...]
    otherwise: Any
    shares: tuple[Any, ...] = ()
    levels: tuple[tuple[Any, ...], ...] = ()

    def combine(self, values: list[Any]) -> Any:
        present = set(values)
        for level in self.levels or tuple((v,) for v in self.precedence):
            here = [v for v in level if v in present]
            if len(here) == 1:
                return here[0]
            if here:
                return self.otherwise
        return self.otherwise

    def conflict(self, values: list[Any]) -> tuple[Any, ...]:
        """The values that tie at the deciding rank (empty when one value wins or none is given)."""
        present = set(values)
        for level in self.levels:
            here = tuple(v for v in level if v in present)
            if here:
                return here if len(here) > 1 else ()
        return ()


@dataclass(frozen=True)
class Policy:
    id: str
    version: str
    title: str
    digest: str
    directory: Path | None  # None for a version rebuilt from the store's text
    clauses: tuple[Clause, ...]
    facts: tuple[Fact, ...]
    rules: tuple[Rule, ...]
    outcomes: dict[str, Outcome]
    conditions: dict[str, str]
    obligations: dict[str, str]
    protocol_title: str = ""
    files: dict[str, str] = field(default_factory=dict, repr=False, compare=False)  # name -> text, digest order
    _facts_by_name: dict[str, Fact] = field(default_factory=dict, repr=False, compare=False)
    _clauses_by_id: dict[str, Clause] = field(default_factory=dict, repr=False, compare=False)
    explanations: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    rule_order: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    grounds: tuple[Ground, ...] = ()
    warnings: tuple[Any, ...] = ()  # Problems that do not stop the policy loading (an old spelling, ...)

    def __post_init__(self) -> None:
        self._facts_by_name.update({f.name: f for f in self.facts})
        self._clauses_by_id.update({c.id: c for c in self.clauses})
        self.rule_order.update({rule.id: n for n, rule in enumerate(self.rules)})

    def fact(self, name: str) -> Fact | None:
        return self._facts_by_name.get(name)

    def ground(self, ground_id: str) -> Ground | None:
        return next((g for g in self.grounds if g.id == ground_id), None)

    def clause(self, clause_id: str) -> Clause:
        return self._clauses_by_id[clause_id]

    @functools.cached_property  # immutable data: made once, read on every evaluation
    def case_facts(self) -> tuple[Fact, ...]:
        """The facts a case may give (derived facts are concluded, never given)."""
        return tuple(f for f in self.facts if not f.derived)

    @functools.cached_property  # immutable data: made once, read on every evaluation
    def derived_facts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.derived)

    @functools.cached_property  # immutable data: made once, read on every evaluation
    def items_fact(self) -> Fact | None:
        return next((f for f in self.facts if f.type == "items"), None)

    def derived_strata(self) -> list[list[str]]:
        """Derived facts in the order they are settled: a fact comes after every derived fact read by a
        rule that concludes it. Facts caught in a cycle are left out (the checker reports them)."""
        derived = [f.name for f in self.derived_facts]
        needs: dict[str, set[str]] = {name: set() for name in derived}
        for rule in self.rules:
            read = {c.fact for c in rule.when if c.fact in needs}
            for name, _ in rule.then.derive:
                if name in needs:
                    needs[name] |= read
        strata: list[list[str]] = []
        settled: set[str] = set()
        while True:
            ready = [n for n in derived if n not in settled and needs[n] <= settled]
            if not ready:
                return strata
            strata.append(ready)
            settled.update(ready)

    def without_rule(self, rule_id: str) -> Policy:
        """This policy minus one rule, as if a policy owner had deleted it, but not re-checked.

        It is how the scenarios are shown to notice the loss of any rule (the
        checker would refuse some such edits before a scenario ever ran). Its
        digest differs, so no verdict from it can pass for the policy's own.
        """
        if not any(r.id == rule_id for r in self.rules):
            raise KeyError(f"no rule `{rule_id}` in policy {self.id}")
        return dataclasses.replace(
            self,
            rules=tuple(r for r in self.rules if r.id != rule_id),
            explanations={},
            digest=hashlib.sha256(f"{self.digest} without {rule_id}".encode()).hexdigest(),
        )

    def implemented_by(self) -> dict[str, list[str]]:
        """Clause id -> ids of the rules that cite it, in policy order."""
        mapping: dict[str, list[str]] = {c.id: [] for c in self.clauses}
        for rule in self.rules:
            for clause_id in rule.implements:
                if clause_id in mapping:  # an unknown id is the checker's to report
                    mapping[clause_id].append(rule.id)
        return mapping

    def describe(self) -> dict[str, Any]:
        """The policy as a case system sees it: enough to build a form and cite clauses."""
        implemented = self.implemented_by()
        return {
            "id": self.id,
            "version": self.version,
            "digest": self.digest,
            "title": self.title,
            "decisions": list(self.outcomes["decision"].precedence),
            "facts": [_describe_fact(f) for f in self.case_facts],
            "clauses": [
                {
                    "id": c.id,
                    "text": c.text,
                    "normative": c.normative,
                    **({"informative_because": c.informative_because} if not c.normative else {}),
                    "implemented_by": implemented[c.id],
                }
                for c in self.clauses
            ],
        }


def _describe_fact(fact: Fact) -> dict[str, Any]:
    out: dict[str, Any] = {"name": fact.name, "type": fact.type, "question": fact.question, "required": fact.required}
    if fact.type in ("choice", "choices"):
        out["values"] = list(fact.values)
    if fact.type in ("choice", "choices", "boolean"):
        out["labels"] = [{"value": v, "label": fact.label(v)} for v in fact.allowed_values()]
    if fact.type == "items":
        out["fields"] = [
            {"name": f.name, "type": f.type, "required": f.required, "question": f.question} for f in fact.fields
        ]
    return out
