"""Evaluate cases in durable-rules, safely and repeatably.

durable-rules 2.0.28 has sharp edges (see shared notes): its Host starts
background dispatch threads, swallows exceptions raised in actions, crashes
the process on `delete_state` of a session where no action ran, and runs out
of sessions after ~1,000 undeleted ones. This module contains all of that:
a synchronous Host, one fresh session per evaluation deleted in `finally`,
an always-matching rule so an action always runs, errors caught in actions
and re-raised after the call, and one lock per engine.
"""
from __future__ import annotations

import copy
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from durable import engine as durable

from .compiler import ALWAYS, as_engine_fact, compile_policy
from .factschema import facts_schema, load_facts
from .model import Policy, Rule
from .verdict import Firing, Verdict, resolve


class EvaluationError(RuntimeError):
    """The rules engine failed; no verdict exists (callers must fail closed)."""


class _SyncHost(durable.Host):
    """A Host with actions bound by name and no background dispatch threads."""

    def __init__(self, actions: dict[str, Callable[[Any], None]]):
        self._bound = actions
        super().__init__()

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        return self._bound[action_name]

    def _run(self) -> None:
        """Background dispatch is only for timers and queued events, which infoshare does not use."""


@dataclass
class _Run:
    """What happened during one evaluation."""

    firings: dict[tuple[str, int | None], Firing] = field(default_factory=dict)
    asserted: set[tuple[str, str, str]] = field(default_factory=set)
    errors: list[BaseException] = field(default_factory=list)
    always_ran: bool = False


class Engine:
    """A compiled policy, ready to evaluate cases from any number of threads."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self._schema = facts_schema(policy)()
        self._definition = compile_policy(policy)
        self._ruleset = f"infoshare-{policy.id}-{policy.digest[:12]}"
        self._items_fact = policy.items_fact.name if policy.items_fact else None
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._runs: dict[str, _Run] = {}
        self._host = self._new_host()

    def _new_host(self) -> _SyncHost:
        actions: dict[str, Callable[[Any], None]] = {r.id: self._action(r) for r in self.policy.rules}
        actions[ALWAYS] = self._mark_always
        host = _SyncHost(actions)
        host.register_rulesets({self._ruleset: copy.deepcopy(self._definition)})  # it mutates its argument
        return host

    @property
    def ruleset_definition(self) -> dict[str, Any]:
        return copy.deepcopy(self._definition)

    def evaluate(self, facts: dict[str, Any]) -> Verdict:
        """The verdict for one case. Raises FactsInvalid for bad facts, EvaluationError if the engine fails."""
        case = load_facts(self._schema, facts)
        items = case.pop(self._items_fact, None) if self._items_fact else None
        with self._lock:
            sid = f"e{next(self._sids)}"
            run = self._runs[sid] = _Run()
            try:
                self._assert(sid, {**as_engine_fact(self.policy, case), "kind": "case"})
                for index, item in enumerate(items or ()):
                    self._assert(sid, {**item, "kind": "item", "index": index})
            except Exception as exc:  # noqa: BLE001 - any engine failure fails closed
                run.errors.append(exc)
            finally:
                self._end_session(sid, run)
        if run.errors:
            raise EvaluationError(f"the rules engine failed: {run.errors[0]!r}") from run.errors[0]
        if items is not None:
            case[self._items_fact] = items
        return resolve(self.policy, case, list(run.firings.values()), len(items or ()))

    def _assert(self, sid: str, fact: dict[str, Any]) -> None:
        try:
            self._host.assert_fact(self._ruleset, {**fact, "sid": sid})
        except durable.MessageNotHandledException:
            pass  # an item no rule speaks of: the item outcome's `otherwise` applies

    def _end_session(self, sid: str, run: _Run) -> None:
        del self._runs[sid]
        if run.always_ran:
            self._host.delete_state(self._ruleset, sid)
        else:
            # delete_state after no action would crash the process; drop the whole host instead.
            run.errors.append(EvaluationError("no action ran for this case"))
            self._host = self._new_host()

    def _mark_always(self, c: Any) -> None:
        self._runs[c.s.sid].always_ran = True

    def _action(self, rule: Rule) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            run = self._runs.get(c.s.sid)
            if run is None:
                return
            try:
                matched: dict[str, dict[str, Any]] = c._m
                supports = {fact["by"] for alias, fact in matched.items() if alias.startswith("d_")}
                item = matched["item"]["index"] if "item" in matched else None
                key = (rule.id, item)
                firing = run.firings.get(key)
                if firing is None:
                    run.firings[key] = Firing(rule, item, frozenset(supports))
                else:
                    run.firings[key] = Firing(rule, item, firing.supports | supports)
                for name, value in rule.then.derive:
                    if (name, value, rule.id) not in run.asserted:
                        run.asserted.add((name, value, rule.id))
                        try:
                            c.assert_fact({"kind": "derived", "name": name, "value": value, "by": rule.id})
                        except durable.MessageNotHandledException:
                            pass  # a derived value no rule builds on
            except BaseException as exc:  # durable-rules would swallow it; keep it to re-raise
                run.errors.append(exc)

        return action
