"""Against real `infoshare serve` processes on 127.0.0.1 (gunicorn, sync workers)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from service_cases import BARE_FACTS, SETUP_RECORDS, SHARE_FACTS

REPO = Path(__file__).resolve().parents[2]


def infoshare(*args: str, env: dict, **kwargs) -> subprocess.CompletedProcess | subprocess.Popen:
    """Run the infoshare command (as `python -m service`, so no install is needed)."""
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        **kwargs,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(
    method: str, url: str, body: dict | None = None, token: str | None = None, headers: dict | None = None
) -> tuple[int, Any]:
    """(status, the JSON body), or (status, the text) when the body is not JSON, such as a page
    from gunicorn itself: every answer is counted as what it is, never mistaken for a lost connection."""
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def start_server(env: dict, log: Path, workers: int = 2, **popen) -> tuple[subprocess.Popen, str]:
    """`infoshare serve` on a free port, once /readyz answers 200: (process, base URL)."""
    port = free_port()
    with open(log, "a") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "service",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            **popen,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if call("GET", f"{base}/readyz")[0] == 200:
                    return process, base
            except OSError:
                pass
            assert time.monotonic() < deadline, f"server did not become ready:\n{log.read_text()[-3000:]}"
            time.sleep(0.05)
    except AssertionError:
        process.kill()
        raise


@contextmanager
def serving(env: dict, log: Path, workers: int = 2):
    """A started server's base URL; stopped (SIGTERM) and checked for a clean exit afterwards."""
    process, base = start_server(env, log, workers)
    try:
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=20) == 0, log.read_text()
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def environment(database: Path) -> dict:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "INFOSHARE_POLICY": ""}


def test_a_started_server_gives_a_verdict_to_a_key_from_the_cli(tmp_path):
    env = environment(tmp_path / "live.sqlite3")
    token = infoshare("keys", "create", "--role", "case-system", "--name", "live", env=env).stdout.splitlines()[-1]
    log = tmp_path / "server.log"
    with serving(env, log) as base:
        status, made = call("POST", f"{base}/v1/decisions", {"case_ref": "LIVE-1", "facts": SHARE_FACTS}, token)
        assert status == 201 and made["decision"] == "share"
        assert call("GET", f"{base}/v1/decisions/{made['id']}", token=token) == (200, made)
        status, error = call("POST", f"{base}/v1/evaluate", {"facts": {"subject": "cat"}}, token)
        assert status == 400 and error["messages"] == {"facts": {"subject": ["Must be one of: child, adult."]}}
        assert call("GET", f"{base}/v1/policy")[0] == 401
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "infoshare.request" and line["route"] != "/readyz"]
    assert [(r["route"], r["status"]) for r in requests] == [
        ("/v1/decisions", 201),
        ("/v1/decisions/{decision_id}", 200),
        ("/v1/evaluate", 400),
        ("/v1/policy", 401),
    ]
    assert requests[0]["decision_id"] == made["id"] and requests[2]["request_id"] == error["request_id"]


def test_several_servers_record_concurrently_into_one_sqlite_file_and_lose_nothing(tmp_path):
    database = tmp_path / "shared.sqlite3"
    env = environment(database)
    token = infoshare("keys", "create", "--role", "case-system", env=env).stdout.splitlines()[-1]
    with serving(env, tmp_path / "a.log") as first, serving(env, tmp_path / "b.log") as second:

        def record(n: int) -> tuple[int, str, int | None]:
            base = (first, second)[n % 2]
            case_ref = f"MP-{n}"
            status, body = call(
                "POST",
                f"{base}/v1/decisions",
                {"case_ref": case_ref, "facts": (SHARE_FACTS, BARE_FACTS)[n % 3 == 0]},
                token,
            )
            return status, case_ref, body.get("id")

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(record, range(240)))
    acknowledged = {case_ref: decision_id for status, case_ref, decision_id in results if status == 201}
    assert len(acknowledged) == len(results), [r for r in results if r[0] != 201][:5]
    with sqlite3.connect(database) as db:
        stored = dict(db.execute("SELECT case_ref, id FROM decision").fetchall())
    assert stored == acknowledged
    assert infoshare("log", "verify", env=env).stdout.startswith(f"OK: {240 + SETUP_RECORDS} records, chain intact")


def test_a_revoked_key_and_a_spent_rate_limit_hold_in_every_worker(tmp_path):
    """Three worker processes: the limit is one budget for all of them, and a revocation made
    with the CLI while they serve refuses the very next requests, whichever worker takes them."""
    env = {**environment(tmp_path / "limits.sqlite3"), "INFOSHARE_RATE_LIMIT": "40"}
    limited = infoshare("keys", "create", "--role", "policy-owner", "--name", "limited", env=env).stdout.split()[-1]
    revoked = infoshare("keys", "create", "--role", "policy-owner", "--name", "revoked", env=env).stdout.split()[-1]
    with serving(env, tmp_path / "limits.log", workers=3) as base, ThreadPoolExecutor(max_workers=8) as pool:
        started = time.monotonic()
        statuses = list(pool.map(lambda _: call("GET", f"{base}/v1/policy", token=limited)[0], range(90)))
        refilled = (time.monotonic() - started) * 40 / 60  # the bucket refills 40 a minute while they run
        assert 40 <= statuses.count(200) <= 40 + refilled + 1, (statuses.count(200), refilled)
        assert statuses.count(429) == 90 - statuses.count(200)
        assert [call("GET", f"{base}/v1/policy", token=revoked)[0] for _ in range(6)] == [200] * 6
        infoshare("keys", "revoke", "revoked", env=env)
        after = list(pool.map(lambda _: call("GET", f"{base}/v1/policy", token=revoked), range(30)))
    assert {status for status, _ in after} == {401}
    assert all("revoked" in body["error"] and body["request_id"] for _, body in after)


def test_each_worker_works_out_the_interview_at_start_without_holding_up_readiness(tmp_path):
    """A started server is ready at once, and each worker then works out the interview's first answers
    in the background, so the first practitioner's interview does not wait for them."""
    env = environment(tmp_path / "warm.sqlite3")
    token = infoshare("keys", "create", "--role", "case-system", "--name", "warm", env=env).stdout.splitlines()[-1]
    log = tmp_path / "server.log"

    def warmed() -> list[dict]:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return [line for line in lines if line["logger"] == "infoshare.interview"]

    with serving(env, log, workers=2) as base:
        assert call("GET", f"{base}/readyz")[0] == 200
        status, verdict = call("POST", f"{base}/v1/evaluate", {"facts": BARE_FACTS}, token)
        assert status == 200 and verdict["decision"] == "undetermined"
        deadline = time.monotonic() + 120
        while len(warmed()) < 2:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        assert all("worked out" in line["message"] for line in warmed()), warmed()
        status, body = call("POST", f"{base}/v1/interview", {"facts": {"subject": "adult"}}, token)
        assert status == 200 and body["settled"] is False and body["questions"]
