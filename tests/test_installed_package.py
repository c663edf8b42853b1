"""Installed as a package, it works anywhere: the wheel, built from this checkout, installed
into a fresh virtualenv outside it; `infoshare init`, `check`, `coverage`, `serve` and one
recorded decision there, with nothing of the checkout on the path."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASE = {
    "subject": "child",
    "harm_concern": "yes",
    "consent": "refused",
    "seeking_consent_would": [],
    "purpose": "child_protection_enquiry",
    "recipient": "childrens_social_care",
    "recipient_needs_to_know": "yes",
    "secure_channel": True,
    "information": [{"item": "injuries seen at school", "needed_for_purpose": True, "accurate_and_up_to_date": True}],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def call(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A virtualenv outside the checkout with the wheel built from it (not editable)."""
    place = tmp_path_factory.mktemp("installed")
    dist = place / "dist"
    # As a release is made: the sdist, then the wheel built from the sdist (so both carry the data).
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], cwd=place, env=dict(os.environ))
    [wheel] = dist.glob("infoshare-*.whl")
    [_sdist] = dist.glob("infoshare-*.tar.gz")
    venv = place / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=place, env=dict(os.environ))
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=place, env=dict(os.environ))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFOSHARE_", "DATABASE_URL", "PYTHONPATH"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(place / "user")  # no per-user folder of the developer's
    yield venv, env
    shutil.rmtree(place, ignore_errors=True)


def test_the_wheel_carries_the_policy_scenarios_and_docs_and_imports_nothing_from_the_checkout(installed):
    venv, env = installed
    where = run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import infoshare.engine, infoshare.service.api.docs as d; "
            "from infoshare.engine.policy.loader import SHIPPED_POLICY, SHIPPED_FEATURES; "
            "print(infoshare.engine.__file__); print(SHIPPED_POLICY); print(SHIPPED_FEATURES); print(d.HERE)",
        ],
        cwd=venv.parent,
        env=env,
    ).stdout.split()
    for path in where:
        assert str(ROOT) not in path and "site-packages" in path, where
    policy, features = Path(where[1]), Path(where[2])
    assert (policy / "source" / "information-sharing-overview.md").is_file()
    assert (policy / "tests" / "cases.yaml").is_file() and (policy / "phrases.yaml").is_file()
    assert list(features.glob("*.feature")) and (features / "steps").is_dir()


def test_init_check_coverage_serve_and_a_recorded_decision_in_a_working_folder(installed):
    venv, env = installed
    work = venv.parent / "our-org"
    run(["infoshare", "init", str(work)], cwd=venv.parent, env=env)
    assert (work / "infoshare.toml").is_file() and (work / "policy" / "rules").is_dir()
    again = subprocess.run(["infoshare", "init", str(work)], cwd=venv.parent, env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "not overwriting" in again.stderr
    checked = run(["infoshare", "check"], cwd=work, env=env)
    assert "tests:" in checked.stdout and "passed" in checked.stdout
    run(["infoshare", "coverage", "--quiet"], cwd=work / "policy", env=env)  # exits 0: every statement covered
    port = free_port()
    token = run(["infoshare", "keys", "create", "--role", "case-system"], cwd=work, env=env).stdout.splitlines()[-1]
    assert f"home {work}" in run(["infoshare", "keys", "list"], cwd=work / "features", env=env).stderr
    server = subprocess.Popen(
        ["infoshare", "serve", "--port", str(port), "--workers", "1"],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(f"{base}/readyz")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "the installed server did not become ready"
            time.sleep(0.2)
        status, record = call(f"{base}/v1/decisions", {"case_ref": "ORG-1", "facts": CASE}, token)
        assert status == 201 and record["decision"] == "share_without_consent", record
        status, case_file = call(f"{base}/v1/cases/ORG-1/decisions", token=token)
        assert status == 200 and [d["id"] for d in case_file["decisions"]] == [record["id"]]
        docs = urllib.request.urlopen(f"{base}/docs/swagger-ui/swagger-ui-bundle.js", timeout=10)
        assert docs.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (work / "instance" / "infoshare.sqlite3").is_file()
