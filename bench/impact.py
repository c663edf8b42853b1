"""Benchmark: `infoshare impact` on a store of generated recorded decisions (1,000,000 by default).

Fills an sqlite store (the service's own tables) with decisions whose facts
are drawn the way case systems send them (each fact usually given, most
cases claiming no exception), each recorded with the decision the shipped
policy gives (engine.impact.DecisionCache: the engine decides once per
behaviour, as in the replay; tests/api/test_impact.py checks that against
evaluating every decision on its own). The stored
verdict is cut to its decision and policy, because the replay never reads
it and 1M full verdicts would only slow the filling. Then it runs
`infoshare impact` as a user would, against a copy of the policy with one
known edit (consent refused with no exception or duty is referred instead
of refused), and prints how long the fill and the replay took.

    .venv/bin/python bench/impact.py [--decisions 1000000] [--store PATH] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from infoshare.engine import load_policy
from infoshare.engine.analysis.exhaustive import domain
from infoshare.engine.analysis.impact import DecisionCache
from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service.store import signing, versions
from infoshare.service.store.database import open_store

REPO = Path(__file__).resolve().parent.parent
EDIT = (
    "      welfare_override: no\n    then:\n      decision: do_not_share\n",
    "      welfare_override: no\n    then:\n      decision: refer\n",
)


def case_facts(policy, rng: random.Random) -> dict:
    facts = {}
    for fact in policy.case_facts:
        if fact.type == "items":
            continue
        given = [v for v in domain(fact) if v is not None]
        if fact.required or rng.random() < 0.85:
            facts[fact.name] = [] if fact.type == "choices" and rng.random() < 0.6 else rng.choice(given)
    return facts


def fill(path: Path, count: int, seed: int) -> tuple[float, int]:
    policy = load_policy(SHIPPED_POLICY)
    decide = DecisionCache(policy)
    database = open_store(f"sqlite:///{path}")
    with database.connection_context():
        versions.activate(policy, "bench", signing.load_or_create(path.with_name(path.name + ".key")), {})
    database.close()
    rng = random.Random(seed)
    distinct: set[str] = set()
    started = time.perf_counter()
    start_day = datetime(2026, 1, 1)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=wal")
        db.execute("PRAGMA synchronous=off")
        rows = []
        for n in range(count):
            facts = case_facts(policy, rng)
            distinct.add(json.dumps(facts, sort_keys=True))
            decision = decide.answer(facts)[0]
            facts["information"] = [{"item": f"note {n}", "needed_for_purpose": True, "accurate_and_up_to_date": True}]
            verdict = {
                "decision": decision,
                "policy": {"id": policy.id, "version": policy.version, "digest": policy.digest},
            }
            rows.append(
                (
                    f"CASE-{n % 250_000}",
                    json.dumps(facts, sort_keys=True),
                    json.dumps(verdict),
                    decision,
                    policy.id,
                    policy.version,
                    policy.digest,
                    "bench",
                    "bench",
                    start_day + timedelta(seconds=n * 20),
                )
            )
            if len(rows) == 50_000:
                _insert(db, rows)
                rows = []
                print(f"\rfilled {n + 1:,}", end="", file=sys.stderr, flush=True)
        _insert(db, rows)
    print(file=sys.stderr)
    return time.perf_counter() - started, len(distinct)


def _insert(db: sqlite3.Connection, rows: list[tuple]) -> None:
    db.executemany(
        "INSERT INTO decision (case_ref, facts, verdict, decision, policy_id, policy_version, policy_digest,"
        " requested_by, key_name, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, help="sqlite file to fill (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="keep the store and the edited policy")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="infoshare-impact-"))
    store = args.store or work / "decisions.sqlite3"
    fill_seconds, distinct = fill(store, args.decisions, args.seed)
    print(
        f"fill:   {args.decisions:,} decisions ({distinct:,} distinct fact sets) in {fill_seconds:.1f} s; "
        f"store {store.stat().st_size / 2**20:.0f} MiB"
    )

    edited = work / "edited-policy"
    shutil.copytree(SHIPPED_POLICY, edited)
    rules = edited / "rules" / "3-consent.yaml"
    rules.write_text(rules.read_text().replace(*EDIT))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{store}"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "service", "impact", str(edited), "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    report = json.loads(result.stdout)
    print(
        f"impact: replayed {report['replayed']:,} decisions ({report['evaluated']:,} engine evaluations) in {seconds:.1f} s wall ({report['seconds']:.1f} s replaying), "
        f"{report['replayed'] / seconds:,.0f} decisions/s"
    )
    for change in report["changes"]:
        print(f"        {change['from']} -> {change['to']}: {change['count']:,}")
    if args.keep:
        print(f"kept:   {work}")
    else:
        shutil.rmtree(work)
        if args.store is None:
            store.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
