"""Settings from the environment, with defaults that work on a fresh clone."""

from __future__ import annotations

import os
from pathlib import Path

from infoshare.engine.policy.loader import SHIPPED_POLICY

MAX_BODY_BYTES = 1024 * 1024
POLICY_POLL_SECONDS = 1.0
DEFAULT_RATE_LIMIT = 60_000  # requests a minute per key: 1,000/s sustained, a minute's worth at once


def default_database_url() -> str:
    """An sqlite file under ``instance/`` in the working directory (created on first start)."""
    return f"sqlite:///{Path.cwd() / 'instance' / 'infoshare.sqlite3'}"


def from_environment() -> dict:
    """``DATABASE_URL``, ``INFOSHARE_POLICY``, ``INFOSHARE_POLICY_POLL_SECONDS`` (how often a
    worker looks up which policy version is active; see service.reload) and
    ``INFOSHARE_RATE_LIMIT``, or their defaults, and the 1 MiB body limit."""
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL") or default_database_url(),
        "INFOSHARE_POLICY": os.environ.get("INFOSHARE_POLICY") or str(SHIPPED_POLICY),
        "INFOSHARE_POLICY_POLL_SECONDS": float(os.environ.get("INFOSHARE_POLICY_POLL_SECONDS") or POLICY_POLL_SECONDS),
        "INFOSHARE_RATE_LIMIT": rate_limit(os.environ.get("INFOSHARE_RATE_LIMIT", "")),
        "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
    }


def rate_limit(text: str) -> int:
    """Requests a minute per key; empty means the default, 0 means no limit."""
    if not text.strip():
        return DEFAULT_RATE_LIMIT
    if not text.strip().isdigit():
        raise ValueError(
            f"INFOSHARE_RATE_LIMIT={text!r}: give a whole number of requests a minute per key (0 for no limit)"
        )
    return int(text)


def instance_folder(database_url: str) -> Path:
    """Where the service keeps its own files: beside an sqlite store, else ``instance/``."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            return Path(path).parent
    return Path.cwd() / "instance"
