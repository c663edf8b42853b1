"""Shared fixtures: the shipped policy, loaded once, and an engine over it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infoshare.engine import Engine, Policy, load_policy
from infoshare.engine.policy.loader import SHIPPED_POLICY


@pytest.fixture(scope="session")
def shipped_policy() -> Policy:
    return load_policy(SHIPPED_POLICY)


@pytest.fixture(scope="session")
def engine(shipped_policy: Policy) -> Engine:
    return Engine(shipped_policy)


COMPLETE_CASE = {
    "subject": "child",
    "harm_concern": "no",
    "crime_suspected": "no",
    "serious_crime": "no",
    "consent": "given",
    "seeking_consent_would": [],
    "purpose": "referral",
    "recipient": "childrens_social_care",
    "recipient_needs_to_know": "yes",
    "secure_channel": True,
    "information": [{"item": "school report", "needed_for_purpose": True, "accurate_and_up_to_date": True}],
}


@pytest.fixture
def complete_case() -> dict:
    """A case that gives every fact, with consent: a starting point tests vary one fact of."""
    return {**COMPLETE_CASE, "information": [dict(i) for i in COMPLETE_CASE["information"]]}


@pytest.fixture(autouse=True)
def _own_working_folder(tmp_path_factory, monkeypatch) -> None:
    """No test reads or writes the developer's own infoshare working folder (~/.local/share/infoshare):
    each gets an empty one, as a fresh user would have."""
    monkeypatch.setenv("INFOSHARE_HOME", str(tmp_path_factory.mktemp("home")))


CHECKOUT = Path(__file__).resolve().parent.parent
# What tools keep in a checkout by design (and .gitignore names): not a test's leftovers.
TOOL_CACHES = (".pytest_cache/", ".hypothesis/", ".ruff_cache/", ".mypy_cache/", ".venv/", "build/", "test-results/")
_BEFORE = pytest.StashKey[set[str] | None]()


def _hidden_files() -> set[str] | None:
    """The files and folders in the checkout that git ignores, so its status does not show them
    (instance/, *.sqlite3, ...), tools' caches aside; None where the tests run outside a checkout."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(CHECKOUT), "status", "--porcelain", "--ignored", "-z"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    ignored = {entry[3:] for entry in listed.split("\0") if entry.startswith("!! ")}
    return {p for p in ignored if not p.startswith(TOOL_CACHES) and not p.endswith(".egg-info/")}


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = _hidden_files()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that leaves files in the checkout fails: a test writes only under its own temporary
    folders (INFOSHARE_HOME above, tmp_path), never into the folder it was started from."""
    before = session.config.stash.get(_BEFORE, None)
    after = _hidden_files()
    if before is None or after is None or not (left := sorted(after - before)):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"the test run left files in the checkout {CHECKOUT}: {', '.join(left)}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
