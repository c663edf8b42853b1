"""``infoshare init DIR``: an organisation's working folder, made from the shipped one.

The folder holds what an organisation adapts and runs: the policy (to edit
to its own local protocol), its scenarios, ``infoshare.toml`` naming the
store, the policy folder, the log's signing-key and checkpoint files and the
server settings, and a short README. Every ``infoshare`` command run inside
it (or given it by ``INFOSHARE_HOME``) uses it with no other flags. Nothing
that exists is ever overwritten; the folder and what it holds are private to
the user (0700 folders, 0600 files), since the store and keys will live there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click

from infoshare.engine.policy.loader import SHIPPED_FEATURES, SHIPPED_POLICY
from infoshare.service.config import (
    CONFIG_FILE,
    DEFAULT_CHECKPOINT_FILE,
    DEFAULT_CHECKPOINT_RECORDS,
    DEFAULT_CHECKPOINT_SECONDS,
    DEFAULT_RATE_LIMIT,
    DEFAULT_SIGNING_KEY_FILE,
)

POLICY_FOLDER = "policy"
FEATURES_FOLDER = "features"
SKIP = shutil.ignore_patterns("__pycache__", "__init__.py", "*.pyc")

CONFIG = f"""\
# infoshare's settings for this working folder. Every `infoshare` command run in this
# folder (or below it, or anywhere with INFOSHARE_HOME={{home}}) uses them.
# Relative paths are relative to this folder; an environment variable of the same
# setting (DATABASE_URL, INFOSHARE_POLICY, ...) overrides it.

[store]
# The decision log: an sqlite file here, or postgresql://user@host:5432/db for a shared one.
database_url = "sqlite:///instance/infoshare.sqlite3"

[policy]
# The policy this organisation serves; edit it, then `infoshare check` and `infoshare reload`.
folder = "{POLICY_FOLDER}"

[log]
# The key that signs the log's checkpoints, and where the checkpoints are kept (outside the database).
signing_key_file = "{DEFAULT_SIGNING_KEY_FILE}"
checkpoint_file = "{DEFAULT_CHECKPOINT_FILE}"
checkpoint_records = {DEFAULT_CHECKPOINT_RECORDS}     # sign the log's head at least every this many records
checkpoint_seconds = {DEFAULT_CHECKPOINT_SECONDS}      # and every this many seconds

[server]
host = "127.0.0.1"
port = 8080
workers = 2
rate_limit = {DEFAULT_RATE_LIMIT}            # requests a minute per key (0: no limit)
policy_poll_seconds = 1.0     # how often a worker looks up which policy version is active
"""

README = f"""\
# infoshare working folder

Made by `infoshare init`. Run every command from here (or set INFOSHARE_HOME to this folder).

| what | where |
|---|---|
| settings: store, policy folder, log key and checkpoint files, server | `{CONFIG_FILE}` |
| the policy to adapt to your local protocol | `{POLICY_FOLDER}/` (rules in `{POLICY_FOLDER}/rules/`, its tests in `{POLICY_FOLDER}/tests/`) |
| the scenarios, in practitioners' words (`{POLICY_FOLDER}/phrases.yaml` holds the words) | `{FEATURES_FOLDER}/` |
| the decision log and the log's key and checkpoints (made on first use) | `instance/` |

    infoshare check                 # the policy: every mistake as file:line, and its tests
    infoshare coverage              # the scenarios, and which statement each rule and scenario covers
    infoshare fmt                   # the rule files in one layout
    infoshare serve                 # the HTTP API (and /docs) on the [server] address
    infoshare keys create --role case-system
    infoshare reload                # after an edit: check it and make it active (give it a new version)
"""


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init_command(directory: Path) -> None:
    """Make DIR an organisation's working folder: the shipped policy to edit, its scenarios,
    infoshare.toml and a README. Refuses to overwrite anything already there."""
    made = [directory / CONFIG_FILE, directory / "README.md", directory / POLICY_FOLDER, directory / FEATURES_FOLDER]
    existing = [str(path) for path in made if path.exists()]
    if existing:
        raise click.ClickException(
            f"not overwriting {', '.join(existing)}; choose an empty folder, or move them away first"
        )
    old_umask = os.umask(0o077)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copytree(SHIPPED_POLICY, directory / POLICY_FOLDER, ignore=SKIP)
        shutil.copytree(SHIPPED_FEATURES, directory / FEATURES_FOLDER, ignore=SKIP)
        (directory / "instance").mkdir(mode=0o700, exist_ok=True)
        (directory / CONFIG_FILE).write_text(CONFIG.format(home=directory.resolve()), encoding="utf-8")
        (directory / "README.md").write_text(README, encoding="utf-8")
    finally:
        os.umask(old_umask)
    click.echo(f"infoshare: made the working folder {directory} (see {directory / 'README.md'})")
    click.echo(f"  cd {directory} && infoshare check && infoshare serve")
