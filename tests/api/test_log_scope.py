"""Everything that decides is in the log's chain, and `log verify` reads the store as it is.

Policy versions (their full text), activations, clients, keys and their
revocations are chained like decisions, so a change made to them in the
database, around the service, is named by `infoshare log verify`; verify
installs nothing, so a dropped trigger is a finding rather than quietly put
back. Each runs on sqlite and on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key, revoke_key
from infoshare.service.cli.main import main
from infoshare.service.store import logchain
from infoshare.service.store.models import LogLink

TABLES = ("decision", "review", "log_link", "log_scope", "policy_version", "policy_activation")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request) -> str:
    return request.getfixturevalue("database_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def started(store_url):
    return create_app({"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})


@pytest.fixture
def verify(store_url, monkeypatch):
    """`infoshare log verify` on the test's store: (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", store_url)

    def run() -> tuple[int, str, str]:
        result = CliRunner().invoke(main, ["log", "verify"])
        return result.exit_code, result.stdout, result.stderr

    return run


def raw(url: str, *statements: str, guarded: bool = True) -> list[tuple]:
    """Run SQL on the store as someone with direct access would; unless ``guarded``, with the
    append-only triggers out of the way first (dropped on sqlite, disabled on PostgreSQL).
    Returns the last statement's rows."""
    rows: list[tuple] = []
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        if not guarded:
            for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                db.execute(f"DROP TRIGGER {trigger}")
        for statement in statements:
            rows = db.execute(statement).fetchall()
        db.close()
        return rows
    import psycopg2

    db = psycopg2.connect(url)
    db.autocommit = True
    with db.cursor() as cursor:
        if not guarded:
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement in statements:
            cursor.execute(statement)
            rows = cursor.fetchall() if cursor.description else []
    db.close()
    return rows


def triggers(url: str) -> set[str]:
    if url.startswith("sqlite"):
        return {name for (name,) in raw(url, "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return {
        name
        for (name,) in raw(
            url,
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT t.tgisinternal",
        )
    }


def test_versions_activations_clients_and_keys_are_chained(started, verify):
    with started.app_context():
        create_key("case-system", "cms")
        revoke_key("cms")
        kinds = [link.kind for link in LogLink.select().order_by(LogLink.seq)]
    assert kinds == ["scope", "policy_version", "activation", "client", "key", "key_revocation"]
    code, out, _ = verify()
    assert code == 0 and out.startswith("OK: 6 records, chain intact")


def test_editing_a_stored_versions_text_under_its_digest_is_caught(started, store_url, verify):
    """Finding 4: the text is what re-explains a decision; its digest alone is no proof of it."""
    raw(
        store_url,
        "UPDATE policy_version SET files = replace(files, 'do_not_share', 'share')",
        guarded=False,
    )
    code, _, err = verify()
    assert code == 1 and "TAMPERED: policy_version" in err and "(link 2) was altered" in err


def test_an_activation_or_a_version_written_around_the_service_is_named(started, store_url, verify):
    digest = raw(store_url, "SELECT digest FROM policy_version")[0][0]
    forged = "f" * 64
    raw(
        store_url,
        "INSERT INTO policy_version (digest, policy_id, version, files, stored_at) "
        f"SELECT '{forged}', policy_id, version, files, stored_at FROM policy_version",
    )
    code, _, err = verify()
    assert code == 1 and f"policy_version {int(forged[:15], 16)} is not in the chain" in err
    raw(
        store_url,
        f"INSERT INTO policy_activation (digest, activated_by, activated_at) VALUES ('{digest}', 'x', '2026-01-01')",
    )
    assert verify()[0] == 1


def test_key_creation_and_revocation_are_in_the_chain(started, store_url, verify):
    with started.app_context():
        create_key("case-system", "cms")
        create_key("coordinator", "coord")
        revoke_key("cms")
    assert verify()[0] == 0
    raw(store_url, "UPDATE api_key SET revoked_at = '2026-01-01 00:00:00' WHERE name = 'coord'", guarded=False)
    code, _, err = verify()
    assert code == 1 and "key_revocation 2 is not in the chain: it was written around the service" in err

    raw(store_url, "UPDATE api_key SET revoked_at = NULL WHERE name = 'cms'")  # un-revoked
    code, _, err = verify()
    assert code == 1 and "TAMPERED: key_revocation 1 (link 8) was removed" in err


def test_a_key_swapped_or_added_around_the_service_is_named(started, store_url, verify):
    with started.app_context():
        create_key("case-system", "cms")
    raw(
        store_url,
        "INSERT INTO api_key (name, role, key_hash, created_at, client_id) "
        "SELECT 'extra', role, 'e', created_at, client_id FROM api_key",
    )
    code, _, err = verify()
    assert code == 1 and "key 2 is not in the chain: it was written around the service" in err
    raw(store_url, "UPDATE api_key SET key_hash = 'known' WHERE name = 'cms'")
    code, _, err = verify()
    assert code == 1 and "TAMPERED: key 1 (link 5) was altered" in err


def test_a_dropped_trigger_is_reported_and_left_missing_and_the_start_puts_it_back(started, store_url, verify, caplog):
    """Finding 2: verify installs nothing; the service's start reinstalls and says so."""
    sqlite = store_url.startswith("sqlite")
    name = "decision_no_delete" if sqlite else "decision_append_only"
    raw(store_url, f"DROP TRIGGER {name}" if sqlite else f"DROP TRIGGER {name} ON decision")
    for _ in range(2):  # a second verify still finds it: the first put nothing back
        code, _, err = verify()
        assert code == 1 and f"UNGUARDED: trigger {name} is missing" in err
    assert name not in triggers(store_url)

    caplog.set_level(logging.WARNING, logger="infoshare.store")
    create_app({"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    assert name in triggers(store_url)
    assert any(f"trigger {name} is missing" in r.getMessage() for r in caplog.records if r.name == "infoshare.store")
    assert verify()[0] == 0


def test_a_neutered_trigger_is_reported(started, store_url, verify):
    if store_url.startswith("sqlite"):
        raw(
            store_url,
            "DROP TRIGGER review_no_update",
            "CREATE TRIGGER review_no_update BEFORE UPDATE ON review BEGIN SELECT 1; END",
        )
        finding = "trigger review_no_update was altered"
    else:
        raw(
            store_url,
            "CREATE OR REPLACE FUNCTION infoshare_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RETURN NEW; END $$",
        )
        finding = "function infoshare_append_only was altered"
    code, _, err = verify()
    assert code == 1 and f"UNGUARDED: {finding}" in err


def test_a_store_whose_chain_covered_only_decisions_adopts_the_rest_once_and_says_so(
    started, store_url, verify, caplog
):
    """A store made when only decisions and reviews were chained: its versions, activations,
    clients and keys are chained once at the next start, after its decisions, and logged."""
    with started.app_context():
        token = create_key("case-system", "old-cms")[1]
    client = started.test_client()
    for n in range(2):
        assert (
            client.post(
                "/v1/decisions",
                json={"case_ref": f"OLD-{n}", "facts": {"subject": "adult"}},
                headers={"Authorization": f"Bearer {token}"},
            ).status_code
            == 201
        )
    with started.app_context():  # the chain as it was: only the decisions, linked from the start
        decisions = [(link.record_id, link.content_hash) for link in LogLink.select().where(LogLink.kind == "decision")]
    previous, links = logchain.GENESIS, []
    for seq, (number, digest) in enumerate(decisions, start=1):
        links.append(
            (seq, number, digest, previous, link := logchain.link_hash(seq, "decision", number, previous, digest))
        )
        previous = link
    raw(
        store_url,
        "DELETE FROM log_link",
        "DROP TABLE log_scope",
        *(
            f"INSERT INTO log_link (seq, kind, record_id, content_hash, prev_hash, hash) "
            f"VALUES ({seq}, 'decision', {number}, '{digest}', '{prev}', '{link}')"
            for seq, number, digest, prev, link in links
        ),
        guarded=False,
    )
    Path(started.config["INFOSHARE_LOG_CHECKPOINT_FILE"]).unlink()  # kept by none of that time

    caplog.set_level(logging.WARNING, logger="infoshare.logchain")
    create_app({"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    adopted = [r.getMessage() for r in caplog.records if r.name == "infoshare.logchain"]
    assert len(adopted) == 1 and "1 policy_version, 1 activation, 1 client, 1 key" in adopted[0]
    code, out, err = verify()
    assert code == 1 and out.startswith("OK: 7 records"), out  # 2 decisions, 4 adopted, the scope record
    assert "NOT SIGNED" in err and "infoshare log checkpoint --first" in err  # the upgrade's one step
    scope = raw(store_url, "SELECT kinds, adopted FROM log_scope")
    assert len(scope) == 1 and json.loads(scope[0][1])["key"] == 1
    assert CliRunner().invoke(main, ["log", "checkpoint", "--first"]).exit_code == 0
    assert verify()[0] == 0

    create_app({"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})  # adopted once only
    raw(
        store_url,
        "INSERT INTO client (name, role, created_at) VALUES ('sneaked-in', 'coordinator', '2026-01-01')",
    )
    create_app({"DATABASE_URL": store_url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    code, _, err = verify()
    assert code == 1 and "client 2 is not in the chain" in err
