"""Evaluate cases in durable-rules, safely and repeatably.

durable-rules 2.0.28 is a C Rete engine (`durable_rules_engine`) behind a
Python layer (`durable.engine`) that costs more than the engine itself: per
action it builds closures and promises, reads the clock, and serialises the
session state to JSON and back. That layer also has sharp edges (see shared
notes): background dispatch threads, exceptions in actions swallowed, a
crash on `delete_state` of a session where no action ran, and no more
sessions after ~1,000 undeleted ones. So this module drives the C engine
directly, the way `durable.engine.Ruleset` does, without that layer: the case
and its items are asserted in one call, each action the engine starts is
run here and completed, derived facts are asserted inside the action so the
Rete network joins them, one fresh session per evaluation is deleted in
`finally`, and an always-matching rule guarantees an action runs.

Each thread evaluates in a ruleset of its own (the C engine's calls hold the
GIL, so they never interleave): threads evaluating at once take no lock, and
so do not queue behind one another's lock hand-overs, which made two
threads together slower than one.

Derived facts are settled in strata (`Policy.derived_strata`): the rules
that conclude one run first; when several values are concluded, the one
listed first in facts.yaml is the fact's value (an exception that applies
outweighs another that does not reach the purpose); only then is the one
value asserted, with the rules that concluded it, and the rules that build
on it are joined to it by the Rete network.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import durable_rules_engine as rete
import orjson

from infoshare.engine.compiler import ALWAYS, LIST_END, compile_policy
from infoshare.engine.policy.factschema import QuickCheck, facts_schema, load_facts
from infoshare.engine.policy.model import Policy
from infoshare.engine.verdict import Firing, Verdict, resolve

# Result codes of the C engine's assert calls (durable.engine.Ruleset._handle_result).
_NOT_HANDLED = 1  # no rule matches the fact: for an item, the item outcome's `otherwise` applies
_NONE: frozenset[str] = frozenset()
IDLE_RULESETS = 4  # rulesets kept for the next evaluations; more are made while more run at once


class EvaluationError(RuntimeError):
    """The rules engine failed; no verdict exists (callers must fail closed)."""


@dataclass
class _Run:
    """What happened during one evaluation."""

    sid: str
    ruleset: int
    firings: dict[tuple[str, int | None], Firing] = field(default_factory=dict)
    concluded: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # fact -> value -> rules
    errors: list[BaseException] = field(default_factory=list)
    always_ran: bool = False
    engine_broke: bool = False


class _Ruleset:
    """One handle on compiled rules in the C engine, deleted with this object (a thread's, or a broken one)."""

    def __init__(self, compiled: str, name: str):
        self.handle: int = rete.create_ruleset(name, compiled)

    def __del__(self) -> None:
        if rete is not None:  # at interpreter exit the module may be gone first
            rete.delete_ruleset(self.handle)


class Engine:
    """A compiled policy, ready to evaluate cases from any number of threads."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self._schema = facts_schema(policy)()
        self._quick = QuickCheck(policy)
        self._definition = compile_policy(policy)
        self._name = f"infoshare-{policy.id}-{policy.digest[:12]}"
        self._items_fact = policy.items_fact.name if policy.items_fact else None
        self._lists = {f.name for f in policy.case_facts if f.type == "choices"}  # asserted ending in LIST_END
        derived = {f.name for f in policy.derived_facts}
        # Per rule: the rule, whether its matched facts are read (an item's index, the rules a derived
        # fact came from), and the derived values it concludes.
        self._actions = {
            r.id: (r, r.is_item_rule or any(c.fact in derived for c in r.when), r.then.derive) for r in policy.rules
        }
        self._always_message = '{"' + ALWAYS + '"'
        facts = {f.name: f for f in policy.facts}
        self._strata = [[facts[n] for n in stratum] for stratum in policy.derived_strata()]
        definition = copy.deepcopy(self._definition)
        for spec in definition.values():
            del spec["run"]  # actions are run by `_fire`, not bound
        self._compiled = json.dumps(definition, ensure_ascii=False)
        self._sids = itertools.count(1)
        # The first ruleset is made here: a policy the C engine refuses fails now, not at the first case.
        self._idle = [_Ruleset(self._compiled, self._name)]

    def _take(self) -> _Ruleset:
        try:
            return self._idle.pop()
        except IndexError:  # every idle one is in use by another thread
            return _Ruleset(self._compiled, self._name)

    def _give_back(self, ruleset: _Ruleset) -> None:
        if len(self._idle) < IDLE_RULESETS:
            self._idle.append(ruleset)

    @property
    def ruleset_definition(self) -> dict[str, Any]:
        return copy.deepcopy(self._definition)

    def evaluate(self, facts: dict[str, Any]) -> Verdict:
        """The verdict for one case. Raises FactsInvalid for bad facts, EvaluationError if the engine fails."""
        return self.evaluate_valid(self.load(facts))

    def load(self, facts: dict[str, Any]) -> dict[str, Any]:
        """`facts` validated and loaded by the policy's vocabulary. Raises FactsInvalid."""
        loaded = self._quick.load(facts)
        return loaded if loaded is not None else load_facts(self._schema, facts)

    def plainly_valid(self, facts: Any) -> dict[str, Any] | None:
        """`facts` as the vocabulary's schema would load them when every fact is plainly of its type
        and among its values; None otherwise (then `load` gives the schema's answer and messages)."""
        return self._quick.load(facts)

    def evaluate_valid(self, case: dict[str, Any]) -> Verdict:
        """The verdict for facts already loaded by `facts_schema(policy)` (as the service's request schema does)."""
        items = case.get(self._items_fact) if self._items_fact else None
        ruleset = self._take()
        run = _Run(sid=f"e{next(self._sids)}", ruleset=ruleset.handle)
        sid, lists = run.sid, self._lists
        on_case = {k: [*v, LIST_END] if k in lists else v for k, v in case.items() if k != self._items_fact}
        batch = [{**on_case, "kind": "case", "sid": sid}]
        batch += ({**item, "kind": "item", "index": index, "sid": sid} for index, item in enumerate(items or ()))
        try:
            self._run_session(run, batch)
        except Exception as exc:  # noqa: BLE001 - any engine failure fails closed
            run.errors.append(exc)
            run.engine_broke = True
        finally:
            if self._end_session(run):
                self._give_back(ruleset)
        if run.errors:
            raise EvaluationError(f"the rules engine failed: {run.errors[0]!r}") from run.errors[0]
        return resolve(self.policy, case, list(run.firings.values()), len(items or ()))

    def _run_session(self, run: _Run, batch: list[dict[str, Any]]) -> None:
        """Assert the facts, then run every action the engine starts until it has none left."""
        code, state = rete.assert_facts(run.ruleset, orjson.dumps(batch).decode())
        if code not in (0, _NOT_HANDLED):
            raise EvaluationError(f"the engine refused the case's facts (code {code})")
        self._run_actions(run, state)
        for stratum in self._strata:
            if run.errors:
                return
            derived = []
            for fact in stratum:
                values = run.concluded.get(fact.name)
                if values:
                    value = fact.combine(values)
                    derived.append({"kind": "derived", "name": fact.name, "value": value, "by": values[value]})
            if not derived:
                continue
            for one in derived:
                one["sid"] = run.sid
            # One call for the stratum: its facts read none of each other, so the Rete network joins
            # them all before any rule on them runs, as it would one at a time.
            code, state = rete.assert_facts(run.ruleset, orjson.dumps(derived).decode())
            if code not in (0, _NOT_HANDLED):  # not handled: a derived value no rule builds on
                raise EvaluationError(f"the engine refused a derived fact (code {code})")
            if code == 0:
                self._run_actions(run, state)

    def _run_actions(self, run: _Run, state: Any) -> None:
        """Run every action the engine starts: each only notes its message; they are read after the loop,
        so the engine's actions cost two C calls each and nothing the rules decide waits on Python."""
        ruleset, always = run.ruleset, self._always_message
        messages: list[str] = []
        started = rete.start_action_for_state(ruleset, state)
        message = started[1] if started else None
        while message:
            if message.startswith(always):
                self._mark_always(run)
            else:
                messages.append(message)
            message = rete.complete_and_start_action(ruleset, state)
        if not run.errors:
            self._record(run, messages)

    def _end_session(self, run: _Run) -> bool:
        """Whether the ruleset can be used again."""
        if run.always_ran and not run.engine_broke:
            rete.delete_state(run.ruleset, run.sid)
            return True
        if not run.always_ran:
            run.errors.append(EvaluationError("no action ran for this case"))
        # delete_state after no action (or mid-action) could crash the process: the ruleset is not used
        # again, and is deleted with its last reference.
        return False

    def _mark_always(self, run: _Run) -> None:
        run.always_ran = True

    def _record(self, run: _Run, messages: list[str]) -> None:
        """What each action's rule concluded: its firing (with the rules whose derived facts it read, and
        its piece of information) and its derived values. An error here is kept and re-raised once the
        session has ended cleanly."""
        firings, concluded = run.firings, run.concluded
        try:
            for message in messages:
                # The C engine writes {"<rule id>": {<alias>: <fact>, ...}}; rule ids need no JSON escaping
                # (engine/schemas.py), so the id is read off the text and only rules that use their matched
                # facts (an item's index, the rules a derived fact came from) pay for parsing them.
                rule_id = message[2 : message.index('"', 2)]
                rule, reads, derive = self._actions[rule_id]
                if reads:
                    matched = orjson.loads(message)[rule_id]
                    supports = frozenset(
                        by for alias, fact in matched.items() if alias[:2] == "d_" for by in fact["by"]
                    )
                    item = matched["item"]["index"] if "item" in matched else None
                else:
                    supports, item = _NONE, None
                key = (rule_id, item)
                firing = firings.get(key)
                if firing is None:
                    firings[key] = Firing(rule, item, supports)
                elif not supports <= firing.supports:  # an `any` of two branches fired twice: one firing
                    firings[key] = Firing(rule, item, firing.supports | supports)
                for name, value in derive:
                    by = concluded.setdefault(name, {}).setdefault(value, [])
                    if rule_id not in by:
                        by.append(rule_id)
        except BaseException as exc:  # the session must still end cleanly; re-raised after it
            run.errors.append(exc)
