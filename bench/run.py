"""infoshare's benchmark: the engine in process beside peer engines and floors, HTTP, and memory.

Everything runs in one go so that ratios hold on a noisy shared machine:

1. a seeded corpus of sharing questions drawn from the policy's vocabulary;
2. each peer's translation of the decision logic is checked against
   infoshare's decision on every case of the corpus (a disagreement fails
   the run), then every engine is timed on the same cases;
3. floors: durable-rules with a one-rule ruleset, and a constant Flask
   endpoint under infoshare's own server settings;
4. HTTP: POST /v1/evaluate and POST /v1/decisions on `infoshare serve`, at
   1, 8 and 32 clients for a bounded time, and the decisions found in the
   store afterwards against those acknowledged with a 201;
5. memory of the server's workers while decisions are recorded.

One table on stdout, the same as JSON under bench/results/.

    .venv/bin/python bench/run.py [--quick] [--strict]

Exit status: 1 when a figure could not be measured or a check failed (a peer
disagrees with infoshare, wrk is missing, a decision was acknowledged but not
stored, the corpus lacks a decision), 0 otherwise. A target missed is printed
as MISSED and does not fail the run: on a shared machine a speed figure is a
measurement to read, not a test to gate on. `--strict` fails the run on a
missed target as well, for a quiet machine that should hold them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import http_load
import inprocess
import wrk_load
from corpus import SEED, make_corpus
from peers import PEERS

from infoshare.engine import Engine, load_policy
from infoshare.engine.analysis.memo import MemoEngine
from infoshare.engine.policy.loader import SHIPPED_POLICY

RESULTS = Path(__file__).resolve().parent / "results"
LIBRARIES = (
    "durable-rules",
    "flask",
    "werkzeug",
    "gunicorn",
    "marshmallow",
    "peewee",
    "gordon-to-regorus",
    "regopy",
    "cedarpy",
    "zen-engine",
)
CORPUS_SIZE = 10_000
FULL = {
    "timed_cases": CORPUS_SIZE,
    "clients": (1, 8, 32),
    "seconds": 10.0,
    "memory_fill": 30_000,
    "memory_decisions": 100_000,
    "memory_chunk": 10_000,
}
QUICK = {
    "timed_cases": 2_000,
    "clients": (8,),
    "seconds": 2.0,
    "memory_fill": 500,
    "memory_decisions": 2_000,
    "memory_chunk": 500,
}
WORKERS = 2  # `infoshare serve`'s default
THREADS = (2, 4)
HIT_ROUNDS = 10  # memo hits take ~5 us: the threaded runs go over the cases this often, to last ~0.5 s
WRK_CLIENTS = 8
WRK = f"wrk {WRK_CLIENTS} clients:"
UNSEEN = "infoshare Engine.evaluate (no memo)"
MISSES = "infoshare memo, kinds not seen before"
HITS = "infoshare memo, kinds seen before"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run in under a minute")
    parser.add_argument("--strict", action="store_true", help="a missed target fails the run too")
    parser.add_argument(
        "--memory-decisions", type=int, help="decisions the memory run records (full: 100,000; 1,000,000 takes ~20 min)"
    )
    args = parser.parse_args()
    mode = QUICK if args.quick else FULL
    if args.memory_decisions:
        mode = {**mode, "memory_decisions": args.memory_decisions}
    started = time.monotonic()
    report: dict[str, Any] = {"mode": "quick" if args.quick else "full", "machine": machine(), "failures": []}

    policy = load_policy(SHIPPED_POLICY)
    engine = Engine(policy)
    corpus = make_corpus(policy, CORPUS_SIZE)
    expected = [engine.evaluate(case).decision for case in corpus]
    report["corpus"] = {"cases": len(corpus), "seed": SEED, "decisions": dict(Counter(expected).most_common())}
    missing = set(policy.outcomes["decision"].precedence) - set(expected)
    if missing:
        report["failures"].append(f"the corpus lacks decisions: {sorted(missing)}")

    timed = corpus[: mode["timed_cases"]]
    rows: dict[str, dict[str, Any]] = {}
    rows[UNSEEN] = inprocess.timed(engine.evaluate, timed)
    for threads in (1, *THREADS):
        rows[_threads(UNSEEN, threads)] = inprocess.threaded(engine.evaluate, timed, threads)
    for name, figures in inprocess.infoshare_parts(engine, timed).items():
        rows[f"  of which {name}"] = figures
    memo = MemoEngine(policy, size=2 * len(corpus))
    for case in corpus[-500:]:  # warm the code, not the memo: the timed cases' kinds are not among these
        memo.evaluate(case)
    rows[MISSES] = {**inprocess.timed(memo.evaluate, timed, warmup=0), "misses": memo.misses}
    hits_before = memo.hits
    rows[HITS] = {**inprocess.timed(memo.evaluate, timed, warmup=0), "hits": memo.hits - hits_before}
    for threads in (1, *THREADS):
        rows[_threads(HITS, threads)] = inprocess.threaded(memo.evaluate, timed * HIT_ROUNDS, threads)
    report["agreement"] = {}
    for make in PEERS:
        peer = make()
        wrong = [n for n, case in enumerate(corpus) if peer.decide(case) != expected[n]]
        report["agreement"][peer.name] = {
            "cases": len(corpus),
            "disagreements": len(wrong),
            "first": [corpus[n] for n in wrong[:3]],
        }
        if wrong:
            report["failures"].append(f"{peer.name} disagrees with infoshare on {len(wrong)} cases")
            continue
        rows[f"peer {peer.name}"] = {**inprocess.timed(peer.decide, timed), "peer": True}
    rows["floor durable-rules, 1 rule (C calls)"] = inprocess.durable_floor_c(timed)
    rows["floor durable-rules, 1 rule (Host API)"] = inprocess.durable_floor_host(timed)
    report["in_process"] = rows

    report["disk"] = disk_commits()
    report["http"] = http_runs(corpus, mode, report["failures"])
    report["memory"] = memory_run(corpus, mode, report["failures"])
    report["targets"] = targets(report)
    report["seconds"] = round(time.monotonic() - started, 1)

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"{report['mode']}-{stamp}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(render(report))
    print(f"\nJSON: {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    for failure in report["failures"]:
        print(f"FAILED: {failure}", file=sys.stderr)
    missed = [t["target"] for t in report["targets"] if not t["met"]]
    if args.strict:
        for target in missed:
            print(f"MISSED (--strict): {target}", file=sys.stderr)
    return 1 if report["failures"] or (args.strict and missed) else 0


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "load_average": os.getloadavg(),
        "libraries": {name: version(name) for name in LIBRARIES},
    }


def disk_commits(seconds: float = 2.0) -> dict[str, float]:
    """Single-row sqlite commits per second in WAL mode on this disk, now: what a durable write costs here."""
    rates = {}
    for synchronous in ("full", "normal"):
        with tempfile.TemporaryDirectory(prefix="infoshare-disk-") as tmp:
            db = sqlite3.connect(Path(tmp) / "probe.sqlite3", isolation_level=None)
            db.execute("PRAGMA journal_mode=wal")
            db.execute(f"PRAGMA synchronous={synchronous}")
            db.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, body TEXT)")
            count, deadline = 0, time.monotonic() + seconds
            started = time.monotonic()
            while time.monotonic() < deadline:
                db.execute("INSERT INTO probe (body) VALUES (?)", ("x" * 6000,))
                count += 1
            rates[f"commits_per_second_{synchronous}"] = count / (time.monotonic() - started)
            db.close()
    return rates


def http_runs(corpus: list[dict[str, Any]], mode: dict[str, Any], failures: list[str]) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    wrk = wrk_load.available()
    if not wrk:
        failures.append("wrk is not installed (make bench installs it): the HTTP targets are measured with it")
    with http_load.floor_server(WORKERS) as floor:
        requests = [http_load.post("/floor", {"facts": case}) for case in corpus[:1000]]
        for clients in mode["clients"]:
            runs[f"floor: constant Flask endpoint, {clients} clients"] = http_load.drive(
                floor, requests, clients, mode["seconds"], 200
            )
        if wrk:
            runs[f"{WRK} floor: constant Flask endpoint"] = wrk_load.drive(
                floor, "/floor", [{"facts": c} for c in corpus[:1000]], WRK_CLIENTS, mode["seconds"], 200
            )
    with http_load.infoshare_server(WORKERS) as server:
        evaluate = [http_load.post("/v1/evaluate", {"facts": case}, server.token) for case in corpus]
        record = [
            http_load.post(
                "/v1/decisions", {"case_ref": f"BENCH-{n}", "requested_by": "bench", "facts": case}, server.token
            )
            for n, case in enumerate(corpus)
        ]
        for clients in mode["clients"]:
            runs[f"POST /v1/evaluate, {clients} clients"] = http_load.drive(
                server, evaluate, clients, mode["seconds"], 200
            )
        for clients in mode["clients"]:
            before = server.recorded()
            run = http_load.drive(server, record, clients, mode["seconds"], 201)
            run["recorded"] = server.recorded() - before
            if run["recorded"] != run["ok"]:
                failures.append(
                    f"{clients} clients: {run['ok']} decisions acknowledged, {run['recorded']} found in the store"
                )
            runs[f"POST /v1/decisions, {clients} clients"] = run
        if wrk:
            runs[f"{WRK} POST /v1/evaluate"] = wrk_load.drive(
                server, "/v1/evaluate", [{"facts": c} for c in corpus], WRK_CLIENTS, mode["seconds"], 200
            )
            before = server.recorded()
            bodies = [{"case_ref": f"WRK-{n}", "requested_by": "bench", "facts": c} for n, c in enumerate(corpus)]
            run = wrk_load.drive(server, "/v1/decisions", bodies, WRK_CLIENTS, mode["seconds"], 201)
            run["recorded"] = server.recorded() - before
            if run["recorded"] < run["ok"]:
                failures.append(f"wrk: {run['ok']} decisions acknowledged, {run['recorded']} found in the store")
            runs[f"{WRK} POST /v1/decisions"] = run
    return runs


def memory_run(corpus: list[dict[str, Any]], mode: dict[str, Any], failures: list[str]) -> dict[str, Any]:
    """Record `memory_decisions` decisions in chunks; the workers' memory after each chunk.

    The target is memory with the memo full: each worker's memo fills (up to 4,096 verdicts,
    ~4.7 kB each) while it first meets the corpus's ~3,900 kinds, and its connections' caches
    warm, so `memory_fill` decisions are recorded before the first chunk and not counted."""
    chunk, total, fill = mode["memory_chunk"], mode["memory_decisions"], mode["memory_fill"]
    with http_load.infoshare_server(WORKERS) as server:
        record = [
            http_load.post("/v1/decisions", {"case_ref": f"MEM-{n}", "facts": case}, server.token)
            for n, case in enumerate(corpus)
        ]
        filled = http_load.drive(server, record, 8, 3600, 201, total=fill)
        after: list[int] = []
        acknowledged = filled["ok"]
        for _ in range(total // chunk):
            run = http_load.drive(server, record, 8, 3600, 201, total=chunk)
            acknowledged += run["ok"]
            after.append(max(http_load.memory_kib(pid)["VmRSS"] for pid in server.worker_pids()))
        peak = max(http_load.memory_kib(pid)["VmHWM"] for pid in server.worker_pids())
        recorded = server.recorded()
    if recorded != acknowledged:
        failures.append(f"memory run: {acknowledged} decisions acknowledged, {recorded} in the store")
    return {
        "fill": fill,
        "decisions": total,
        "acknowledged": acknowledged,
        "recorded": recorded,
        "peak_rss_mib": peak / 1024,
        "rss_after_first_chunk_mib": after[0] / 1024,
        "rss_after_last_chunk_mib": after[-1] / 1024,
        "chunk": chunk,
        "growth_mib": (after[-1] - after[0]) / 1024,
        "rss_after_each_chunk_mib": [round(value / 1024, 1) for value in after],
    }


def _threads(name: str, threads: int) -> str:
    return f"{name}, {threads} thread{'s' if threads > 1 else ''}"


def _row(report: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    return next((v for k, v in report.items() if k.startswith(prefix)), None)


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows, http = report["in_process"], report["http"]
    hit, unseen = rows[HITS]["p50_us"], rows[UNSEEN]["p50_us"]
    peers = {k.removeprefix("peer "): v["p50_us"] for k, v in rows.items() if v.get("peer")}
    fastest = min(peers.items(), key=lambda kv: kv[1]) if peers else ("none agreed with infoshare", float("nan"))
    out = [
        {
            "target": "engine, a kind seen before (memo hit): p50 <= 10 us and ahead of every peer",
            "measured": f"{hit:.1f} us; fastest peer {fastest[0]} {fastest[1]:.0f} us",
            "met": bool(peers) and hit <= 10 and hit < fastest[1],
        },
        {
            "target": "engine, a kind never seen before: p50 <= 100 us",
            "measured": f"{unseen:.0f} us (through the memo, a miss: {rows[MISSES]['p50_us']:.0f} us)",
            "met": unseen <= 100 and rows[MISSES]["p50_us"] <= 100,
        },
    ]
    for label, name in (("never seen", UNSEEN), ("seen before", HITS)):
        one = rows[_threads(name, 1)]["per_second"]  # the same harness as the threaded runs
        many = {t: rows[_threads(name, t)]["per_second"] for t in THREADS}
        out.append(
            {
                "target": f"threads do not hurt ({label}): total cases/s with {' and '.join(map(str, THREADS))} "
                "threads >= one thread's",
                "measured": ", ".join(f"{t} threads {r / one:.2f}x" for t, r in many.items()),
                "met": all(r >= one for r in many.values()),
            }
        )
    record = _row(http, f"{WRK} POST /v1/decisions")
    if record:
        out.append(
            {
                "target": "POST /v1/decisions >= 2,000/s at 8 clients (wrk), p99 <= 10 ms, 0 errors, 0 lost "
                "(sqlite, synchronous=FULL)",
                "measured": f"{record['per_second']:,.0f}/s, p99 {record['p99_ms']:.1f} ms, "
                f"{record['errors']} errors, {record['ok']:,} acknowledged, {record['recorded']:,} stored",
                "met": record["per_second"] >= 2000
                and record["p99_ms"] <= 10
                and record["errors"] == 0
                and record["recorded"] >= record["ok"],
            }
        )
    floor, evaluate = _row(http, f"{WRK} floor"), _row(http, f"{WRK} POST /v1/evaluate")
    if floor and evaluate:
        share = evaluate["per_second"] / floor["per_second"]
        out.append(
            {
                "target": "POST /v1/evaluate >= 0.6 of the constant floor's requests/s (wrk, 8 clients, same server)",
                "measured": f"{share:.2f} ({evaluate['per_second']:,.0f} against {floor['per_second']:,.0f}/s)",
                "met": share >= 0.6,
            }
        )
    memory = report["memory"]
    out.append(
        {
            "target": "worker memory does not grow while recording, with the memo full",
            "measured": f"{memory['growth_mib']:+.1f} MiB between the first and last "
            f"{memory['chunk']:,} of {memory['decisions']:,}",
            "met": memory["growth_mib"] <= 1.0,
        }
    )
    return out


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"infoshare benchmark ({report['mode']}), {m['cores']} cores, Python {m['python']}, "
        f"sqlite {m['sqlite']}, load average at start {m['load_average'][0]:.2f}",
        "libraries: " + ", ".join(f"{k} {v}" for k, v in m["libraries"].items()),
        f"corpus: {report['corpus']['cases']:,} cases (seed {report['corpus']['seed']}): "
        + ", ".join(f"{k} {v:,}" for k, v in report["corpus"]["decisions"].items()),
        "agreement with infoshare's decision on every corpus case: "
        + ", ".join(f"{k} {v['disagreements']} disagreements" for k, v in report["agreement"].items()),
        "",
    ]
    rows = report["in_process"]
    ours = rows[UNSEEN]["p50_us"]
    lines.append(
        f"{'in process (' + str(next(iter(rows.values()))['cases']) + ' cases)':<52}"
        f"{'cases/s':>10}{'p50 us':>9}{'p99 us':>9}{'infoshare/this':>16}"
    )
    for name, r in rows.items():
        lines.append(
            f"{name:<52}{r['per_second']:>10,.0f}{r['p50_us']:>9.1f}{r['p99_us']:>9.1f}{ours / r['p50_us']:>15.2f}x"
        )
    lines.append("")
    disk = report["disk"]
    lines.append(
        f"disk: {disk['commits_per_second_full']:,.0f} sqlite commits/s with synchronous=FULL (what "
        f"infoshare uses), {disk['commits_per_second_normal']:,.0f}/s with NORMAL"
    )
    lines.append(
        f"{'HTTP (infoshare serve: 2 gunicorn workers, sqlite WAL)':<46}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'p99 ms':>8}{'errors':>8}{'acked':>8}{'stored':>8}{'cpu ms/req':>11}"
    )
    for name, r in report["http"].items():
        stored = r.get("recorded", "")
        acked = r["ok"] if "recorded" in r else ""
        lines.append(
            f"{name:<46}{r['per_second']:>8,.0f}{r['p50_ms']:>8.2f}{r['p95_ms']:>8.2f}"
            f"{r['p99_ms']:>8.2f}{r['errors']:>8}{acked:>8}{stored:>8}"
            f"{r['server_cpu_ms_per_request']:>11.2f}"
        )
    mem = report["memory"]
    lines.append("(cpu ms/req: the server workers' CPU time per request, less moved by other load than req/s)")
    lines += [
        "",
        f"memory: {mem['fill']:,} decisions recorded at 8 clients to fill the memo, then {mem['decisions']:,} "
        f"({mem['recorded']:,} stored in all); "
        f"worker peak RSS {mem['peak_rss_mib']:.1f} MiB; RSS after the first {mem['chunk']:,} "
        f"{mem['rss_after_first_chunk_mib']:.1f} MiB, after the last {mem['rss_after_last_chunk_mib']:.1f} "
        f"MiB ({mem['growth_mib']:+.1f} MiB)",
        f"  the largest worker's RSS after each {mem['chunk']:,}, MiB: "
        + " ".join(f"{value:.1f}" for value in mem["rss_after_each_chunk_mib"]),
        "",
    ]
    lines.append("targets:")
    for t in report["targets"]:
        lines.append(f"  [{'met' if t['met'] else 'MISSED'}] {t['target']}: {t['measured']}")
    lines.append(f"\n{report['seconds']:.0f} s in all")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
