"""Candidate policy versions for the policy owner: a folder on the server, or an uploaded archive.

A folder must lie under ``INFOSHARE_CANDIDATES`` (default: the folder that
holds the served policy folder), after resolving links, so the page cannot be
pointed at the rest of the file system. An upload is a ``.zip``, ``.tar`` or
``.tar.gz`` of at most ``MAX_UPLOAD`` bytes (the request limit), unpacked by
hand, never by ``extractall``: only regular files, at most ``MAX_FILES`` of
them and ``MAX_UNPACKED`` bytes in all (counted as they are read, so a
compression bomb stops at the limit), names that stay inside the folder (no
absolute paths, no ``..``, no links, devices or other special members). It
is unpacked into a fresh folder under the instance folder (0700, files
0600), named by a random token the activation form carries.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO
from zlib import error as zlib_error

from flask import current_app

from infoshare.service.config import instance_folder

MAX_UPLOAD = 1024 * 1024
MAX_FILES = 200
MAX_UNPACKED = 8 * 1024 * 1024
TOKEN = re.compile(r"^[0-9a-f]{32}$")
CHUNK = 64 * 1024


class CandidateProblem(ValueError):
    """A folder or archive that cannot be used, in words for the policy owner."""


def root() -> Path:
    configured = current_app.config.get("INFOSHARE_CANDIDATES")
    return Path(configured or Path(current_app.config["INFOSHARE_POLICY"]).parent).resolve()


def server_folder(text: str) -> Path:
    base = root()
    if not text.strip() or "\x00" in text:
        raise CandidateProblem("Enter the folder that holds the candidate policy")
    given = Path(text.strip())
    folder = (given if given.is_absolute() else base / given).resolve()
    if folder != base and base not in folder.parents:
        raise CandidateProblem(f"Choose a folder inside {base}")
    if not folder.is_dir():
        raise CandidateProblem(f"There is no folder {folder}")
    return folder


def uploads() -> Path:
    folder = instance_folder(current_app.config["DATABASE_URL"]) / "candidates"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def uploaded(token: str) -> Path:
    if not TOKEN.match(token):
        raise CandidateProblem("This uploaded candidate is no longer here; upload it again")
    folder = uploads() / token
    if not folder.is_dir():
        raise CandidateProblem("This uploaded candidate is no longer here; upload it again")
    return _policy_inside(folder)


def unpack(filename: str, data: bytes) -> tuple[str, Path]:
    """Unpack an uploaded archive: (its token, the policy folder inside it)."""
    if not data:
        raise CandidateProblem("The selected file is empty")
    if len(data) > MAX_UPLOAD:
        raise CandidateProblem(f"The selected file must be smaller than {MAX_UPLOAD // 1024} KB")
    token = secrets.token_hex(16)
    target = uploads() / token
    target.mkdir(mode=0o700)
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            _unzip(data, target)
        else:
            _untar(data, target)
        return token, _policy_inside(target)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib_error):
        shutil.rmtree(target, ignore_errors=True)
        raise CandidateProblem("The archive is damaged and cannot be unpacked") from None
    except CandidateProblem:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if (
        not name
        or path.is_absolute()
        or ".." in path.parts
        or any(":" in part for part in path.parts)
        or "\x00" in name
    ):
        raise CandidateProblem(f"The archive holds a file whose name leaves its folder: {name[:100]!r}")
    return path


class _Budget:
    def __init__(self) -> None:
        self.files = 0
        self.bytes = 0

    def file(self) -> None:
        self.files += 1
        if self.files > MAX_FILES:
            raise CandidateProblem(f"The archive holds more than {MAX_FILES} files")

    def take(self, n: int) -> None:
        self.bytes += n
        if self.bytes > MAX_UNPACKED:
            raise CandidateProblem(f"The archive unpacks to more than {MAX_UNPACKED // (1024 * 1024)} MB")


def _write(target: Path, name: PurePosixPath, source: IO[bytes], budget: _Budget) -> None:
    budget.file()
    path = target.joinpath(*name.parts)
    for parent in reversed(path.relative_to(target).parents):
        (target / parent).mkdir(mode=0o700, exist_ok=True)
    try:
        out = open(path, "xb", opener=lambda p, flags: os.open(p, flags, 0o600))  # noqa: SIM115
    except (FileExistsError, IsADirectoryError):
        raise CandidateProblem(f"The archive holds {str(name)[:100]!r} twice") from None
    with out:
        while chunk := source.read(CHUNK):
            budget.take(len(chunk))
            out.write(chunk)


def _unzip(data: bytes, target: Path) -> None:
    budget = _Budget()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise CandidateProblem("The archive is damaged and cannot be unpacked") from None
    with archive:
        for info in archive.infolist():
            name = _safe_name(info.filename)
            if info.is_dir():
                continue
            if (info.external_attr >> 16) & 0o170000 not in (0, 0o100000):  # a link or special file
                raise CandidateProblem(f"The archive holds something that is not a plain file: {info.filename[:100]!r}")
            with archive.open(info) as source:
                _write(target, name, source, budget)


def _untar(data: bytes, target: Path) -> None:
    budget = _Budget()
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115 (closed by the with below)
    except tarfile.TarError:
        raise CandidateProblem("The selected file must be a .zip, .tar or .tar.gz archive") from None
    with archive:
        try:
            for member in archive:
                name = _safe_name(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise CandidateProblem(
                        f"The archive holds something that is not a plain file: {member.name[:100]!r}"
                    )
                source = archive.extractfile(member)
                if source is not None:
                    _write(target, name, source, budget)
        except (tarfile.TarError, EOFError, zlib_error):
            raise CandidateProblem("The archive is damaged and cannot be unpacked") from None


def _policy_inside(folder: Path) -> Path:
    """The folder with policy.yaml: the archive's top, or its one top-level folder."""
    if (folder / "policy.yaml").is_file():
        return folder
    inside = [p for p in folder.iterdir() if p.is_dir()]
    if len(inside) == 1 and (inside[0] / "policy.yaml").is_file():
        return inside[0]
    raise CandidateProblem("The archive must hold a policy folder, with policy.yaml at its top or in one folder")
