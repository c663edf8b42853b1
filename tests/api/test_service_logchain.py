"""The decision log is tamper-evident: a hash chain, append-only triggers, verify and export."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from service_cases import BARE_FACTS, SHARE_FACTS

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key
from infoshare.service.cli.main import main
from infoshare.service.store.logaudit import verify_store


@pytest.fixture
def log_cli(database_url, monkeypatch):
    """`infoshare log ...` against the test's store: (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("INFOSHARE_POLICY", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, ["log", *args])
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def history(client, as_role, recorded) -> list[dict]:
    """Two cases: decisions 1..4 and two reviews, interleaved (chain: d1 d2 r1 d3 r2 d4)."""
    made = [recorded(case_ref="CASE-A"), recorded(BARE_FACTS, case_ref="CASE-B")]

    def review(n, text):
        return client.post(
            f"/v1/decisions/{n}/review",
            json={"decision": "share", "rationale": text, "reviewed_by": "A. Khan"},
            headers=as_role("coordinator"),
        )

    assert review(1, "Agreed.").status_code == 201
    made.append(recorded(case_ref="CASE-A"))
    assert review(2, "Asked the family.").status_code == 201
    made.append(recorded(BARE_FACTS, case_ref="CASE-B"))
    return made


SETUP = 9
"""Links before the history's: the chain's scope, the policy version and its activation, and the
three clients with their keys."""


def link(n: int) -> int:
    """The chain position of the history's n-th record."""
    return SETUP + n


def tamper(database_url: str, *statements: str) -> None:
    """Change the file as someone with direct access would: drop the triggers, then write."""
    db = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {trigger}")
    for statement in statements:
        db.execute(statement)
    db.close()


def test_an_untouched_log_verifies_and_names_its_head(history, log_cli):
    code, out, _ = log_cli("verify")
    assert code == 0, out
    assert out.startswith(f"OK: {link(6)} records, chain intact; head is link {link(6)} ")


CHANGE = {
    "decision": "key_name = 'x'",
    "review": "key_name = 'x'",
    "log_link": "hash = 'x'",
    "policy_version": "files = '{}'",
    "policy_activation": "digest = 'x'",
}


@pytest.mark.parametrize("table", sorted(CHANGE))
def test_the_database_refuses_update_and_delete_on_the_log(history, database_url, table):
    db = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    for statement in (f"UPDATE {table} SET {CHANGE[table]}", f"DELETE FROM {table}"):
        with pytest.raises(sqlite3.DatabaseError, match=f"{table} is append-only"):
            db.execute(statement)


def test_the_api_has_no_route_that_changes_or_removes_a_record(client, as_role, history):
    for method in ("put", "patch", "delete"):
        for path in ("/v1/decisions/1", "/v1/decisions/1/review", "/v1/cases/CASE-A/decisions"):
            response = getattr(client, method)(path, json={}, headers=as_role("coordinator"))
            assert response.status_code == 405, (method, path)
            assert response.json["request_id"] and "not allowed" in response.json["error"]


@pytest.mark.parametrize(
    ("statements", "named"),
    [
        (
            ["UPDATE decision SET verdict = replace(verdict, 'share', 'do_not_share') WHERE id = 3"],
            f"decision 3 (link {link(4)}) was altered",
        ),
        (["UPDATE review SET rationale = 'Refused.' WHERE id = 1"], f"review 1 (link {link(3)}) was altered"),
        (["DELETE FROM review WHERE id = 2"], f"review 2 (link {link(5)}) was removed"),
        (
            ["DELETE FROM review WHERE id = 1", f"DELETE FROM log_link WHERE seq = {link(3)}"],
            f"links {link(3)} to {link(3)} are missing before decision 3 (link {link(4)})",
        ),
        (
            [
                "INSERT INTO decision (case_ref, facts, verdict, decision, policy_id, policy_version, policy_digest,"
                " key_name, recorded_at) SELECT case_ref, facts, verdict, 'share', policy_id, policy_version,"
                " policy_digest, key_name, recorded_at FROM decision WHERE id = 2"
            ],
            "decision 5 is not in the chain: it was written around the service",
        ),
        (
            [f"UPDATE log_link SET content_hash = '0' WHERE seq = {link(2)}"],
            f"the link of decision 2 (link {link(2)}) was altered",
        ),
        (
            [f"UPDATE log_link SET record_id = 99 WHERE seq = {link(2)}"],
            f"the link of decision 99 (link {link(2)}) was altered",
        ),
    ],
    ids=[
        "verdict-altered",
        "review-altered",
        "review-removed",
        "record-and-link-removed",
        "row-inserted",
        "link-altered",
        "link-repointed",
    ],
)
def test_verify_names_the_first_record_altered_inserted_or_removed(history, database_url, log_cli, statements, named):
    tamper(database_url, *statements)
    code, _, err = log_cli("verify")
    assert code == 1
    assert f"TAMPERED: {named}" in err


def test_a_rewritten_record_with_a_recomputed_link_breaks_the_next_link(history, database_url, log_cli, app):
    """Recomputing an altered record's own hashes does not help: the next link still holds the old one."""
    from infoshare.service.store.logchain import content, content_hash, link_hash
    from infoshare.service.store.models import Decision, LogLink

    tamper(database_url, "UPDATE decision SET requested_by = 'someone else' WHERE id = 2")
    with app.app_context():
        second = LogLink.get(LogLink.seq == link(2))
        digest = content_hash(content("decision", Decision.get_by_id(2)))
        forged = link_hash(link(2), "decision", 2, second.prev_hash, digest)
    tamper(database_url, f"UPDATE log_link SET content_hash = '{digest}', hash = '{forged}' WHERE seq = {link(2)}")
    code, _, err = log_cli("verify")
    assert code == 1 and f"TAMPERED: review 1 (link {link(3)}) does not follow the link before it" in err


def test_cutting_records_off_the_end_is_found_with_a_noted_head(history, database_url, log_cli):
    head = log_cli("verify")[1].split()[-1]
    tamper(database_url, "DELETE FROM decision WHERE id = 4", f"DELETE FROM log_link WHERE seq = {link(6)}")
    create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})  # the triggers back
    assert log_cli("verify")[0] == 0  # the chain alone cannot tell its end was cut off ...
    code, _, err = log_cli("verify", "--head", head)
    assert code == 1 and "no longer holds the head" in err  # ... the head noted elsewhere can


def test_the_triggers_come_back_at_the_next_start(history, database_url):
    tamper(database_url)
    create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        sqlite3.connect(database_url.removeprefix("sqlite:///")).execute("DELETE FROM review")


def test_a_full_export_verifies_on_its_own_and_an_edit_to_it_is_named(history, log_cli, tmp_path):
    export = tmp_path / "log.jsonl"
    assert log_cli("export", "--output", str(export))[0] == 0
    lines = export.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "infoshare-log/1" and len(lines) == 1 + link(6)
    assert [json.loads(line)["record_id"] for line in lines[1 + SETUP :]] == [1, 2, 1, 3, 2, 4]
    assert log_cli("verify", "--file", str(export))[:2] == (0, log_cli("verify")[1])

    edited = lines[:]
    record = json.loads(edited[link(4)])
    record["record"]["verdict"]["decision"] = "share_without_consent"
    edited[link(4)] = json.dumps(record)
    export.write_text("\n".join(edited) + "\n")
    code, _, err = log_cli("verify", "--file", str(export))
    assert code == 1 and f"decision 3 (link {link(4)}) was altered" in err

    export.write_text("\n".join(lines[:-1]) + "\n")  # the last record dropped from the file
    code, _, err = log_cli("verify", "--file", str(export))
    assert code == 1 and f"its header names head {link(6)}" in err


def test_a_case_export_holds_only_that_case_and_each_record_is_checkable(history, log_cli, tmp_path):
    export = tmp_path / "case-a.jsonl"
    code, _, err = log_cli("export", "--case", "CASE-A", "--output", str(export))
    assert code == 0 and "exported 3 records" in err
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert [(line["kind"], line["record_id"]) for line in lines[1:]] == [
        ("decision", 1),
        ("review", 1),
        ("decision", 3),
    ]
    assert lines[1]["record"]["facts"] == SHARE_FACTS
    code, out, _ = log_cli("verify", "--file", str(export))
    assert code == 0 and out.startswith("OK: 3 records")

    lines[2]["record"]["rationale"] = "Refused."
    export.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    code, _, err = log_cli("verify", "--file", str(export))
    assert code == 1 and f"review 1 (link {link(3)}) was altered" in err


def test_a_file_that_is_not_an_export_is_refused_with_the_line(log_cli, tmp_path):
    bogus = tmp_path / "bogus.jsonl"
    bogus.write_text('{"format": "infoshare-log/1", "case_ref": null, "head": {"seq": 0, "hash": ""}}\n[1, 2]\n')
    code, _, err = log_cli("verify", "--file", str(bogus))
    assert code == 1 and "line 2: not a JSON object" in err


def test_a_store_made_before_the_chain_has_its_records_chained_once_at_start(tmp_path, log_cli, database_url):
    """An older store (no link table, keys without key_id) is upgraded in place and its keys keep working."""
    path = Path(database_url.removeprefix("sqlite:///"))
    app = create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with app.app_context():
        token = create_key("case-system", "old-cms")[1]
    for n in range(3):
        assert (
            app.test_client()
            .post(
                "/v1/decisions",
                json={"case_ref": f"OLD-{n}", "facts": SHARE_FACTS},
                headers={"Authorization": f"Bearer {token}"},
            )
            .status_code
            == 201
        )
    db = sqlite3.connect(path, isolation_level=None)
    for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {trigger}")
    db.execute("DROP TABLE log_link")
    db.execute("DROP TABLE log_scope")
    db.close()

    app = create_app({"DATABASE_URL": database_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    # the version, its activation, the client, its key, the three decisions and the scope record
    assert log_cli("verify")[1].startswith("OK: 8 records")
    response = app.test_client().get("/v1/cases/OLD-1/decisions", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(response.json["decisions"]) == 1


def test_on_postgresql_the_log_is_chained_and_the_database_refuses_changes(pg_url, monkeypatch):
    psycopg2 = pytest.importorskip("psycopg2")
    app = create_app({"DATABASE_URL": pg_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with app.app_context():
        headers = {"Authorization": f"Bearer {create_key('case-system', 'pg-chain')[1]}"}
    for _ in range(3):
        assert (
            app.test_client()
            .post("/v1/decisions", json={"case_ref": "PG-C", "facts": SHARE_FACTS}, headers=headers)
            .status_code
            == 201
        )
    monkeypatch.setenv("DATABASE_URL", pg_url)
    # the scope record, the version, its activation, the client and its key, then the decisions
    assert CliRunner().invoke(main, ["log", "verify"]).stdout.startswith("OK: 8 records")

    db = psycopg2.connect(pg_url)
    db.autocommit = True
    with db.cursor() as cursor:
        for statement in (
            "UPDATE decision SET decision = 'share'",
            "DELETE FROM decision WHERE id = 1",
            "DELETE FROM log_link",
            "TRUNCATE review",
        ):
            with pytest.raises(psycopg2.Error, match="append-only"):
                cursor.execute(statement)
        cursor.execute("ALTER TABLE decision DISABLE TRIGGER USER")
        cursor.execute("UPDATE decision SET decision = 'do_not_share' WHERE id = 2")
    db.close()
    result = CliRunner().invoke(main, ["log", "verify"])
    assert result.exit_code == 1 and "TAMPERED: decision 2 (link 7) was altered" in result.stderr
    assert "UNGUARDED: trigger decision_append_only is disabled" in result.stderr


def test_on_postgresql_a_record_whose_linking_failed_is_kept_and_linked_by_the_next_writer(pg_url, monkeypatch, caplog):
    from infoshare.service.store import logchain

    app = create_app({"DATABASE_URL": pg_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    database = app.extensions["infoshare"].database
    with app.app_context():
        headers = {"Authorization": f"Bearer {create_key('case-system', 'pg-pending')[1]}"}
    client = app.test_client()
    monkeypatch.setenv("DATABASE_URL", pg_url)
    with database.connection_context():  # linking fails in the database, after the record's commit
        database.execute_sql(
            "CREATE OR REPLACE FUNCTION infoshare_link_pending() RETURNS bigint LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'linking unavailable'; END $$"
        )
    first = client.post("/v1/decisions", json={"case_ref": "PG-P", "facts": SHARE_FACTS}, headers=headers)
    assert first.status_code == 201  # committed, so it is answered; its link is owed
    assert f"decision {first.json['id']} is recorded; linking it failed" in caplog.text
    with database.connection_context():
        logchain.install(database)
    with app.app_context():
        waiting = verify_store()
    assert waiting.ok and (waiting.count, waiting.pending) == (5, 1)

    second = client.post("/v1/decisions", json={"case_ref": "PG-P", "facts": BARE_FACTS}, headers=headers)
    assert second.status_code == 201
    linked = CliRunner().invoke(main, ["log", "verify"])
    assert linked.stdout.startswith("OK: 7 records") and "waiting" not in linked.stdout
    export = CliRunner().invoke(main, ["log", "export", "--case", "PG-P"]).stdout.splitlines()
    assert [json.loads(line)["record_id"] for line in export[1:]] == [first.json["id"], second.json["id"]]
