"""Benchmark: in-process evaluation of the shipped policy.

Prints the median and p99 time of one evaluation over N cases (a mix of the
policy's own example cases), where that time goes (fact validation, the
durable-rules session, combining the verdict), and the process's memory
before and after, to show that sessions are not leaking.
Figures, not pass/fail: the machine is shared, so compare ratios within a run.

    .venv/bin/python bench/evaluate.py [--cases 10000]
"""
from __future__ import annotations

import argparse
import resource
from array import array
import statistics
import time

from engine import Engine, load_policy
from engine.factschema import load_facts
from engine.loader import SHIPPED_POLICY
from engine.policytests import load_tests


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(samples: array, p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()

    started = time.perf_counter()
    policy = load_policy(SHIPPED_POLICY)
    loaded = time.perf_counter()
    engine = Engine(policy)
    compiled = time.perf_counter()
    cases = [t.facts for t in load_tests(SHIPPED_POLICY)]
    print(f"policy {policy.id} {policy.version}: {len(policy.rules)} rules, {len(cases)} distinct cases")
    print(f"load+check {1000 * (loaded - started):.1f} ms, compile+register {1000 * (compiled - loaded):.1f} ms")

    for facts in cases * 20:  # warm up
        engine.evaluate(facts)
    # samples are stored before memory is read, so that they do not count as growth
    total, validate = array("d", bytes(8 * args.cases)), array("d", bytes(8 * args.cases))
    rss_before = rss_mib()

    schema = engine._schema
    decisions: dict[str, int] = {}
    for n in range(args.cases):
        facts = cases[n % len(cases)]
        t0 = time.perf_counter_ns()
        verdict = engine.evaluate(facts)
        t1 = time.perf_counter_ns()
        load_facts(schema, facts)
        t2 = time.perf_counter_ns()
        total[n] = (t1 - t0) / 1000
        validate[n] = (t2 - t1) / 1000
        decisions[verdict.decision] = decisions.get(verdict.decision, 0) + 1
    rss_after = rss_mib()

    med, val = statistics.median(total), statistics.median(validate)
    print(f"evaluations: {args.cases} in a row, no error; decisions: "
          + ", ".join(f"{k} {v}" for k, v in sorted(decisions.items())))
    print(f"one evaluation: median {med:.0f} us, p99 {percentile(total, 0.99):.0f} us, "
          f"max {max(total):.0f} us  ({1e6 / med:,.0f} per second on one core)")
    print(f"  of which fact validation (marshmallow): median {val:.0f} us ({100 * val / med:.0f}%)")
    print(f"memory: {rss_before:.1f} MiB before, {rss_after:.1f} MiB after {args.cases} evaluations "
          f"({rss_after - rss_before:+.1f} MiB)")


if __name__ == "__main__":
    main()
