"""Load benchmark: POST /v1/decisions against a real `infoshare serve`, driven by wrk.

Starts the infoshare command's `serve` (as `python -m service`, the same entry
point as the `infoshare` script) on 127.0.0.1 on a free port with a fresh
sqlite database in a temporary folder and a fresh case-system key, drives
POST /v1/decisions with N concurrent connections for a fixed time, and prints
requests/s and p50/p99 latency. Every request records a decision, so this
measures evaluation plus a durable (synchronous=FULL) sqlite write.

    .venv/bin/python bench/http_load.py [--clients 8] [--duration 15] [--workers 2]

Needs wrk (https://github.com/wg/wrk): `apt-get install wrk` on Debian or
Ubuntu, `brew install wrk` on macOS. wrk runs on the same machine as the
server, so on a small machine it takes CPU from it: the figures are a floor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CASE = {
    "subject": "child",
    "consent": "given",
    "harm_concern": "no",
    "purpose": "referral",
    "recipient": "childrens_social_care",
    "recipient_needs_to_know": "yes",
    "secure_channel": True,
    "information": [{"item": "School attendance record", "needed_for_purpose": True,
                     "accurate_and_up_to_date": True}],
}
# Each request gets its own case_ref; done() prints one JSON line for Python to read.
WRK_SCRIPT = """
local counter = 0
local facts = [[%(facts)s]]
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  counter = counter + 1
  local body = '{"case_ref": "BENCH-' .. tostring(math.random(1, 1000000000)) .. '-' .. counter ..
               '", "facts": ' .. facts .. '}'
  return wrk.format(nil, "/v1/decisions", nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "p50_us": %%d, "p99_us": %%d, "non_2xx": %%d, ' ..
    '"socket_errors": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"infoshare serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    sys.exit("infoshare serve did not become ready in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--duration", type=int, default=15, help="seconds of load (default 15)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)")

    with tempfile.TemporaryDirectory(prefix="infoshare-bench-") as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"}
        infoshare = [sys.executable, "-m", "service"]
        created = subprocess.run([*infoshare, "keys", "create", "--role", "case-system", "--name", "bench"],
                                 cwd=REPO, env=env, capture_output=True, text=True, check=True)
        token = created.stdout.strip().splitlines()[-1]
        script = Path(tmp) / "post.lua"
        script.write_text(WRK_SCRIPT % {"facts": json.dumps(CASE), "token": token})

        port = free_port()
        with open(Path(tmp) / "server.log", "w") as log:
            server = subprocess.Popen(
                [*infoshare, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)],
                cwd=REPO, env=env, stdout=log, stderr=log)
        try:
            wait_ready(f"http://127.0.0.1:{port}/readyz", server)
            threads = min(args.clients, os.cpu_count() or 1)
            run = subprocess.run(
                [wrk, f"-t{threads}", f"-c{args.clients}", f"-d{args.duration}s", "--timeout", "10s",
                 "-s", str(script), f"http://127.0.0.1:{port}"],
                capture_output=True, text=True, check=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        result = json.loads(run.stdout.strip().splitlines()[-1])
        with sqlite3.connect(Path(tmp) / "bench.sqlite3") as db:
            recorded = db.execute("SELECT count(*) FROM decision").fetchone()[0]

    print(f"POST /v1/decisions, {args.clients} clients, {args.duration} s, "
          f"{args.workers} gunicorn sync workers, sqlite (WAL, synchronous=FULL), {os.cpu_count()} CPUs")
    print(f"  requests/s   {result['requests'] / result['seconds']:.1f}")
    print(f"  p50 latency  {result['p50_us'] / 1000:.2f} ms")
    print(f"  p99 latency  {result['p99_us'] / 1000:.2f} ms")
    print(f"  requests {result['requests']}, non-2xx {result['non_2xx']}, "
          f"socket errors {result['socket_errors']}, decisions recorded {recorded}")


if __name__ == "__main__":
    main()
