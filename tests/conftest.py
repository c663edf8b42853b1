"""Shared fixtures: the shipped policy, loaded once, and an engine over it."""

from __future__ import annotations

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
