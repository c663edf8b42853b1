"""A running server signs the log's head by itself, and a crash leaves only an unsigned tail.

`infoshare serve` with two workers signs within a fraction of a second of
a record. Then the test holds the checkpoint file's lock (as a slow disk or
a stalled signer would), records three more decisions and kills the whole
process group with SIGKILL: the log must verify, with exactly those three
reported as the unsigned tail, and sign once a signer runs again.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from service_cases import SHARE_FACTS
from test_service_live import REPO, call, infoshare, start_server

from infoshare.service.store.checkpoints import Checkpoint, read_lines


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.sqlite3'}"
    return request.getfixturevalue("pg_url")


def last_signed(file: Path) -> int:
    lines = list(read_lines(file))
    return Checkpoint.parse(lines[-1][1]).seq if lines else 0


def signing_server(tmp_path: Path, store_url: str, key_name: str):
    """A two-worker server on ``store_url`` signing every 0.2 s, in a session of its own (killed
    as a group): (its environment, the checkpoint file, a case-system key, the process, its URL)."""
    home = tmp_path / "home"
    env = {
        **os.environ,
        "INFOSHARE_HOME": str(home),
        "DATABASE_URL": store_url,
        "INFOSHARE_POLICY": "",
        "INFOSHARE_LOG_CHECKPOINT_SECONDS": "0.2",
    }
    token = infoshare("keys", "create", "--role", "case-system", "--name", key_name, env=env).stdout.splitlines()[-1]
    process, base = start_server(env, tmp_path / "server.log", 2, start_new_session=True)
    return env, home / "instance" / "log-checkpoints.jsonl", token, process, base


def test_a_server_signs_by_itself_and_a_sigkill_leaves_an_unsigned_tail_that_verifies(tmp_path, store_url):
    env, checkpoints, token, process, base = signing_server(tmp_path, store_url, "ckpt")
    try:
        for n in range(2):
            assert call("POST", f"{base}/v1/decisions", {"case_ref": f"K-{n}", "facts": SHARE_FACTS}, token)[0] == 201
        head = int(infoshare("log", "verify", env=env).stdout.split()[1])  # "OK: <n> records, ..."
        deadline = time.monotonic() + 10
        while last_signed(checkpoints) < head:
            assert time.monotonic() < deadline, "the server signed nothing within 10 s"
            time.sleep(0.05)
        with open(checkpoints, "rb") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # the workers' signers now wait
            for n in range(3):
                made = call("POST", f"{base}/v1/decisions", {"case_ref": f"T-{n}", "facts": SHARE_FACTS}, token)
                assert made[0] == 201
            time.sleep(0.5)  # past a signing round: each worker is waiting for the lock
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert last_signed(checkpoints) == head
    verified = subprocess.run(
        [sys.executable, "-m", "service", "log", "verify"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"OK: {head + 3} records, chain intact")
    assert f"UNSIGNED TAIL: 3 records after the last checkpoint (links {head + 1} to {head + 3})" in verified.stderr
    assert "REWRITTEN" not in verified.stderr and "TRUNCATED" not in verified.stderr
    assert f"signed link {head + 3}" in infoshare("log", "checkpoint", env=env).stdout
    assert "UNSIGNED" not in infoshare("log", "verify", "--require-signed", env=env).stderr


def signer_lock_holders(lock_file: Path) -> list[int]:
    """The processes holding (not waiting for) a lock on ``lock_file``, from /proc/locks."""
    stat = lock_file.stat()
    inode = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    holders = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" not in fields and fields[1] == "FLOCK" and fields[5] == inode:
            holders.append(int(fields[4]))
    return holders


def test_one_worker_signs_and_another_takes_over_when_it_dies(tmp_path):
    env, checkpoints, token, process, base = signing_server(tmp_path, f"sqlite:///{tmp_path / 'lead.sqlite3'}", "lead")
    try:
        lock_file = checkpoints.with_name(checkpoints.name + ".signer")
        deadline = time.monotonic() + 10
        while not (lock_file.exists() and signer_lock_holders(lock_file)):
            assert time.monotonic() < deadline, "no worker took the signer's lock within 10 s"
            time.sleep(0.05)
        holders = signer_lock_holders(lock_file)
        assert len(holders) == 1 and holders[0] != process.pid  # one worker, never the master
        os.kill(holders[0], signal.SIGKILL)
        for n in range(3):
            assert call("POST", f"{base}/v1/decisions", {"case_ref": f"L-{n}", "facts": SHARE_FACTS}, token)[0] == 201
        head = int(infoshare("log", "verify", env=env).stdout.split()[1])
        deadline = time.monotonic() + 10
        while last_signed(checkpoints) < head:
            assert time.monotonic() < deadline, "nothing signed within 10 s of the signing worker's death"
            time.sleep(0.05)
        assert signer_lock_holders(lock_file) not in ([], holders)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
