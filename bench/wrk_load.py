"""HTTP load with wrk (Debian's package): keep-alive connections, a C client that costs the machine little.

Each run cycles through prebuilt request bodies (a Lua script reads them,
one JSON document a line), counts the answers by status in each wrk
thread, and reports requests/s of the expected status, latency
percentiles, errors, and the server workers' CPU per request. A request
still in flight when wrk stops may be stored without being counted as
acknowledged; one acknowledged and not stored is lost.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from http_load import Server, cpu_seconds

SCRIPT = """
local bodies, n, path, token = {}, 0, "%(path)s", "%(token)s"
for line in io.lines("%(bodies)s") do n = n + 1; bodies[n] = line end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) i = math.random(n); counts = {} end
function request()
  i = i %% n + 1
  local headers = {["Content-Type"] = "application/json"}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("POST", path, headers, bodies[i])
end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(total) do table.insert(parts, string.format('"%%d": %%d', status, count)) end
  io.write(string.format('WRK {"statuses": {%%s}, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "seconds": %%f, ' ..
    '"socket_errors": %%d}\\n', table.concat(parts, ", "), latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def drive(server: Server, path: str, bodies: list[dict[str, Any]], clients: int, seconds: float, expect: int) -> dict:
    """wrk with `clients` connections on 2 threads for `seconds`, cycling through `bodies`."""
    with tempfile.TemporaryDirectory(prefix="infoshare-wrk-") as tmp:
        lines = Path(tmp) / "bodies.jsonl"
        lines.write_text("".join(json.dumps(b) + "\n" for b in bodies))
        script = Path(tmp) / "post.lua"
        script.write_text(SCRIPT % {"path": path, "token": server.token, "bodies": lines})
        workers = server.worker_pids()
        cpu_before = cpu_seconds(workers)
        run = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(2, clients)),
                "-c",
                str(clients),
                "-d",
                f"{max(1, round(seconds))}s",
                "-s",
                str(script),
                "--timeout",
                "10s",
                f"http://127.0.0.1:{server.port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        cpu = cpu_seconds(workers) - cpu_before
    found = re.search(r"^WRK (.*)$", run.stdout, re.MULTILINE)
    if not found:
        raise RuntimeError(f"wrk printed no summary:\n{run.stdout}\n{run.stderr}")
    result = json.loads(found.group(1))
    statuses = {str(k): v for k, v in sorted(result["statuses"].items())}
    answered = sum(statuses.values())
    ok = statuses.get(str(expect), 0)
    return {
        "client": "wrk",
        "clients": clients,
        "seconds": round(result["seconds"], 2),
        "requests": answered,
        "ok": ok,
        "per_second": ok / result["seconds"],
        "p50_ms": result["p50_us"] / 1000,
        "p95_ms": result["p95_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "errors": answered - ok + result["socket_errors"],
        "server_cpu_ms_per_request": 1000 * cpu / answered if answered else None,
        "statuses": statuses,
    }
