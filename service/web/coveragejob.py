"""The protocol coverage report for the policy owner's page, computed in a child process.

Running the scenarios opens services of their own (the recording steps start
an app on a scratch store), which binds the store's models to another
database: inside the serving process that would move its store away. So the
report is made in a fresh (spawned) process and comes back as plain data. It
runs on the version's own folder when that still holds it; otherwise (a
version rebuilt from the store) on its stored text written to a private
scratch folder, with the scenario phrases and other files the digest does
not cover taken from the served folder. It is computed once per policy
digest and kept.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from infoshare.engine import Policy

_reports: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()
TIMEOUT_SECONDS = 120


def report(policy: Policy, features: Path, served: Path) -> dict[str, Any]:
    with _lock:
        found = _reports.get(policy.digest)
        if found is None:
            own = str(policy.directory) if policy.directory is not None else None
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                job = pool.submit(compute, policy.digest, own, dict(policy.files), str(features), str(served))
                found = job.result(TIMEOUT_SECONDS)
            _reports[policy.digest] = found
    return found


def compute(digest: str, own: str | None, files: dict[str, Any], features: str, served: str) -> dict[str, Any]:
    """In the child: the report as plain data (clauses with their rules and scenarios, problems)."""
    from infoshare.engine import PolicyError, load_policy
    from infoshare.engine.analysis.coverage import coverage_of

    with tempfile.TemporaryDirectory(prefix="infoshare-coverage-") as scratch:
        folder = Path(own) if own else None
        try:
            policy = load_policy(folder) if folder and folder.is_dir() else None
        except PolicyError:
            policy = None
        if policy is None or policy.digest != digest:
            folder = Path(scratch) / "policy"
            shutil.copytree(served, folder)  # the phrases, tests and sources the digest does not cover
            for covered in {name.split("/", 1)[0] for name in files}:
                target = folder / covered
                if target.is_dir():
                    shutil.rmtree(target)
                else:
                    target.unlink(missing_ok=True)
            for name, text in files.items():
                path = folder / name
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
            policy = load_policy(folder)
        result = coverage_of(policy, Path(features))
        fired = Counter(rule for s in result.scenarios for rule in s.rules_fired)
        return {
            "problems": [str(p).replace(str(folder), "policy") for p in result.problems],
            "scenarios": len(result.scenarios),
            "passed": sum(1 for s in result.scenarios if s.passed),
            "clauses": [
                {
                    "id": e.clause.id,
                    "text": e.clause.text,
                    "normative": e.clause.normative,
                    "informative_because": e.clause.informative_because,
                    "rules": [
                        {"id": r.id, "where": f"{r.file}:{r.line}", "because": r.because, "fired": fired[r.id]}
                        for r in e.rules
                    ],
                    "scenarios": [
                        {"name": s.name, "where": s.location, "passed": s.passed, "failure": s.failure}
                        for s in e.scenarios
                    ],
                }
                for e in result.clauses
            ],
        }
