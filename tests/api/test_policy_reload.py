"""Hot reload inside one app: a refused edit changes nothing, an accepted one swaps whole versions."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from service_cases import SHARE_FACTS

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key

CONSENT_RULES = "rules/3-consent.yaml"


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(SHIPPED_POLICY, folder)
    return folder


@pytest.fixture
def served(policy_dir: Path, tmp_path: Path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'reload.sqlite3'}",
            "INFOSHARE_POLICY": str(policy_dir),
            "INFOSHARE_POLICY_POLL_SECONDS": 0.0,
        }
    )
    with app.app_context():
        keys = {role: create_key(role, f"k-{role}")[1] for role in ("policy-owner", "case-system")}
    headers = {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}
    return app, app.test_client(), headers


def edit(policy_dir: Path, name: str, old: str, new: str) -> None:
    file = policy_dir / name
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))


def test_a_reload_with_a_broken_file_keeps_the_old_version_and_returns_the_checkers_messages(served, policy_dir):
    app, client, headers = served
    before = client.get("/v1/policy", headers=headers["case-system"]).json["digest"]
    edit(policy_dir, CONSENT_RULES, "consent: given\n", "consent: givn\n")
    response = client.post("/v1/policy/reload", headers=headers["policy-owner"])
    assert response.status_code == 422
    assert "not reloaded" in response.json["error"]
    [problem] = response.json["messages"]["policy"]
    assert problem.startswith(f"{CONSENT_RULES}:") and "`givn` is not a value of `consent`" in problem
    assert client.get("/v1/policy", headers=headers["case-system"]).json["digest"] == before
    verdict = client.post("/v1/evaluate", json={"facts": SHARE_FACTS}, headers=headers["case-system"]).json
    assert verdict["decision"] == "share" and verdict["policy"]["digest"] == before


def test_a_reload_whose_policy_tests_fail_is_refused_too(served, policy_dir):
    app, client, headers = served
    edit(policy_dir, CONSENT_RULES, "decision: seek_consent\n", "decision: refer\n")
    response = client.post("/v1/policy/reload", headers=headers["policy-owner"])
    assert response.status_code == 422
    assert any(
        "tests/cases.yaml:" in p and "expected decision seek_consent, got refer" in p
        for p in response.json["messages"]["policy"]
    )


def test_a_good_reload_answers_with_the_new_digest_everywhere(served, policy_dir):
    app, client, headers = served
    old = client.get("/v1/policy", headers=headers["case-system"]).json
    edit(policy_dir, "policy.yaml", "version: 2.0.0", "version: 2.1.0")
    response = client.post("/v1/policy/reload", headers=headers["policy-owner"])
    assert response.status_code == 200, response.json
    new = response.json["policy"]
    assert response.json["previous"]["digest"] == old["digest"] and response.json["changed"]
    assert new["version"] == "2.1.0" and new["digest"] != old["digest"]
    assert client.get("/v1/policy", headers=headers["case-system"]).json["digest"] == new["digest"]
    made = client.post(
        "/v1/decisions", json={"case_ref": "R-1", "facts": SHARE_FACTS}, headers=headers["case-system"]
    ).json
    assert made["policy"] == new
    assert client.get("/readyz").json["policy"] == new


def test_reload_under_concurrent_requests_never_errs_or_mixes_versions(served, policy_dir):
    """Four threads ask while the policy flips between two versions six times: every answer is
    200 and wholly one version's (its digest goes with that version's wording)."""
    app, client, headers = served
    because, other = "The subject of the information has consented to this sharing.", "The subject consented."
    original = {name: (policy_dir / name).read_text() for name in (CONSENT_RULES, "policy.yaml")}
    reworded = {
        CONSENT_RULES: original[CONSENT_RULES].replace(because, other),
        "policy.yaml": original["policy.yaml"].replace("version: 2.0.0", "version: 2.0.1"),
    }
    variants = {because: original, other: reworded}
    answers: list[tuple[int, str, str]] = []
    stop = threading.Event()

    def ask() -> None:
        own = app.test_client()
        while not stop.is_set():
            answer = own.post("/v1/evaluate", json={"facts": SHARE_FACTS}, headers=headers["case-system"])
            body = answer.json
            answers.append((answer.status_code, body.get("policy", {}).get("digest"), body.get("basis", [""])[0]))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    reloads = []
    try:
        for flip in range(6):
            for name, text in variants[list(variants)[flip % 2]].items():
                staged = policy_dir / f"{name}.new"
                staged.write_text(text)
                staged.replace(policy_dir / name)
            reloads.append(client.post("/v1/policy/reload", headers=headers["policy-owner"]))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert [r.status_code for r in reloads] == [200] * 6, [r.json for r in reloads]
    assert answers and {status for status, _, _ in answers} == {200}
    wording_of = {}
    for _, digest, basis in answers:
        assert wording_of.setdefault(digest, basis) == basis, "one digest answered with two wordings"
    assert set(wording_of.values()) <= set(variants) and len(wording_of) == 2


def test_a_decision_is_re_explained_under_the_version_it_was_decided_under(served, policy_dir):
    app, client, headers = served
    old_wording = "The subject of the information has consented to this sharing."
    made = client.post(
        "/v1/decisions", json={"case_ref": "EXPLAIN-1", "facts": SHARE_FACTS}, headers=headers["case-system"]
    ).json
    edit(policy_dir, CONSENT_RULES, old_wording, "Consent was given.")
    edit(policy_dir, "policy.yaml", "version: 2.0.0", "version: 3.0.0")
    assert client.post("/v1/policy/reload", headers=headers["policy-owner"]).status_code == 200
    shutil.rmtree(policy_dir)  # the files are gone: only the store remembers the old text

    read = client.get(f"/v1/decisions/{made['id']}?explain=as-decided", headers=headers["case-system"])
    assert read.status_code == 200, read.json
    explained = read.json["as_decided"]
    assert explained["policy"] == made["policy"] and explained["stored"] and explained["reproduced"]
    decided = next(r for r in explained["rules"] if r["role"] == "decided")
    assert decided["rule"] == "share-with-consent" and decided["because"] == old_wording
    assert decided["text"].startswith("  - id: share-with-consent\n") and old_wording in decided["text"]
    assert decided["text"].count("- id:") == 1 and decided["source"].startswith(f"{CONSENT_RULES}:")
    now = client.post("/v1/evaluate", json={"facts": SHARE_FACTS}, headers=headers["case-system"]).json
    assert now["basis"] == ["Consent was given."] and now["policy"]["version"] == "3.0.0"
    assert "as_decided" not in client.get(f"/v1/decisions/{made['id']}", headers=headers["case-system"]).json
    wrong = client.get(f"/v1/decisions/{made['id']}?explain=now", headers=headers["case-system"])
    assert wrong.status_code == 400 and wrong.json["messages"] == {"explain": ["Must be as-decided."]}


def test_a_worker_keeps_its_version_when_the_activated_one_does_not_load(served, caplog):
    """Even signed and in the log (as a newer server's format might be), a version that does not
    load here is refused, once, and named."""
    from activations import signed_activation

    app, client, headers = served
    policy = app.extensions["infoshare"].policy
    broken = {**policy.files, "facts.yaml": "facts: [\n"}
    with app.app_context():
        signed_activation(app, "0" * 64, broken)
    for _ in range(3):
        answer = client.get("/v1/policy", headers=headers["case-system"])
        assert answer.status_code == 200 and answer.json["digest"] == policy.digest
    refusals = [r for r in caplog.records if "refused activation" in r.getMessage()]
    assert len(refusals) == 1 and "does not pass the policy checker: facts.yaml:" in refusals[0].getMessage()


def test_a_stored_version_whose_text_was_altered_is_not_used_to_re_explain(served, policy_dir, tmp_path, caplog):
    import json
    import sqlite3

    app, client, headers = served
    made = client.post(
        "/v1/decisions", json={"case_ref": "EXPLAIN-2", "facts": SHARE_FACTS}, headers=headers["case-system"]
    ).json
    edit(policy_dir, "policy.yaml", "version: 2.0.0", "version: 3.0.0")
    assert client.post("/v1/policy/reload", headers=headers["policy-owner"]).status_code == 200

    db = sqlite3.connect(tmp_path / "reload.sqlite3", isolation_level=None)
    for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {trigger}")  # as someone with direct access to the file would
    (files,) = db.execute("SELECT files FROM policy_version WHERE digest = ?", (made["policy"]["digest"],)).fetchone()
    files = json.loads(files)
    files[CONSENT_RULES] = files[CONSENT_RULES].replace("consented to this sharing", "agreed to anything")
    db.execute("UPDATE policy_version SET files = ? WHERE digest = ?", (json.dumps(files), made["policy"]["digest"]))
    db.close()

    fresh = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'reload.sqlite3'}", "INFOSHARE_POLICY": str(policy_dir)}
    )  # a worker that never built the old version
    read = fresh.test_client().get(f"/v1/decisions/{made['id']}?explain=as-decided", headers=headers["case-system"])
    assert read.status_code == 200 and read.json["as_decided"] == {"policy": made["policy"], "stored": False}
    assert "has been altered" in caplog.text
