"""Hostile lines in the checkpoint file or in an export: a finding or a clear refusal, never a
traceback, a dead signing thread or a 500. Also: an export file is private (0600)."""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path

import test_service_checkpoints as signed_log
from service_cases import SHARE_FACTS
from test_service_checkpoints import log_cli, open_the_store, rehash, rewrite_decision_1, start

from infoshare.service.access.keys import create_key

store_url = signed_log.store_url  # the fixtures: sqlite and PostgreSQL, a signed log of two cases
signed = signed_log.signed
DEEP = "[" * 100000 + "]" * 100000  # more nesting than the JSON parser's recursion allows


def test_a_deeply_nested_checkpoint_line_is_forged_and_signing_goes_on(signed):
    file = Path(signed.config["INFOSHARE_LOG_CHECKPOINT_FILE"])
    with file.open("a") as out:
        out.write(DEEP + "\n")
    with signed.app_context():
        token = create_key("case-system", "hostile-writer")[1]
    client = signed.test_client()
    for _ in range(2):  # the second signs inline (every 2 records), reading the line above
        response = client.post(
            "/v1/decisions",
            json={"case_ref": "CASE-C", "facts": SHARE_FACTS},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.get_data(as_text=True)[:200]
    assert client.get("/readyz").json["status"] == "ready"
    code, _, err = log_cli("verify")
    assert code == 1 and "Traceback" not in err
    assert "FORGED: line 6 of" in err and "is not a checkpoint (not JSON)" in err
    assert "signed: 6 checkpoints" in err and "UNSIGNED" not in err  # the new records were signed after it


def test_the_signing_thread_survives_an_error_in_a_round(signed):
    checkpointer = signed.extensions["infoshare"].checkpoints
    rounds: list[int] = []
    real = checkpointer.sign

    def flaky():
        rounds.append(1)
        if len(rounds) == 1:
            raise RecursionError("maximum recursion depth exceeded")
        return real()

    checkpointer.sign = flaky
    checkpointer.every_seconds = 0.01
    checkpointer.start()
    deadline = time.monotonic() + 5
    while len(rounds) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert len(rounds) >= 3 and not checkpointer.stopped
        assert signed.test_client().get("/readyz").json["status"] == "ready"
    finally:  # leave the thread waiting, signing nothing after this test's store is gone
        checkpointer.sign = lambda: None
        checkpointer.every_seconds = 3600.0


def test_readyz_is_degraded_not_failing_when_the_signer_refuses_or_its_thread_stopped(signed, store_url):
    with signed.app_context():
        open_the_store(signed.extensions["infoshare"].database)
        rewrite_decision_1()
        rehash()
    restarted = start(store_url)  # a worker that starts on the rewritten store refuses to sign it
    state = restarted.extensions["infoshare"]
    assert state.checkpoints.sign() is None and state.checkpoints.refusal
    response = restarted.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["log_signing"].startswith("the signer refuses to sign: ")

    state.checkpoints.refusal = None
    state.checkpoints._thread = threading.Thread(target=lambda: None)  # a thread that ended
    state.checkpoints._thread.start()
    state.checkpoints._thread.join()
    response = restarted.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {**response.json, "status": "degraded", "log_signing": "the signing thread has stopped"}


def _verify_edited(path: Path, header, lines) -> tuple[int, str]:
    path.write_text("\n".join([header, *lines]) + "\n")
    code, _, err = log_cli("verify", "--file", str(path))
    assert "Traceback" not in err
    return code, err


def test_hostile_lines_in_an_export_are_unreadable_not_a_traceback(signed, tmp_path):
    for case in ([], ["--case", "CASE-A"]):
        export = tmp_path / "export.jsonl"
        assert log_cli("export", *case, "--output", str(export))[0] == 0
        header, first, *rest = export.read_text().splitlines()
        code, err = _verify_edited(export, header, [DEEP, *rest])
        assert code == 1 and "line 2: not a JSON object" in err
        code, err = _verify_edited(export, header, [json.dumps({**json.loads(first), "record": [1]}), *rest])
        assert code == 1 and "line 2: record must be a JSON object or null" in err
        code, err = _verify_edited(export, header, [json.dumps({**json.loads(first), "seq": "1"}), *rest])
        assert code == 1 and "line 2: seq and record_id must be whole numbers" in err
        code, err = _verify_edited(export, DEEP, [first, *rest])
        assert code == 1 and "line 1: not a JSON object" in err
    broken = json.dumps({**json.loads(header), "checkpoint": [1]})  # the case export's header
    code, err = _verify_edited(export, broken, [first, *rest])
    assert code == 1 and "line 1: not a checkpoint" in err


def test_a_full_export_with_a_malformed_header_head_is_unreadable(signed, tmp_path):
    export = tmp_path / "export.jsonl"
    assert log_cli("export", "--output", str(export))[0] == 0
    header, *rest = export.read_text().splitlines()
    code, err = _verify_edited(export, json.dumps({**json.loads(header), "head": [1]}), rest)
    assert code == 1 and "line 1: the header needs a head" in err


def test_an_export_file_is_private_even_if_it_existed(signed, tmp_path):
    for case in ([], ["--case", "CASE-A"]):
        export = tmp_path / f"export{len(case)}.jsonl"
        export.write_text("old")
        export.chmod(0o644)
        assert log_cli("export", *case, "--output", str(export))[0] == 0
        assert stat.S_IMODE(export.stat().st_mode) == 0o600
        assert export.read_text().startswith('{"')


def test_a_case_export_holds_one_clients_case_file_never_two_mixed(signed, tmp_path):
    with signed.app_context():
        south = create_key("case-system", "cms-south")[1]
    response = signed.test_client().post(
        "/v1/decisions",
        json={"case_ref": "CASE-A", "facts": SHARE_FACTS},  # cms-south's own CASE-A, not the first client's
        headers={"Authorization": f"Bearer {south}"},
    )
    assert response.status_code == 201
    export = tmp_path / "case-a.jsonl"
    for chosen in ([], ["--client", "ckpt-case-system"]):
        code, out, err = log_cli("export", "--case", "CASE-A", *chosen, "--output", str(export))
        assert code == 1 and "case CASE-A is recorded by 2 clients (ckpt-case-system, cms-south)" in err
        assert not export.exists() and not out
    code, _, err = log_cli("export", "--case", "CASE-B", "--client", "cms-south", "--output", str(export))
    assert code == 1 and "client cms-south has no case CASE-B (it is ckpt-case-system's)" in err
    code, _, err = log_cli("export", "--case", "CASE-B", "--client", "ckpt-case-system", "--output", str(export))
    assert code == 0 and "exported 3 records of case CASE-B" in err
    assert log_cli("verify", "--file", str(export))[0] == 0
    assert log_cli("export", "--client", "cms-south")[0] == 2  # --client names whose --case
