"""One CLI: the working folder found the same way from anywhere, `--policy` on every command,
`--version`, `infoshare reload`, versions that mean one text, and the quickstart's key."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from service_cases import SHARE_FACTS

from infoshare.engine import PolicyError
from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.cli.main import main
from infoshare.service.reload import reload_from_files
from infoshare.service.store import versions

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, **kw):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, **kw)


def copy_policy(tmp_path: Path, name: str, version: str = "2.0.0", wording: str | None = None) -> Path:
    folder = tmp_path / name
    shutil.copytree(SHIPPED_POLICY, folder)
    policy = folder / "policy.yaml"
    policy.write_text(policy.read_text().replace("version: 2.0.0", f"version: {version}"))
    if wording:
        rules = folder / "rules" / "3-consent.yaml"
        rules.write_text(
            rules.read_text().replace(
                "because: The subject of the information has consented to this sharing.", f"because: {wording}"
            )
        )
    return folder


def test_version_is_printed():
    result = run("--version")
    assert result.exit_code == 0 and re.fullmatch(r"infoshare \d+\.\d+\.\d+\S*\n", result.output)


def test_the_store_is_the_same_from_any_folder_and_is_said(tmp_path, monkeypatch):
    """`cd /tmp && infoshare keys list` used to make ./instance/ there and see no keys."""
    home = tmp_path / "home"
    monkeypatch.setenv("INFOSHARE_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    assert run("keys", "create", "--role", "case-system", "--name", "one").exit_code == 0
    monkeypatch.chdir(elsewhere)
    listing = run("keys", "list")
    assert "one" in listing.stdout and f"home {home}" in listing.stderr and "store sqlite:///" in listing.stderr
    assert not (elsewhere / "instance").exists() and (home / "instance" / "infoshare.sqlite3").is_file()


def test_a_config_file_in_a_parent_folder_is_found_and_its_relative_paths_are_its_own(tmp_path, monkeypatch):
    monkeypatch.delenv("INFOSHARE_HOME")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("INFOSHARE_POLICY", raising=False)
    work = tmp_path / "org"
    copy_policy(work, "our-policy", "4.0.0")
    (work / "infoshare.toml").write_text(
        '[store]\ndatabase_url = "sqlite:///data/store.sqlite3"\n[policy]\nfolder = "our-policy"\n'
    )
    inner = work / "deep" / "er"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    checked = run("check")
    assert checked.exit_code == 0 and "information-sharing 4.0.0" in checked.stdout
    assert run("keys", "list").exit_code == 0 and (work / "data" / "store.sqlite3").is_file()


def test_a_config_file_with_an_unknown_setting_is_refused_naming_it(tmp_path, monkeypatch):
    (tmp_path / "infoshare.toml").write_text("[store]\ndatabse_url = 'x'\n")
    monkeypatch.setenv("INFOSHARE_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["keys", "list"])
    assert result.exit_code == 1 and "databse_url" in result.output and "database_url" in result.output


@pytest.mark.parametrize("command", ["check", "coverage", "evaluate", "fmt", "impact", "interview", "reload", "serve"])
def test_every_command_takes_the_policy_folder_as_policy(command):
    result = run(command, "--help")
    assert "--policy" in result.output


def test_reload_activates_a_checked_folder_for_every_server_and_refuses_a_broken_one(tmp_path, monkeypatch):
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", database)
    app = create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    newer = copy_policy(tmp_path, "newer", "2.1.0", "Consent was given (2.1.0).")
    result = run("reload", "--policy", str(newer))
    assert result.exit_code == 0 and "2.1.0" in result.stdout and "replaced 2.0.0" in result.stdout
    app.config["INFOSHARE_POLICY_POLL_SECONDS"] = 0.0
    with app.app_context():
        from infoshare.service.reload import follow_active_version

        follow_active_version(app)
    assert app.extensions["infoshare"].policy.version == "2.1.0"
    (newer / "policy.yaml").write_text("version: [\n")
    refused = run("reload", "--policy", str(newer))
    assert (
        refused.exit_code == 1
        and "policy.yaml:1: a `[` or `{` list is not closed" in refused.stderr
        and "not reloaded" in refused.stderr
    )


def test_changed_files_under_a_version_the_store_holds_are_refused_by_reload_check_and_start(tmp_path, monkeypatch):
    database = f"sqlite:///{tmp_path / 's.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", database)
    folder = copy_policy(tmp_path, "policy")
    app = create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(folder), "INFOSHARE_POLICY_POLL_SECONDS": 0})
    rules = folder / "rules" / "3-consent.yaml"
    rules.write_text(
        rules.read_text().replace(
            "because: The subject of the information has consented to this sharing.",
            "because: The subject has consented, truly.",
        )
    )
    with app.app_context(), pytest.raises(PolicyError) as refused:
        reload_from_files(app, "test")
    [problem] = refused.value.problems
    version_line = (folder / "policy.yaml").read_text().splitlines().index("version: 2.0.0") + 1
    assert problem.file == "policy.yaml" and problem.line == version_line
    assert "version `2.0.0` is already in the store" in problem.message and "`version: 2.0.1`" in problem.message
    with app.app_context():
        assert versions.active()["digest"] == app.extensions["infoshare"].policy.digest  # nothing changed
    checked = run("check", "--policy", str(folder))
    assert checked.exit_code == 1 and "version `2.0.0` is already in the store" in checked.stderr
    with pytest.raises(PolicyError):
        create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(folder)})
    (folder / "policy.yaml").write_text(
        (folder / "policy.yaml").read_text().replace("version: 2.0.0", "version: 2.0.1")
    )
    assert run("check", "--policy", str(folder)).exit_code == 0


def test_a_server_started_on_an_older_version_does_not_move_the_others_back(tmp_path):
    database = f"sqlite:///{tmp_path / 's.sqlite3'}"
    old, new = copy_policy(tmp_path, "old"), copy_policy(tmp_path, "new", "2.1.0", "Consent was given (new).")
    first = create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(old)})
    second = create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(new)})
    assert second.extensions["infoshare"].policy.version == "2.1.0"
    restarted = create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(old)})
    with restarted.app_context():
        assert versions.active()["version"] == "2.1.0"
    assert restarted.extensions["infoshare"].policy.version == "2.1.0"  # answers with the active one
    told = create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(old), "INFOSHARE_ACTIVATE": True})
    with told.app_context():
        assert versions.active()["version"] == "2.0.0"
    assert first.extensions["infoshare"].policy.version == "2.0.0"


def test_a_reload_names_the_version_the_store_had_active_as_previous(tmp_path, caplog):
    """A SIGHUP in a server whose snapshot was older logged the wrong previous version."""
    database = f"sqlite:///{tmp_path / 's.sqlite3'}"
    old = copy_policy(tmp_path, "old")
    app = create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(old), "INFOSHARE_POLICY_POLL_SECONDS": 60})
    create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(copy_policy(tmp_path, "mid", "2.1.0", "(mid)"))})
    app.config["INFOSHARE_POLICY"] = str(copy_policy(tmp_path, "last", "2.2.0", "(last)"))
    with app.app_context(), caplog.at_level("INFO", "infoshare.policy"):
        previous, policy = reload_from_files(app, "SIGHUP")
    assert previous["version"] == "2.1.0" and policy.version == "2.2.0"
    assert "was 2.1.0" in caplog.text


def test_get_policy_lists_the_versions_activated_when_and_by_whom(tmp_path):
    database = f"sqlite:///{tmp_path / 's.sqlite3'}"
    create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(copy_policy(tmp_path, "a"))})
    app = create_app({"DATABASE_URL": database, "INFOSHARE_POLICY": str(copy_policy(tmp_path, "b", "3.0.0", "(b)"))})
    from infoshare.service.access.keys import create_key

    with app.app_context():
        token = create_key("case-system", "reader")[1]
    body = app.test_client().get("/v1/policy", headers={"Authorization": f"Bearer {token}"}).json
    assert [(a["version"], a["activated_by"]) for a in body["activations"]] == [("3.0.0", "start"), ("2.0.0", "start")]
    assert all(a["activated_at"].endswith("+00:00") for a in body["activations"])


def test_coverage_writes_its_page_into_a_folder_that_does_not_exist_yet(tmp_path):
    page = tmp_path / "build" / "nested" / "coverage.html"
    result = CliRunner().invoke(main, ["coverage", "--quiet", "--html", str(page)])
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert page.is_file() and "<html" in page.read_text()


def test_the_key_make_run_tells_you_to_create_works_every_time(tmp_path, monkeypatch):
    """The README's `KEY=$(... | tail -n 1)` must give a working key on every run, not only the first."""
    monkeypatch.chdir(ROOT)
    printed = subprocess.run(["make", "-n", "-s", "run"], capture_output=True, text=True, check=True).stdout
    command = re.search(r"infoshare keys create[^|\"'\n]*", printed).group(0)
    args = command.split()[1:]
    database = f"sqlite:///{tmp_path / 's.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", database)
    keys = [CliRunner().invoke(main, args).stdout.strip().splitlines()[-1] for _ in range(2)]
    app = create_app({"DATABASE_URL": database})
    client = app.test_client()
    for key in keys:
        response = client.post("/v1/evaluate", json={"facts": SHARE_FACTS}, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, (key, response.json)


def test_init_makes_a_working_folder_that_commands_inside_it_use_and_refuses_to_overwrite(tmp_path, monkeypatch):
    monkeypatch.delenv("INFOSHARE_HOME")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("INFOSHARE_POLICY", raising=False)
    work = tmp_path / "org"
    made = run("init", str(work))
    assert made.exit_code == 0 and (work / "infoshare.toml").is_file() and (work / "README.md").is_file()
    assert (work / "policy" / "rules").is_dir() and (work / "policy" / "phrases.yaml").is_file()
    assert (work / "features" / "steps" / "vocabulary.py").is_file() and not (
        work / "features" / "__init__.py"
    ).exists()
    assert oct(work.stat().st_mode & 0o777) == "0o700"
    rules = work / "policy" / "rules" / "3-consent.yaml"
    rules.write_text(rules.read_text().replace("consented to this sharing.", "consented to this sharing (ours)."))
    monkeypatch.chdir(work / "policy")
    checked = run("check")
    assert checked.exit_code == 0
    assert f"home {work}" in run("keys", "list").stderr and (work / "instance" / "infoshare.sqlite3").is_file()
    from infoshare.service.config import find_home, from_environment

    settings = from_environment(find_home())
    assert settings["INFOSHARE_POLICY"] == str(work / "policy")
    assert settings["INFOSHARE_LOG_SIGNING_KEY_FILE"] == str(work / "instance" / "log-signing.key")
    assert settings["INFOSHARE_LOG_CHECKPOINT_FILE"] == str(work / "instance" / "log-checkpoints.jsonl")
    again = CliRunner().invoke(main, ["init", str(work)])
    assert again.exit_code == 1 and "not overwriting" in again.output
    assert "(ours)" in rules.read_text()


def test_coverage_from_another_folder_finds_the_shipped_scenarios(tmp_path, monkeypatch):
    """`coverage` run outside the checkout looked for ./features and reported 62 problems."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["coverage", "--quiet"])
    assert result.exit_code == 0, result.output
    assert re.search(r"scenarios: +(\d+) of \1 passed", result.output), result.output


def test_the_store_line_never_shows_a_password(monkeypatch):
    from infoshare.service.config import describe, find_home

    line = describe(find_home(), {"DATABASE_URL": "postgresql://infoshare:s3cret@db:5432/infoshare"})
    assert "s3cret" not in line and "postgresql://infoshare:***@db:5432/infoshare" in line
