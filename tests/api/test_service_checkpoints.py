"""Signed checkpoints catch what the chain alone cannot: an attacker with write access to the store.

Each attack is made as someone with the database would make it: the
append-only triggers dropped (sqlite) or disabled (PostgreSQL), then rows
changed and every hash recomputed with the project's own functions. The
chain then verifies; the checkpoints, signed with a key the store never
held, must not. On sqlite and on the local PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from peewee import Database, SqliteDatabase
from service_cases import BARE_FACTS, SHARE_FACTS

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key
from infoshare.service.cli.main import main
from infoshare.service.store import appendonly, checkpoints, signing
from infoshare.service.store.casemap import CaseMap
from infoshare.service.store.checkpoints import Checkpoint
from infoshare.service.store.logaudit import verify_store
from infoshare.service.store.logchain import GENESIS, content, content_hash, link_hash, rows_of
from infoshare.service.store.models import APPEND_ONLY, Decision, LogLink

BEFORE = 7  # the store's own records: the chain's scope, the policy version, its activation, two clients, two keys


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.sqlite3'}"
    return request.getfixturevalue("pg_url")


def start(store_url: str):
    """The service on the store, signing inline every 2 records (no server thread in a test's app)."""
    return create_app(
        {"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY), "INFOSHARE_LOG_CHECKPOINT_RECORDS": 2}
    )


@pytest.fixture
def signed(store_url, monkeypatch):
    """Two cases, d1 d2 r1 d3 r2 d4 in the chain after the store's own records (``BEFORE`` links),
    checkpoints at the start and before them and one after each two; the CLI on the store."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.delenv("INFOSHARE_POLICY", raising=False)
    app = start(store_url)
    client = app.test_client()
    with app.app_context():
        tokens = {role: create_key(role, f"ckpt-{role}")[1] for role in ("case-system", "coordinator")}

    def record(case_ref: str, facts: dict) -> None:
        response = client.post(
            "/v1/decisions",
            json={"case_ref": case_ref, "facts": facts},
            headers={"Authorization": f"Bearer {tokens['case-system']}"},
        )
        assert response.status_code == 201, response.json

    def review(decision_id: int) -> None:
        response = client.post(
            f"/v1/decisions/{decision_id}/review",
            json={"decision": "share", "rationale": "Agreed.", "reviewed_by": "A. Khan"},
            headers={"Authorization": f"Bearer {tokens['coordinator']}"},
        )
        assert response.status_code == 201, response.json

    app.extensions["infoshare"].checkpoints.sign()  # the policy, its activation, the clients and keys
    record("CASE-A", SHARE_FACTS)
    record("CASE-B", BARE_FACTS)
    review(1)
    record("CASE-A", SHARE_FACTS)
    review(2)
    record("CASE-B", BARE_FACTS)
    return app


def log_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["log", *args])
    return result.exit_code, result.stdout, result.stderr


def open_the_store(database: Database) -> None:
    """What anyone with write access to the database can do: switch the append-only triggers off."""
    if isinstance(database, SqliteDatabase):
        for (name,) in database.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            database.execute_sql(f"DROP TRIGGER {name}")
    else:
        for model in APPEND_ONLY:
            database.execute_sql(f"ALTER TABLE {model._meta.table_name} DISABLE TRIGGER USER")


def close_the_store(database: Database) -> None:
    """Put the triggers back, as a careful attacker would, leaving nothing for `log verify` but the records."""
    if isinstance(database, SqliteDatabase):
        appendonly.install(database)
    else:
        for model in APPEND_ONLY:
            database.execute_sql(f"ALTER TABLE {model._meta.table_name} ENABLE TRIGGER USER")


def rehash() -> None:
    """Recompute every content hash and link hash, as `service.logchain` computes them."""
    previous = GENESIS
    for link in LogLink.select().order_by(LogLink.seq):
        row = rows_of(link.kind, [link.record_id])[link.record_id]
        digest = content_hash(content(link.kind, row))
        new = link_hash(link.seq, link.kind, link.record_id, previous, digest)
        LogLink.update(content_hash=digest, prev_hash=previous, hash=new).where(LogLink.seq == link.seq).execute()
        previous = new


def rewrite_decision_1() -> None:
    row = Decision.get_by_id(1)
    verdict = {**row.verdict, "decision": "do_not_share"}
    Decision.update(decision="do_not_share", verdict=verdict, facts={**row.facts, "consent": "given"}).where(
        Decision.id == 1
    ).execute()


def test_a_signed_untouched_log_verifies_with_nothing_unsigned(signed):
    code, out, err = log_cli("verify", "--require-signed")
    assert code == 0, err
    assert out.startswith(f"OK: {BEFORE + 6} records, chain intact")
    assert "signed: 5 checkpoints" in err and f"the last of link {BEFORE + 6}" in err and "UNSIGNED" not in err


def test_a_rewrite_with_every_hash_recomputed_is_caught(signed):
    with signed.app_context():
        open_the_store(signed.extensions["infoshare"].database)
        rewrite_decision_1()
        rehash()
        close_the_store(signed.extensions["infoshare"].database)
        assert verify_store().ok  # the chain alone is fooled
    code, _, err = log_cli("verify")
    assert code == 1
    assert (
        f"REWRITTEN: links {BEFORE + 1} to {BEFORE + 2} are not the records the checkpoint of link {BEFORE + 2}" in err
    )
    assert err.count("REWRITTEN") == 1  # later checkpoints only follow from it


def rewrite_and_drop_the_chain(app) -> None:
    """Decision 1 rewritten in the store, and the chain's table dropped for the next start to rebuild."""
    with app.app_context():
        database = app.extensions["infoshare"].database
        open_the_store(database)
        rewrite_decision_1()
        database.execute_sql("DROP TABLE log_link")


def test_a_chain_rebuilt_by_the_service_at_start_over_altered_records_is_caught(signed, store_url):
    rewrite_and_drop_the_chain(signed)
    again = start(store_url)  # finds no chain, so chains every record as it now is
    with again.app_context():
        assert verify_store().ok
        signer = again.extensions["infoshare"].checkpoints
        assert signer.sign() is None and "not the one the last checkpoint signed" in (signer.refusal or "")
    code, _, err = log_cli("verify")
    assert code == 1 and f"REWRITTEN: links {BEFORE + 1} to {BEFORE + 2}" in err, err


def test_records_cut_off_the_end_are_caught(signed):
    with signed.app_context():
        open_the_store(signed.extensions["infoshare"].database)
        LogLink.delete().where(LogLink.seq == BEFORE + 6).execute()
        Decision.delete().where(Decision.id == 4).execute()
        close_the_store(signed.extensions["infoshare"].database)
        assert verify_store().ok
    code, _, err = log_cli("verify")
    assert code == 1
    assert f"TRUNCATED: the store ends at link {BEFORE + 5}, but the checkpoint of link {BEFORE + 6}" in err
    assert f"links {BEFORE + 6} to {BEFORE + 6} were removed" in err


def test_two_records_swapped_in_the_chain_are_caught_as_reordered(signed):
    with signed.app_context():
        open_the_store(signed.extensions["infoshare"].database)
        third, fourth = BEFORE + 3, BEFORE + 4
        for was, becomes in ((third, 0), (fourth, third), (0, fourth)):  # review 1 and decision 3 trade places
            LogLink.update(seq=becomes).where(LogLink.seq == was).execute()
        rehash()
        close_the_store(signed.extensions["infoshare"].database)
        assert verify_store().ok
    code, _, err = log_cli("verify")
    assert code == 1
    assert (
        f"REORDERED: links {BEFORE + 3} to {BEFORE + 4} are the records the checkpoint of link {BEFORE + 4} signed"
        in err
    )
    assert "REWRITTEN" not in err


def test_a_checkpoint_not_signed_by_the_key_is_named_forged(signed, tmp_path):
    file = Path(signed.config["INFOSHARE_LOG_CHECKPOINT_FILE"])
    lines = file.read_text().splitlines()
    edited = json.loads(lines[-1])
    edited["seq"] += 1
    other = signing.load_or_create(tmp_path / "other.key")
    stranger = {**json.loads(lines[-1]), "key_id": other.public.key_id}
    file.write_text("\n".join([*lines, json.dumps(edited), json.dumps(stranger), "half a line"]) + "\n")
    code, _, err = log_cli("verify")
    assert code == 1
    assert "FORGED: line 6 of" in err and "its signature does not verify" in err
    assert f"FORGED: line 7 of {file} names key {other.public.key_id}" in err
    assert "FORGED: line 8" in err
    assert "TRUNCATED" not in err  # a forged line is ignored, not believed


def test_a_case_export_proves_itself_with_the_public_key_alone(signed, tmp_path, monkeypatch):
    export = tmp_path / "case-a.jsonl"
    code, _, err = log_cli("export", "--case", "CASE-A", "--output", str(export))
    assert code == 0 and "exported 3 records of case CASE-A" in err
    public = tmp_path / "reader" / "log.pub"
    public.parent.mkdir()
    shutil.copy(signed.config["INFOSHARE_LOG_SIGNING_KEY_FILE"] + ".pub", public)
    # The reader has the export and the public key, and no store, key or checkpoint file.
    monkeypatch.setenv("INFOSHARE_HOME", str(public.parent))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{public.parent / 'none.sqlite3'}")
    code, out, err = log_cli("verify", "--file", str(export), "--public-key", str(public))
    assert code == 0, err
    assert out.startswith(f"OK: 3 records of case CASE-A, each unchanged and in the log as signed at link {BEFORE + 6}")
    assert not (public.parent / "none.sqlite3").exists()

    lines = export.read_text().splitlines()
    for dropped in (2, 3):  # the review, then the case's last decision
        export.write_text("\n".join(line for n, line in enumerate(lines) if n != dropped) + "\n")
        code, _, err = log_cli("verify", "--file", str(export), "--public-key", str(public))
        assert code == 1 and "holds 2 records of case CASE-A, but the checkpoint signed 3" in err

    altered = json.loads(lines[1])
    altered["record"]["decision"] = "do_not_share"
    export.write_text("\n".join([lines[0], json.dumps(altered), *lines[2:]]) + "\n")
    code, _, err = log_cli("verify", "--file", str(export), "--public-key", str(public))
    assert code == 1 and f"decision 1 (link {BEFORE + 1}) was altered" in err

    other = signing.load_or_create(tmp_path / "other.key")
    (tmp_path / "other.pub").write_bytes(other.public.pem())
    export.write_text("\n".join(lines) + "\n")
    code, _, err = log_cli("verify", "--file", str(export), "--public-key", str(tmp_path / "other.pub"))
    assert code == 1 and "FORGED: the checkpoint is not signed by key" in err


def test_a_case_export_is_refused_from_a_store_that_disagrees_with_its_checkpoints(signed):
    with signed.app_context():
        open_the_store(signed.extensions["infoshare"].database)
        rewrite_decision_1()
        rehash()
    code, _, err = log_cli("export", "--case", "CASE-A")
    assert code == 1 and "not signed" in err


def move_decision_to_another_case(database: Database) -> None:
    """Change decision 2's case in its row only (its link's content hash still holds CASE-B)."""
    open_the_store(database)
    Decision.update(case_ref="CASE-009").where(Decision.id == 2).execute()


def test_a_signer_started_over_a_record_whose_case_was_changed_refuses_to_sign(signed, store_url):
    with signed.app_context():
        move_decision_to_another_case(signed.extensions["infoshare"].database)
    again = start(store_url)  # a new signer rebuilds the case map from the store
    with again.app_context():
        create_key("case-system", "ckpt-after-restart")  # one more record to sign
        signer = again.extensions["infoshare"].checkpoints
        assert signer.sign() is None
    # Read as the store holds them, the cases no longer give the map the last checkpoint signed.
    assert f"the cases of the records to link {BEFORE + 6} are not the ones the last checkpoint signed" in (
        signer.refusal or ""
    )
    code, _, err = log_cli("verify")
    assert code == 1 and "decision 2" in err, err


def test_a_checkpoint_whose_case_index_is_not_the_stores_is_caught(signed):
    """A checkpoint signed over a case map built from altered rows (the rows since put back)."""
    file = Path(signed.config["INFOSHARE_LOG_CHECKPOINT_FILE"])
    lines = file.read_text().splitlines()
    last = Checkpoint.parse(lines[-1])
    key = signing.load(signed.config["INFOSHARE_LOG_SIGNING_KEY_FILE"])
    unsigned = replace(last, cases=CaseMap().root(), signature="")
    forged = replace(unsigned, signature=key.sign(unsigned.message()))
    file.write_text("\n".join([*lines[:-1], forged.line().decode().strip()]) + "\n")
    code, _, err = log_cli("verify")
    assert code == 1
    assert f"REWRITTEN: the case index the checkpoint of link {BEFORE + 6} signed at" in err, err


def test_a_store_rewritten_and_rechained_with_its_checkpoint_file_removed_is_not_signed(signed, store_url):
    rewrite_and_drop_the_chain(signed)
    Path(signed.config["INFOSHARE_LOG_CHECKPOINT_FILE"]).unlink()
    again = start(store_url)  # re-chains every record as it now is, and finds no checkpoint
    signer = again.extensions["infoshare"].checkpoints
    assert "the checkpoint file holds no checkpoint, but the chain already holds records" in (signer.refusal or "")
    with again.app_context():
        assert signer.sign() is None and signer.refusal
    assert not Path(signed.config["INFOSHARE_LOG_CHECKPOINT_FILE"]).read_text().strip()
    code, _, err = log_cli("verify", "--require-signed")
    assert code == 1 and "NOT SIGNED: the log has a signing key but" in err, err
    rechained = BEFORE + 7  # every record, and the scope record of the new chain
    assert f"holds no checkpoint of its {rechained} records" in err

    code, out, err = log_cli("checkpoint")  # not without being told
    assert code == 1 and "log checkpoint --first" in err
    code, out, err = log_cli("checkpoint", "--first")
    assert code == 0 and out.startswith(f"signed link {rechained} "), err
    assert log_cli("verify", "--require-signed")[0] == 0


def test_a_new_store_signs_its_own_first_records_at_start(store_url):
    app = start(store_url)
    signer = app.extensions["infoshare"].checkpoints
    assert signer.refusal is None
    lines = Path(app.config["INFOSHARE_LOG_CHECKPOINT_FILE"]).read_text().splitlines()
    assert len(lines) == 1 and Checkpoint.parse(lines[0]).seq == 3  # the scope, the policy, its activation


def test_the_signing_thread_lets_requests_run_during_a_long_round_and_a_command_does_not(tmp_path, monkeypatch):
    """The server's signing thread sleeps briefly between stretches of checking links, so its worker's
    request threads are not held up for a whole round; a command signing inline does not sleep."""
    app = start(f"sqlite:///{tmp_path / 'log.sqlite3'}")
    client = app.test_client()
    with app.app_context():
        token = create_key("case-system", "ckpt-yield")[1]
    for n in range(12):
        response = client.post(
            "/v1/decisions",
            json={"case_ref": f"CASE-{n}", "facts": SHARE_FACTS},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201
    slept: list[float] = []
    monkeypatch.setattr(checkpoints, "YIELD_AFTER", 0.0)  # a sleep after every link checked
    monkeypatch.setattr(checkpoints.time, "sleep", slept.append)
    signer = app.extensions["infoshare"].checkpoints
    database = app.extensions["infoshare"].database

    signer._known = checkpoints._Tail()  # as after a start: the round reads the whole chain
    with database.connection_context():
        assert signer.sign() is None  # inline: nothing new to sign, the whole chain read again
    assert slept == []

    total = database.execute_sql("SELECT count(*) FROM log_link").fetchone()[0]
    signer._known = checkpoints._Tail()
    signer._thread = threading.current_thread()  # this thread stands for the server's signing thread
    with database.connection_context():
        assert signer.sign() is None
    assert slept == [checkpoints.YIELD_SECONDS] * total
