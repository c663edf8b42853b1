"""Reload against a real `infoshare serve --workers 3`: every worker moves, or none does."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from service_cases import SHARE_FACTS
from test_service_live import call, environment, infoshare, serving

from infoshare.engine.policy.loader import SHIPPED_POLICY

ASKS = 48


def answers_by_worker(base: str, token: str, log: Path) -> dict[int, set[str]]:
    """ASKS concurrent verdicts (8 at a time, so every worker is busy): the digests each worker
    process answered with, by pid (the request id ties an answer to its worker's log line)."""

    def ask(n: int) -> tuple[str, str]:
        request_id = f"reload-{uuid.uuid4().hex}"
        status, verdict = call(
            "POST", f"{base}/v1/evaluate", {"facts": SHARE_FACTS}, token, {"X-Request-ID": request_id}
        )
        assert status == 200, verdict
        return request_id, verdict["policy"]["digest"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answered = dict(pool.map(ask, range(ASKS)))
    pids = {}
    for line in log.read_text().splitlines():
        if line.startswith("{") and '"request_id": "reload-' in line:
            entry = json.loads(line)
            pids[entry["request_id"]] = entry["pid"]
    by_worker: dict[int, set[str]] = {}
    for request_id, digest in answered.items():
        by_worker.setdefault(pids[request_id], set()).add(digest)
    return by_worker


def workers(master: int) -> set[int]:
    return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def digests(base: str, token: str, log: Path, master: int) -> set[str]:
    """The digests every worker answers with: asked until each worker of `master` has answered."""
    seen: dict[int, set[str]] = {}
    deadline = time.monotonic() + 30
    while not workers(master) <= set(seen):
        assert time.monotonic() < deadline, f"workers {workers(master) - set(seen)} never answered"
        for pid, answered in answers_by_worker(base, token, log).items():
            seen.setdefault(pid, set()).update(answered)
    return {digest for pid, answered in seen.items() if pid in workers(master) for digest in answered}


def settle(base: str, token: str, log: Path, master: int, want: str) -> None:
    """Wait (at most 15 s) until every worker answers from `want`, then check once more."""
    deadline = time.monotonic() + 15
    while digests(base, token, log, master) != {want}:
        assert time.monotonic() < deadline, f"workers did not all move to {want}"
        time.sleep(0.2)
    assert digests(base, token, log, master) == {want}


@contextmanager
def steady_load(base: str, token: str):
    """Two clients asking without pause; yields the list of (status, version, basis) they got."""
    answers: list[tuple[int, str | None, str | None]] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                status, verdict = call("POST", f"{base}/v1/evaluate", {"facts": SHARE_FACTS}, token)
            except OSError as error:  # a refused or dropped connection is an error the user would see
                answers.append((0, None, repr(error)))
                continue
            answers.append((status, verdict.get("policy", {}).get("version"), verdict.get("basis", [None])[0]))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        yield answers
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def test_reload_moves_every_worker_and_a_broken_reload_moves_none(tmp_path):
    policy = tmp_path / "policy"
    shutil.copytree(SHIPPED_POLICY, policy)
    env = {
        **environment(tmp_path / "live.sqlite3"),
        "INFOSHARE_POLICY": str(policy),
        "INFOSHARE_POLICY_POLL_SECONDS": "0.2",
    }
    owner = infoshare("keys", "create", "--role", "policy-owner", env=env).stdout.splitlines()[-1]
    asker = infoshare("keys", "create", "--role", "case-system", env=env).stdout.splitlines()[-1]
    log = tmp_path / "server.log"
    version = policy / "policy.yaml"
    rules = policy / "rules" / "3-consent.yaml"
    consented = "The subject of the information has consented to this sharing."
    shipped_rules = rules.read_text()
    wording = {"2.0.0": consented}

    def release(number: str) -> None:
        """Version `number` of the policy, with the consent rule worded for that version."""
        wording[number] = f"The subject has consented to this sharing (policy {number})."
        rules.write_text(shipped_rules.replace(consented, wording[number]))
        version.write_text(good.replace("version: 2.0.0", f"version: {number}"))

    good = version.read_text()
    with serving(env, log, workers=3) as base, steady_load(base, asker) as answers:
        master = int(re.search(r"\[(\d+)\] \[INFO\] Listening at", log.read_text()).group(1))
        first = call("GET", f"{base}/v1/policy", token=asker)[1]["digest"]
        assert digests(base, asker, log, master) == {first}

        version.write_text(good.replace("version: 2.0.0", "version: [2.0.0"))
        status, refused = call("POST", f"{base}/v1/policy/reload", token=owner)
        assert status == 422 and refused["messages"]["policy"][0].startswith("policy.yaml:")
        time.sleep(0.5)
        assert digests(base, asker, log, master) == {first}

        release("2.1.0")
        status, reloaded = call("POST", f"{base}/v1/policy/reload", token=owner)
        assert status == 200, reloaded
        second = reloaded["policy"]["digest"]
        assert second != first and reloaded["policy"]["version"] == "2.1.0"
        settle(base, asker, log, master, second)

        release("2.2.0")
        os.kill(master, signal.SIGHUP)
        deadline = time.monotonic() + 15
        while call("GET", f"{base}/v1/policy", token=asker)[1]["version"] != "2.2.0":
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        third = call("GET", f"{base}/v1/policy", token=asker)[1]["digest"]
        settle(base, asker, log, master, third)

        version.write_text("outcomes: [\n")
        os.kill(master, signal.SIGHUP)
        deadline = time.monotonic() + 15
        while "SIGHUP: the policy was not reloaded" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        time.sleep(1.0)  # the re-forked workers are up and have polled the store
        assert digests(base, asker, log, master) == {third}
    assert len(answers) > 100 and {a for a in answers if a[0] != 200} == set()
    assert {number for _, number, _ in answers} == {"2.0.0", "2.1.0", "2.2.0"}
    assert {(number, basis) for _, number, basis in answers} == set(wording.items()), "an answer mixed versions"
