"""What the service writes is private to its user whatever the umask: folders 0700, files 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from service_cases import SHARE_FACTS

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key
from infoshare.service.store.private import private_file, write_private


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_store_its_wal_and_shm_and_its_folder_are_private_under_umask_022(tmp_path, umask_022):
    store = tmp_path / "instance" / "infoshare.sqlite3"
    app = create_app({"DATABASE_URL": f"sqlite:///{store}", "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with app.app_context():
        token = create_key("case-system", "cms")[1]
    response = app.test_client().post(
        "/v1/decisions", json={"case_ref": "C-1", "facts": SHARE_FACTS}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
    written = sorted(p.name for p in store.parent.iterdir())
    assert {"infoshare.sqlite3", "infoshare.sqlite3-wal", "infoshare.sqlite3-shm"} <= set(written)
    assert mode(store.parent) == 0o700
    assert {name: mode(store.parent / name) for name in written} == dict.fromkeys(written, 0o600)


def test_a_store_left_readable_by_an_older_version_is_made_private_at_start(tmp_path, umask_022):
    store = tmp_path / "old.sqlite3"
    create_app({"DATABASE_URL": f"sqlite:///{store}", "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    for path in (store, Path(f"{store}-writer.lock")):
        path.touch()
        path.chmod(0o644)
    create_app({"DATABASE_URL": f"sqlite:///{store}", "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    assert mode(store) == 0o600 and mode(Path(f"{store}-writer.lock")) == 0o600


def test_the_helpers_for_key_and_checkpoint_files_make_them_private(tmp_path, umask_022):
    secret = write_private(tmp_path / "keys" / "signing.key", b"secret")
    assert secret.read_bytes() == b"secret" and mode(secret) == 0o600 and mode(secret.parent) == 0o700
    write_private(secret, b"rotated")
    assert secret.read_bytes() == b"rotated" and mode(secret) == 0o600
    assert list(secret.parent.iterdir()) == [secret]  # no temporary file left beside it
    made = private_file(tmp_path / "checkpoints" / "log.jsonl")
    assert mode(made) == 0o600 and mode(made.parent) == 0o700
