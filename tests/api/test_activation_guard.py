"""A worker follows an activation only once it is signed, in the verified log, and its version
passes the checker and the policy's own tests; otherwise it keeps answering with its version,
says so in /readyz (degraded, still 200) and in the application log. On sqlite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import pytest
from activations import signed_activation
from click.testing import CliRunner
from peewee import SqliteDatabase

from infoshare.engine import load_policy
from infoshare.engine.policy.loader import SHIPPED_POLICY, digest_of_files, read_policy_files
from infoshare.service import create_app
from infoshare.service.access.keys import create_key
from infoshare.service.cli.main import main
from infoshare.service.reload import activate_checked
from infoshare.service.store import guard, logaudit, logchain, signing
from infoshare.service.store.logchain import GENESIS
from infoshare.service.store.models import PolicyActivation, PolicyVersion
from infoshare.service.store.versions import next_version as next_version_of

CONSENT_RULES = "rules/3-consent.yaml"
SHIPPED_VERSION = load_policy(SHIPPED_POLICY).version
REFUSED = {
    "subject": "child",
    "harm_concern": "no",
    "consent": "refused",
    "seeking_consent_would": [],
    "purpose": "referral",
    "recipient": "childrens_social_care",
    "recipient_needs_to_know": "yes",
    "information": [{"item": "school report", "needed_for_purpose": True, "accurate_and_up_to_date": True}],
}


def consent_refused_shares() -> tuple[str, dict[str, str]]:
    """The shipped text with rule consent-refused concluding `share`, under its correct digest."""
    files = {name: data.decode("utf-8") for name, data in read_policy_files(SHIPPED_POLICY).items()}
    rule = files[CONSENT_RULES]
    at = rule.index("- id: consent-refused")
    end = rule.index("decision: do_not_share", at)
    files[CONSENT_RULES] = rule[:end] + "decision: share" + rule[end + len("decision: do_not_share") :]
    return digest_of_files(files), files


def next_version(tmp_path: Path) -> Path:
    """A copy of the shipped policy under the next version: a genuine edit to activate."""
    folder = tmp_path / "policy"
    shutil.copytree(SHIPPED_POLICY, folder)
    edit = folder / "policy.yaml"
    current = load_policy(SHIPPED_POLICY).version
    edit.write_text(edit.read_text().replace(f"version: {current}", f"version: {next_version_of(current)}", 1))
    assert load_policy(folder).version == next_version_of(current)
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request) -> str:
    return request.getfixturevalue("database_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def worker(store_url):
    """A worker on the store, looking up the active version before every request."""
    app = create_app(
        {"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY), "INFOSHARE_POLICY_POLL_SECONDS": 0.0}
    )
    with app.app_context():
        token = create_key("case-system", "cms")[1]
    return app, {"Authorization": f"Bearer {token}"}


def answer(app, headers) -> str:
    response = app.test_client().post("/v1/evaluate", json={"facts": REFUSED}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["decision"]


def ready(app) -> dict:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200  # degraded is still ready: the old version answers correctly
    return response.json


def refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "refused activation" in r.getMessage()]


def test_a_forged_version_and_activation_are_refused_and_the_old_version_keeps_answering(worker, caplog):
    """Finding 3: two rows inserted with write access to the store change nothing that answers."""
    app, headers = worker
    shipped = app.extensions["infoshare"].policy.digest
    assert answer(app, headers) == "do_not_share"
    digest, files = consent_refused_shares()
    with app.app_context():
        PolicyVersion.create(digest=digest, policy_id="information-sharing", version=SHIPPED_VERSION, files=files)
        forged = PolicyActivation.create(digest=digest, activated_by="start").id

    for _ in range(3):  # asked again and again: still refused, and logged once
        assert answer(app, headers) == "do_not_share"
    status = ready(app)
    assert status["status"] == "degraded" and status["policy"]["digest"] == shipped
    assert status["refused_activation"]["activation"] == forged
    assert status["refused_activation"]["digest"] == digest
    assert "not signed" in status["refused_activation"]["reason"]
    [logged] = refusals(caplog)
    assert f"refused activation {forged} of policy version {digest}: it is not signed" in logged


def test_a_signature_copied_from_another_activation_does_not_verify(worker, caplog):
    app, headers = worker
    digest, files = consent_refused_shares()
    with app.app_context():
        genuine = PolicyActivation.select().order_by(PolicyActivation.id.desc()).first()
        PolicyVersion.create(digest=digest, policy_id="information-sharing", version=SHIPPED_VERSION, files=files)
        PolicyActivation.create(
            digest=digest, activated_by=genuine.activated_by, tests=genuine.tests, signature=genuine.signature
        )
    assert answer(app, headers) == "do_not_share"
    assert "its signature does not verify with the log's public key" in ready(app)["refused_activation"]["reason"]


def test_an_activation_signed_by_another_key_is_refused(worker, tmp_path):
    """Whoever activates must hold this service's signing key, not just any key."""
    app, headers = worker
    other = signing.load_or_create(tmp_path / "elsewhere" / "other.key")
    policy_dir = next_version(tmp_path)
    with app.app_context():
        activate_checked(policy_dir, "someone else", other)
    assert answer(app, headers) == "do_not_share"
    assert "signature does not verify" in ready(app)["refused_activation"]["reason"]


def test_a_signed_activation_whose_version_fails_the_policys_own_tests_is_refused(worker, caplog):
    """Even with the signing key, a version the policy's tests refute is not followed."""
    app, headers = worker
    digest, files = consent_refused_shares()
    with app.app_context():
        tests = {"tests/cases.yaml": (SHIPPED_POLICY / "tests" / "cases.yaml").read_text()}
        signed_activation(app, digest, files, tests)
    assert answer(app, headers) == "do_not_share"
    reason = ready(app)["refused_activation"]["reason"]
    assert reason.startswith("its version fails the policy's own tests: tests/cases.yaml:")
    assert "consent refused with no exception and no overriding duty is not shared" in reason


def test_an_activation_is_refused_when_the_log_before_it_does_not_verify(worker, store_url, tmp_path):
    app, headers = worker
    policy_dir = next_version(tmp_path)
    with app.app_context():
        from infoshare.service.store.models import ApiKey

        database = ApiKey._meta.database
        database.execute_sql("UPDATE api_key SET role = 'coordinator' WHERE name = 'cms'")  # not guarded
        activate_checked(policy_dir, "owner", app.extensions["infoshare"].signer)
    other = create_app({"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    status = ready(other)
    assert "the decision log does not verify up to it: key 1" in status["refused_activation"]["reason"]
    assert status["policy"]["digest"] == app.extensions["infoshare"].policy.digest  # the shipped version


def test_a_genuine_activation_after_a_refused_one_is_followed_and_ready_again(worker, store_url, tmp_path, caplog):
    app, headers = worker
    digest, files = consent_refused_shares()
    with app.app_context():
        PolicyVersion.create(digest=digest, policy_id="information-sharing", version=SHIPPED_VERSION, files=files)
        PolicyActivation.create(digest=digest, activated_by="start")
    assert answer(app, headers) == "do_not_share" and ready(app)["status"] == "degraded"

    owner = create_app({"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    policy_dir = next_version(tmp_path)
    with owner.app_context():
        _, policy, _ = activate_checked(policy_dir, "owner", owner.extensions["infoshare"].signer)
    caplog.set_level(logging.INFO, logger="infoshare.policy")
    assert answer(app, headers) == "do_not_share"
    status = ready(app)
    assert status == {
        "status": "ready",
        "policy": {"id": policy.id, "version": next_version_of(SHIPPED_VERSION), "digest": policy.digest},
    }


def test_the_signature_and_tests_an_activation_carries_are_in_the_store(worker):
    app, _ = worker
    with app.app_context():
        row = PolicyActivation.get()
    assert row.activated_by == "start" and row.signature and list(row.tests) == ["tests/cases.yaml"]
    assert Path(app.config["INFOSHARE_LOG_SIGNING_KEY_FILE"]).stat().st_mode & 0o777 == 0o600


def record_decisions(app, headers, count: int) -> None:
    for number in range(count):
        response = app.test_client().post(
            "/v1/decisions", json={"case_ref": f"GUARD-{number}", "facts": REFUSED}, headers=headers
        )
        assert response.status_code == 201, response.json


def test_the_guard_walks_the_chain_only_from_the_latest_signed_checkpoint(worker, store_url, tmp_path, monkeypatch):
    """On a store of a million records a walk from the start would take minutes inside a request."""
    app, headers = worker
    record_decisions(app, headers, 5)
    state = app.extensions["infoshare"]
    with app.app_context():
        checkpoint = state.checkpoints.sign()
    assert checkpoint is not None
    forged = json.loads(checkpoint.line())
    forged["seq"] += 2  # a later line without a valid signature must not become the starting point
    with open(state.checkpoints.path, "a") as file:
        file.write(json.dumps(forged) + "\n")
    record_decisions(app, headers, 3)
    owner = create_app({"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with owner.app_context():
        _, policy, _ = activate_checked(next_version(tmp_path), "owner", owner.extensions["infoshare"].signer)

    walks = []
    verify_through = logaudit.verify_through

    def spy(seq, after=(0, GENESIS)):
        walks.append(after)
        return verify_through(seq, after)

    monkeypatch.setattr(logaudit, "verify_through", spy)
    assert ready(app)["policy"]["digest"] == policy.digest
    assert walks == [(checkpoint.seq, checkpoint.head)]


def test_one_thread_vets_an_activation_while_the_others_answer_with_the_version_they_have(
    worker, store_url, tmp_path, monkeypatch
):
    app, headers = worker
    owner = create_app({"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with owner.app_context():
        activate_checked(next_version(tmp_path), "owner", owner.extensions["infoshare"].signer)
    started, release, calls = threading.Event(), threading.Event(), []

    def slow_vet(*args, **kwargs):
        calls.append(args)
        started.set()
        release.wait(10)
        raise guard.NotLinkedYet()

    monkeypatch.setattr(guard, "vet", slow_vet)
    first = threading.Thread(target=answer, args=(app, headers))
    first.start()
    try:
        assert started.wait(10)
        assert answer(app, headers) == "do_not_share"  # answered at once, from the version it has
        assert len(calls) == 1
    finally:
        release.set()
        first.join(10)


def open_activations(app) -> None:
    """What anyone with write access to the store can do: take the activations' append-only trigger away."""
    database = app.extensions["infoshare"].database
    if isinstance(database, SqliteDatabase):
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'policy_activation'"
        for (name,) in database.execute_sql(query).fetchall():
            database.execute_sql(f"DROP TRIGGER {name}")
    else:
        database.execute_sql("ALTER TABLE policy_activation DISABLE TRIGGER USER")


def test_a_rollback_by_deleting_later_activations_is_refused_and_the_version_followed_keeps_answering(
    worker, store_url, tmp_path, caplog
):
    """Activation 1 is signed and verifies: deleting the ones after it must not move a worker back."""
    app, headers = worker
    owner = create_app({"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with owner.app_context():
        _, policy, _ = activate_checked(next_version(tmp_path), "owner", owner.extensions["infoshare"].signer)
    assert ready(app)["policy"]["digest"] == policy.digest
    with app.app_context():
        open_activations(app)
        PolicyActivation.delete().where(PolicyActivation.id >= 2).execute()

    for _ in range(3):  # asked again and again: still refused, and logged once
        assert answer(app, headers) == "do_not_share"
    status = ready(app)
    assert status["status"] == "degraded" and status["policy"]["digest"] == policy.digest
    assert status["refused_activation"]["activation"] == 1
    assert "activations were removed from the store (a rollback)" in status["refused_activation"]["reason"]
    [logged] = refusals(caplog)
    assert logged.startswith("refused activation 1 of policy version ")
    assert logged.endswith(f"answering with {policy.digest}")


def test_a_forged_activation_is_named_by_log_verify_and_marked_unsigned_in_the_policy(worker, monkeypatch):
    """Even chained and under a signed checkpoint, an unsigned activation is no genuine one."""
    app, headers = worker
    digest, files = consent_refused_shares()
    with app.app_context(), logchain.chained_writes(PolicyVersion._meta.database):
        version = PolicyVersion.create(digest=digest, policy_id="information-sharing", version="2.0.2", files=files)
        logchain.chain("policy_version", version)
        row = PolicyActivation.create(digest=digest, activated_by="policy-owner")
        logchain.chain("activation", row)
        forged = row.id
    assert answer(app, headers) == "do_not_share"
    state = app.extensions["infoshare"]
    with app.app_context():
        state.checkpoints.sign()
    for name in ("DATABASE_URL", "INFOSHARE_LOG_SIGNING_KEY_FILE", "INFOSHARE_LOG_CHECKPOINT_FILE"):
        monkeypatch.setenv(name, str(app.config[name]))
    monkeypatch.delenv("INFOSHARE_POLICY", raising=False)
    result = CliRunner().invoke(main, ["log", "verify"])
    assert result.exit_code == 1, result.output
    assert f"FORGED: activation {forged} (of version sha256 {digest}) is not signed" in result.stderr

    response = app.test_client().get("/v1/policy", headers=headers)
    assert response.status_code == 200
    newest, genuine = response.json["activations"]
    assert (newest["version"], newest["activated_by"], newest["signed"]) == ("2.0.2", "policy-owner", False)
    assert genuine["signed"] is True
