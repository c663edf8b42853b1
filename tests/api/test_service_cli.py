"""The infoshare command: keys, and serve refusing a broken policy or store."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.cli.main import main


@pytest.fixture
def run(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("INFOSHARE_POLICY", raising=False)
    return lambda *args: CliRunner().invoke(main, list(args))


def test_keys_create_prints_a_working_key_on_its_last_line(run, database_url):
    result = run("keys", "create", "--role", "coordinator", "--name", "co-ordinator-1")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("isk_") and len(token) > 40
    client = create_app({"DATABASE_URL": database_url}).test_client()
    assert client.get("/v1/policy", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_keys_list_shows_names_and_roles_never_keys_and_revoke_marks_them(run):
    token = run("keys", "create", "--role", "case-system", "--name", "cms").stdout.strip().splitlines()[-1]
    run("keys", "create", "--role", "policy-owner")
    listing = run("keys", "list").stdout
    assert "cms" in listing and "case-system" in listing and "policy-owner" in listing
    assert token not in listing and "active" in listing
    revoked = run("keys", "revoke", "cms")
    assert revoked.exit_code == 0 and "Revoked" in revoked.stdout
    assert any(line.startswith("cms") and "revoked" in line for line in run("keys", "list").stdout.splitlines())


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("keys", "create", "--role", "admin"), "admin"),
        (("keys", "create", "--role", "case-system", "--name", "bad name!"), "not allowed"),
        (("keys", "revoke", "nobody"), "no key named 'nobody'"),
    ],
)
def test_key_commands_refuse_with_a_reason(run, args, complaint):
    result = run(*args)
    assert result.exit_code != 0
    assert complaint in result.output


def test_a_key_name_is_used_once(run):
    assert run("keys", "create", "--role", "case-system", "--name", "twin").exit_code == 0
    again = run("keys", "create", "--role", "coordinator", "--name", "twin")
    assert again.exit_code == 1 and "already exists" in again.output


def test_keys_list_on_a_fresh_store_says_how_to_create_one(run):
    assert "infoshare keys create --role case-system" in run("keys", "list").stdout


def test_serve_refuses_a_broken_policy_with_the_checkers_messages(run, monkeypatch, broken_policy):
    monkeypatch.setenv("INFOSHARE_POLICY", str(broken_policy))
    result = run("serve", "--port", "1")
    assert result.exit_code == 1
    assert "the policy is broken" in result.stderr
    assert "rules/0-every-case.yaml:" in result.stderr and "`then` is missing" in result.stderr


def test_serve_refuses_an_unreachable_store(run, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")
    result = run("serve", "--port", "1")
    assert result.exit_code == 1 and "cannot open the decision store" in result.stderr


def test_the_policy_owners_commands_are_part_of_infoshare(run):
    assert run("check", str(SHIPPED_POLICY)).exit_code == 0
