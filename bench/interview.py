"""POST /v1/interview against POST /v1/evaluate, on the partial cases an interview passes through,
and how many questions the interview asks.

Both calls run through the whole Flask app in this process (auth, request
schema, engine, response) on the same cases, alternately, so their ratio
holds on a busy machine. The cases are every partial case on the
interview's walks from {subject} (each answer to the first question, until
settled), plus the seeded corpus's cases; the interview's analysis of a
partial case is kept per policy digest, so the first pass (cold: each case
analysed for the first time) is reported apart from the next (warm); both
must be within twice evaluate's p50. Before them, the first analysis of
each {subject} (what a server works out at start) is timed alone.

The questions: over every complete case of the reduced space (one value
per value class of each fact the rules read), how many questions the
interview asks before it is settled, following its own order; the mean
and maximum, against the number of facts in the vocabulary.

    .venv/bin/python bench/interview.py [--corpus N]
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from corpus import make_corpus  # noqa: E402
from inprocess import percentile  # noqa: E402

from infoshare.engine.analysis.interview import interview, space_for  # noqa: E402
from infoshare.engine.policy.loader import SHIPPED_POLICY  # noqa: E402
from infoshare.service import create_app  # noqa: E402
from infoshare.service.access.keys import create_key  # noqa: E402

TARGET_RATIO = 2.0  # interview p50 at most twice evaluate's


def answers(space: Any, name: str) -> list[Any]:
    classes = space.classes[name]
    return [next(v for v in c.members if v is not None) for c in classes if any(v is not None for v in c.members)]


def walk_cases(engine: Any) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """Every partial case on the interview's walks, and (questions asked, complete cases) per end."""
    space = space_for(engine)
    given = {n: len(answers(space, n)) for n in space.read}
    cases: list[dict[str, Any]] = []
    ends: list[tuple[int, int]] = []

    def walk(case: dict[str, Any], asked: int) -> None:
        cases.append(case)
        result = interview(engine, case)
        if result.settled:
            # every complete case that answers the same: the open read facts take any given class
            ends.append((asked, math.prod(given[n] for n in space.read if n not in case)))
            return
        fact = result.questions[0].fact
        for value in answers(space, fact):
            walk({**case, fact: value}, asked + 1)

    for subject in engine.policy.fact("subject").values:
        walk({"subject": subject}, 0)
    return cases, ends


def timed_pair(client: Any, headers: dict[str, str], cases: list[dict[str, Any]]) -> dict[str, array]:
    samples = {"evaluate": array("d"), "interview": array("d")}
    clock = time.perf_counter_ns
    for case in cases:
        for path in ("evaluate", "interview"):
            t0 = clock()
            response = client.post(f"/v1/{path}", json={"facts": case}, headers=headers)
            samples[path].append((clock() - t0) / 1000)
            assert response.status_code == 200, response.json
    return samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=int, default=2000, help="seeded corpus cases added to the walks' cases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                "INFOSHARE_POLICY": str(SHIPPED_POLICY),
                "INFOSHARE_RATE_LIMIT": 0,
            }
        )
        logging.getLogger("infoshare").setLevel(logging.WARNING)  # no request lines in the figures
        with app.app_context():
            token = create_key("case-system", "bench-interview")[1]
        engine = app.extensions["infoshare"].engine
        prepare = {}
        for subject in ("child", "adult"):  # the first answer of an interview, cold: what the server warms
            started, cpu = time.perf_counter(), time.process_time()
            space_for(engine).analysis(engine.load({"subject": subject}))
            prepare[subject] = (time.perf_counter() - started, time.process_time() - cpu)
        walks, ends = walk_cases(engine)
        space_for(engine)._cases.clear()  # the walks' cases are analysed again, cold, below
        corpus = [{k: v for k, v in c.items() if k != "information"} for c in make_corpus(engine.policy, args.corpus)]
        cases = walks + corpus
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        cold = timed_pair(client, headers, cases)
        warm = timed_pair(client, headers, cases)

    facts = len(engine.policy.case_facts)
    total = sum(weight for _, weight in ends)
    mean = sum(asked * weight for asked, weight in ends) / total
    longest = max(asked for asked, _ in ends)
    print(f"interview benchmark: {len(walks):,} partial cases on the interview's walks + {len(corpus):,} corpus cases")
    for subject, (wall, cpu) in prepare.items():
        print(
            f"first analysis of {{subject: {subject}}}: {wall:.2f} s wall, {cpu:.2f} s CPU (once per version and process)"
        )
    print(f"{'in process, Flask app':44} {'p50 us':>9} {'p99 us':>9}")
    for label, run in (("cold (first analysis of each case)", cold), ("warm (analysis kept)", warm)):
        for path in ("evaluate", "interview"):
            print(f"POST /v1/{path:9} {label:34} {percentile(run[path], 0.5):9.0f} {percentile(run[path], 0.99):9.0f}")
    ratio = percentile(warm["interview"], 0.5) / percentile(warm["evaluate"], 0.5)
    cold_ratio = percentile(cold["interview"], 0.5) / percentile(cold["evaluate"], 0.5)
    print(f"interview p50 / evaluate p50: warm {ratio:.2f}x, cold {cold_ratio:.2f}x")
    print(
        f"questions before settled, over all {total:,} complete cases of the reduced space "
        f"({len(ends):,} distinct walks): mean {mean:.2f}, maximum {longest}, "
        f"of {facts} facts in the vocabulary ({facts - 1} besides the subject, which every case gives)"
    )
    met = True
    for label, value in (("warm", ratio), ("cold", cold_ratio)):
        met = met and value <= TARGET_RATIO
        print(
            f"target: [{'met' if value <= TARGET_RATIO else 'MISSED'}] POST /v1/interview p50 <= "
            f"{TARGET_RATIO:.0f}x POST /v1/evaluate ({label})"
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
