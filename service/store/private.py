"""Files and folders only the service's own user may read: folders 0700, files 0600.

The decision log holds personal facts (its WAL too), and key and checkpoint
files are secrets, so nothing the service writes may be readable by other
users, whatever the umask. Modes are set explicitly (``os.open`` with the
mode, then ``chmod``, since a umask can only take bits away and an existing
file keeps the mode it had).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and any missing parents as 0700 folders; an existing folder
    is left as it is unless it was made by the service (see ``private_file``)."""
    folder = Path(path)
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(made, FOLDER_MODE)
    return Path(path)


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` exists (empty if new) and is 0600, its folder made as ``private_folder`` does."""
    file = Path(path)
    private_folder(file.parent)
    os.close(os.open(file, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    os.chmod(file, FILE_MODE)
    return file


def write_private(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (a 0600 temporary file renamed over it),
    so a reader never sees half a file and the file is never readable by others."""
    file = Path(path)
    private_folder(file.parent)
    temporary = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, file)
    return file


def open_private(path: str | os.PathLike[str]) -> IO[str]:
    """``path`` opened for writing text, emptied, 0600 even if it existed with another mode: what a
    command writes for a person to take away (an export) holds personal facts too."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    except OSError:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "w", encoding="utf-8")
