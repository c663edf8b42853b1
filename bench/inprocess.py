"""In-process timings: infoshare's engine, the peers and the durable-rules floor, on the same cases."""

from __future__ import annotations

import json
import threading
import time
from array import array
from collections.abc import Callable
from typing import Any

import durable_rules_engine as rete
from durable import engine as durable

from infoshare.engine import Engine
from infoshare.engine.policy.factschema import load_facts


def percentile(samples: array, p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def summary(samples_us: array, wall_s: float) -> dict[str, float]:
    return {
        "cases": len(samples_us),
        "per_second": len(samples_us) / wall_s,
        "p50_us": percentile(samples_us, 0.50),
        "p99_us": percentile(samples_us, 0.99),
    }


def timed(call: Callable[[Any], Any], cases: list[Any], warmup: int = 500) -> dict[str, float]:
    """Each case's own time (perf_counter_ns around the call) and the run's rate."""
    for case in cases[:warmup]:
        call(case)
    samples = array("d", bytes(8 * len(cases)))
    clock = time.perf_counter_ns
    started = time.perf_counter()
    for n, case in enumerate(cases):
        t0 = clock()
        call(case)
        samples[n] = (clock() - t0) / 1000
    return summary(samples, time.perf_counter() - started)


def threaded(call: Callable[[Any], Any], cases: list[Any], threads: int) -> dict[str, float]:
    """`threads` threads share the cases; the rate is all cases over the wall time.

    Each thread works through its own contiguous share, as one thread works through them all.
    Shares dealt out in turn (case 0 to the first thread, case 1 to the second, ...) measured
    the corpus's memory layout as much as the threads: cases made one after another lie next to
    each other, and a thread taking every fourth reads four times as much memory for its turn
    (memo hits, 4 threads: 0.86x one thread dealt in turn, 1.03x in contiguous shares, one run)."""
    samples = array("d", bytes(8 * len(cases)))
    clock = time.perf_counter_ns
    errors: list[BaseException] = []
    share = -(-len(cases) // threads)

    def worker(first: int) -> None:
        try:
            for n in range(first * share, min(len(cases), (first + 1) * share)):
                t0 = clock()
                call(cases[n])
                samples[n] = (clock() - t0) / 1000
        except BaseException as exc:  # noqa: BLE001 - reported below, never hidden
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return {**summary(samples, time.perf_counter() - started), "threads": threads}


def infoshare_parts(engine: Engine, cases: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Where one evaluation's time goes: validating the facts, and the rest (rules + verdict)."""
    valid = [load_facts(engine._schema, c) for c in cases]
    return {
        "validate facts (quick check)": timed(engine.load, cases),
        "validate facts (marshmallow, as before)": timed(lambda c: load_facts(engine._schema, c), cases),
        "rules in durable-rules + verdict": timed(engine.evaluate_valid, valid),
    }


TRIVIAL = {"seen": {"all": [{"m": {"kind": "case"}}]}}


def durable_floor_c(cases: list[dict[str, Any]]) -> dict[str, float]:
    """durable-rules' own cost through the calls infoshare makes: one fact, one rule, one action, delete."""
    handle = rete.create_ruleset("floor-c", json.dumps(TRIVIAL))
    sids = iter(range(1, 10**9))

    def one(case: dict[str, Any]) -> None:
        sid = str(next(sids))
        code, state = rete.assert_fact(handle, json.dumps({**case, "kind": "case", "sid": sid}))
        message = rete.start_action_for_state(handle, state)[1]
        while message:
            json.loads(message)
            message = rete.complete_and_start_action(handle, state)
        rete.delete_state(handle, sid)

    try:
        return timed(one, cases)
    finally:
        rete.delete_ruleset(handle)


class _Host(durable.Host):
    def __init__(self) -> None:
        super().__init__()

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        return lambda c: None

    def _run(self) -> None:
        """No background dispatch."""


def durable_floor_host(cases: list[dict[str, Any]]) -> dict[str, float]:
    """The same through durable-rules' documented Python API (Host.assert_fact, delete_state)."""
    host = _Host()
    host.register_rulesets({"floor-host": {"seen": {"all": [{"m": {"kind": "case"}}], "run": "seen"}}})
    sids = iter(range(1, 10**9))

    def one(case: dict[str, Any]) -> None:
        sid = str(next(sids))
        host.assert_fact("floor-host", {**case, "kind": "case", "sid": sid})
        host.delete_state("floor-host", sid)

    return timed(one, cases)
