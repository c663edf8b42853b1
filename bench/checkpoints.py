"""What signed checkpoints cost: recorded decisions/s with and without them, and verifying a large log.

1. Throughput: `infoshare serve` (2 gthread workers, fresh sqlite store)
   under 8 keep-alive clients (wrk, else the Python driver) recording
   decisions, alternately with checkpoints as shipped (every 1,000 records
   and every second) and with them pushed out of reach (every 10^9 records
   and every day: nothing is signed while it runs), twice each, in one
   run. Prints decisions/s of each and the ratio.
2. Verification: a store of N chained decisions (default 1,000,000),
   written straight into sqlite in bulk (each record's content and link
   hashed with the service's own functions, not through HTTP), signed
   every 1,000 records by the service's signer; then ``infoshare log
   verify``'s check (chain and checkpoints) and one case's export are
   timed. Prints the store's and the checkpoint file's sizes, the times,
   and the peak memory.

    .venv/bin/python bench/checkpoints.py [--records 1000000] [--seconds 10] [--skip-http]

Figures on a shared machine are noisy: compare within one run; the load
average is printed with them.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

import http_load
import wrk_load
from log_append import FACTS

from infoshare.service.store import caseexport, checkpointaudit, linkseal, signing
from infoshare.service.store.checkpoints import Checkpointer, read_lines
from infoshare.service.store.database import open_store
from infoshare.service.store.logchain import content, content_hash, head, link_hash
from infoshare.service.store.models import Decision

OFF = {"INFOSHARE_LOG_CHECKPOINT_RECORDS": str(10**9), "INFOSHARE_LOG_CHECKPOINT_SECONDS": "86400"}
# About the size of the shipped policy's verdicts: a decision, its reasons and the clauses quoted.
VERDICT = {"decision": "share", "rationale": [{"because": "x" * 200, "clauses": [{"text": "y" * 300}]}] * 3}
COLUMNS = ("case_ref", "facts", "verdict", "decision", "policy_id", "policy_version", "policy_digest")


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def throughput(seconds: float) -> None:
    bodies = [{"case_ref": f"CK-{n}", "requested_by": "bench", "facts": FACTS} for n in range(2000)]
    figures: dict[str, list[float]] = {"with checkpoints": [], "without": []}
    cpu: dict[str, list[float]] = {"with checkpoints": [], "without": []}
    for label in [*figures, *figures, *figures]:
        with tempfile.TemporaryDirectory(prefix="infoshare-ckpt-") as tmp:
            checkpoints = Path(tmp) / "log-checkpoints.jsonl"
            env = {**(OFF if label == "without" else {}), "INFOSHARE_LOG_CHECKPOINT_FILE": str(checkpoints)}
            with http_load.infoshare_server(2, env=env) as server:
                if wrk_load.available():
                    run = wrk_load.drive(server, "/v1/decisions", bodies, 8, seconds, 201)
                else:
                    posts = [http_load.post("/v1/decisions", body, server.token) for body in bodies]
                    run = http_load.drive(server, posts, 8, seconds, 201)
                signed = len(list(read_lines(checkpoints)))
        figures[label].append(run["per_second"])
        cpu[label].append(run["server_cpu_ms_per_request"])
        print(
            f"POST /v1/decisions, 8 clients, {label:<16} {run['per_second']:7.0f}/s  "
            f"p99 {run['p99_ms']:.1f} ms  workers' CPU {run['server_cpu_ms_per_request']:.2f} ms/request  "
            f"errors {run['errors']}  checkpoints {signed}  ({load()})"
        )
    with_, without = (sum(values) / len(values) for values in figures.values())
    print(f"checkpoints cost {100 * (1 - with_ / without):.1f}% of recorded decisions/s ({with_:.0f} vs {without:.0f})")
    with_, without = (sum(values) / len(values) for values in cpu.values())
    print(f"and {100 * (with_ / without - 1):.1f}% more workers' CPU per decision ({with_:.2f} vs {without:.2f} ms)")


def bulk_store(folder: Path, records: int, every: int) -> tuple[Path, Path, Path]:
    """A store of ``records`` chained decisions over records/10 cases, signed every ``every``."""
    path = folder / "bulk.sqlite3"
    key, checkpoints = folder / "log-signing.key", folder / "log-checkpoints.jsonl"
    linkseal.use(signing.load_or_create(key))  # the store's own first records are sealed, as the service's are
    database = open_store(f"sqlite:///{path}")
    signer = Checkpointer(database, signing.load(key), str(checkpoints), every, 1.0)
    secret = linkseal.secret_of(signer.signer)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    with database.connection_context():
        first, previous = head()  # the store's own records (the chain's scope) come first
        signer.sign()  # as the service does at a new store's start: later checkpoints follow it
    started = time.perf_counter()
    for start in range(1, records + 1, every):
        decisions, links = [], []
        for n in range(start, min(start + every, records + 1)):
            row = Decision(
                id=n,
                case_ref=f"CASE-{n % max(1, records // 10)}",
                facts=FACTS,
                verdict=VERDICT,
                decision="share",
                policy_id="information-sharing",
                policy_version="1",
                policy_digest="0" * 64,
                key_name="bench",
                client="bench",
            )
            digest = content_hash(content("decision", row))
            previous_link, previous = previous, link_hash(first + n, "decision", n, previous, digest)
            decisions.append(
                (
                    n,
                    *(Decision._meta.fields[c].db_value(getattr(row, c)) for c in COLUMNS),
                    "bench",
                    "bench",
                    str(row.recorded_at),
                )
            )
            seal = linkseal.seal_with(secret, "decision", n, digest, row.case_ref)  # as the service seals each link
            links.append((first + n, "decision", n, digest, previous_link, previous, seal))
        db.execute("BEGIN")
        db.executemany(
            f"INSERT INTO decision (id, {', '.join(COLUMNS)}, key_name, client, recorded_at) "
            f"VALUES ({', '.join('?' * (len(COLUMNS) + 4))})",
            decisions,
        )
        db.executemany(
            "INSERT INTO log_link (seq, kind, record_id, content_hash, prev_hash, hash, seal) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            links,
        )
        db.execute("COMMIT")
        with database.connection_context():
            signer.sign()
    db.close()
    print(f"made {records:,} chained decisions in {time.perf_counter() - started:.0f} s ({load()})")
    return path, checkpoints, key


def verification(records: int) -> None:
    with tempfile.TemporaryDirectory(prefix="infoshare-bulk-") as tmp:
        path, checkpoints, key = bulk_store(Path(tmp), records, 1000)
        public = signing.load_public(key)
        size = sum(p.stat().st_size for p in path.parent.glob("bulk.sqlite3*"))
        print(f"store {size / 2**20:,.0f} MiB, checkpoint file {checkpoints.stat().st_size / 2**10:,.0f} KiB")
        started = time.perf_counter()
        report = checkpointaudit.verify(checkpoints, public)
        took = time.perf_counter() - started
        assert report.chain.ok and not report.findings and not report.unsigned, report.findings
        print(
            f"log verify: {report.chain.count:,} records, {report.checkpoints:,} checkpoints in {took:.1f} s "
            f"({report.chain.count / took:,.0f} records/s) ({load()})"
        )
        started = time.perf_counter()
        out = io.StringIO()
        written = caseexport.export(out, "CASE-7", report.signed)  # type: ignore[arg-type]
        print(
            f"log export --case: {written} records and their proof ({len(out.getvalue()) / 2**10:.0f} KiB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    if not args.skip_http:
        throughput(args.seconds)
    verification(args.records)


if __name__ == "__main__":
    main()
