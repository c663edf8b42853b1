"""What the hash chain costs a write: appends/s of chained records against plain inserts.

Writes decisions the size the service records (a verdict of a few KB) from N
threads, each with its own connection, into a fresh sqlite file and, if one
answers, a fresh schema on PostgreSQL; first as a plain INSERT (no chain),
then through ``service.logchain.append`` (the service's path), alternating
twice so a busy machine shows in both. Figures on a shared machine are
noisy: compare the two rows of one run.

    .venv/bin/python bench/log_append.py [--threads 8] [--writes 800]
        [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from infoshare.service.store import linkseal, signing
from infoshare.service.store.database import open_store
from infoshare.service.store.logchain import append
from infoshare.service.store.models import Decision

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from shared_cases import SHARE_FACTS as FACTS  # noqa: E402  (the case the service tests send)

VERDICT = {"decision": "share", "rationale": [{"because": "x" * 200, "clauses": [{"text": "y" * 300}]}] * 8}


def fields(n: int) -> dict:
    return {
        "case_ref": f"BENCH-{n}",
        "facts": FACTS,
        "verdict": VERDICT,
        "decision": "share",
        "policy_id": "information-sharing",
        "policy_version": "1",
        "policy_digest": "0" * 64,
        "key_name": "bench",
    }


def measure(label: str, url: str, threads: int, writes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="infoshare-key-") as keys:
        linkseal.use(signing.load_or_create(Path(keys) / "log-signing.key"))  # links sealed, as the service's are
    open_store(url)
    ways = {
        "plain insert": lambda n: Decision.create(**fields(n)),
        "chained append": lambda n: append(Decision, **fields(n)),
    }
    for name in [*ways, *ways]:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(ways[name], range(writes)))
        print(f"{label:<11} {threads} threads  {name:<15} {writes / (time.perf_counter() - started):7.0f} writes/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--writes", type=int, default=800)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure("sqlite", f"sqlite:///{Path(folder) / 'bench.sqlite3'}?timeout=30", args.threads, args.writes)
    try:
        import psycopg2

        admin = psycopg2.connect(args.postgres, connect_timeout=3)
    except Exception as exc:  # no driver or no server: the sqlite figures stand alone
        print(f"postgresql  skipped: {exc}".strip())
        return
    admin.autocommit = True
    schema = f"infoshare_bench_{uuid.uuid4().hex[:8]}"
    admin.cursor().execute(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in args.postgres else "?"
        measure("postgresql", f"{args.postgres}{separator}options=-csearch_path%3D{schema}", args.threads, args.writes)
    finally:
        admin.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


if __name__ == "__main__":
    main()
