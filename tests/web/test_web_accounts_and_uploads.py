"""`infoshare users`, and candidate policies from a folder or an uploaded archive: size limits
and safe extraction."""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import tarfile
import zipfile

import pytest
from click.testing import CliRunner
from web_people import PASSWORD

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access import people
from infoshare.service.cli.main import main
from infoshare.service.store.models import Person
from infoshare.service.web import candidates


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite3'}")
    return lambda *args, input=None: CliRunner().invoke(main, list(args), input=input)


def test_users_create_asks_for_a_password_and_the_person_can_sign_in(run, tmp_path):
    result = run("users", "create", "--role", "practitioner", "--name", "Sam Patel", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "signs in as 'sam.patel'" in result.output and PASSWORD not in result.output
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}", "INFOSHARE_POLICY": str(SHIPPED_POLICY)}
    )
    with app.app_context():
        assert people.authenticate("sam.patel", PASSWORD).person is not None
    assert "sam.patel" in run("users", "list").output
    again = run("users", "create", "--role", "coordinator", "--name", "Sam Patel", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code != 0 and "already signs in as 'sam.patel'" in again.output


def test_a_short_password_is_refused(run):
    result = run("users", "create", "--role", "coordinator", "--name", "Jo", input="short\nshort\n")
    assert result.exit_code != 0 and "at least 12" in result.output


def test_users_create_with_link_prints_a_one_time_link_once(run, tmp_path):
    result = run(
        "users", "create", "--role", "policy-owner", "--name", "Pat Owner", "--link", "--url", "https://pages.example"
    )
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"https://pages\.example/sign-in/link/[A-Za-z0-9_-]{43}", link)
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}", "INFOSHARE_POLICY": str(SHIPPED_POLICY)}
    )
    with app.app_context():
        row = Person.get(Person.login == "pat.owner")
        assert row.password_hash is None and link.rsplit("/", 1)[1] not in (row.link_hash or "")
    client = app.test_client()
    assert client.get(link.removeprefix("https://pages.example")).status_code == 200
    assert run("users", "link", "nobody").exit_code != 0


@pytest.fixture
def app(tmp_path):
    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
            "INFOSHARE_POLICY": str(SHIPPED_POLICY),
            "INFOSHARE_CANDIDATES": str(tmp_path / "root"),
        }
    )


def _zip(entries: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return out.getvalue()


def _tar(add) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        add(archive)
    return out.getvalue()


def _policy_files() -> dict[str, bytes]:
    return {
        f"information-sharing/{p.relative_to(SHIPPED_POLICY)}": p.read_bytes()
        for p in SHIPPED_POLICY.rglob("*")
        if p.is_file()
    }


def test_an_uploaded_policy_folder_is_unpacked_privately(app):
    with app.test_request_context():
        token, folder = candidates.unpack("p.zip", _zip(_policy_files()))
        assert (folder / "policy.yaml").is_file() and folder.name == "information-sharing"
        assert candidates.uploaded(token) == folder
        assert stat.S_IMODE(os.stat(folder.parent).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(folder / "policy.yaml").st_mode) == 0o600


@pytest.mark.parametrize(
    "archive, problem",
    [
        (lambda: _zip({"../escape.yaml": b"x"}), "leaves its folder"),
        (lambda: _zip({"/etc/cron.d/x": b"x"}), "leaves its folder"),
        (lambda: _zip({"a/policy.yaml": b"x"}, links=("a/rules",)), "not a plain file"),
        (lambda: _zip({f"f{i}.yaml": b"x" for i in range(candidates.MAX_FILES + 1)}), "more than"),
        (lambda: _zip({"bomb.yaml": b"0" * (candidates.MAX_UNPACKED + 1)}), "unpacks to more than"),
        (lambda: _zip({"notes.txt": b"x"}), "must hold a policy folder"),
        (lambda: b"not an archive at all", "must be a .zip"),
        (lambda: _zip({"a.yaml": b"x"})[:-30], "must be a .zip"),  # no central directory: not a zip
        (lambda: _tar(lambda a: None)[:-8] + b"garbage!", "damaged|must be a|must hold"),
        (lambda: b"", "empty"),
        (lambda: b"x" * (candidates.MAX_UPLOAD + 1), "smaller than"),
    ],
)
def test_a_hostile_or_broken_archive_is_refused_and_leaves_nothing(app, archive, problem):
    with app.test_request_context():
        with pytest.raises(candidates.CandidateProblem, match=problem):
            candidates.unpack("p.zip", archive())
        assert list(candidates.uploads().iterdir()) == []


def test_tar_links_and_devices_are_refused(app):
    def symlink(archive):
        info = tarfile.TarInfo("p/rules")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc"
        archive.addfile(info)

    def device(archive):
        info = tarfile.TarInfo("p/dev")
        info.type = tarfile.CHRTYPE
        archive.addfile(info)

    with app.test_request_context():
        for add in (symlink, device):
            with pytest.raises(candidates.CandidateProblem, match="not a plain file"):
                candidates.unpack("p.tar.gz", _tar(add))


def test_a_server_folder_must_be_inside_the_candidates_folder(app, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(SHIPPED_POLICY, root / "draft")
    (root / "out").symlink_to(tmp_path)
    with app.test_request_context():
        assert candidates.server_folder("draft") == root / "draft"
        for outside in ("..", "/etc", "out", "draft/../../"):
            with pytest.raises(candidates.CandidateProblem, match="inside"):
                candidates.server_folder(outside)
        with pytest.raises(candidates.CandidateProblem, match="no folder"):
            candidates.server_folder("missing")
        with pytest.raises(candidates.CandidateProblem):
            candidates.uploaded("../../etc")
