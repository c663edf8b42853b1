"""Settings from the environment, with defaults that work on a fresh clone."""

from __future__ import annotations

import os
from pathlib import Path

from engine.loader import SHIPPED_POLICY

MAX_BODY_BYTES = 1024 * 1024
POLICY_POLL_SECONDS = 1.0


def default_database_url() -> str:
    """An sqlite file under ``instance/`` in the working directory (created on first start)."""
    return f"sqlite:///{Path.cwd() / 'instance' / 'infoshare.sqlite3'}"


def from_environment() -> dict:
    """``DATABASE_URL``, ``INFOSHARE_POLICY`` and ``INFOSHARE_POLICY_POLL_SECONDS`` (how often a
    worker looks up which policy version is active; see service.reload), or their defaults, and
    the 1 MiB body limit."""
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL") or default_database_url(),
        "INFOSHARE_POLICY": os.environ.get("INFOSHARE_POLICY") or str(SHIPPED_POLICY),
        "INFOSHARE_POLICY_POLL_SECONDS": float(os.environ.get("INFOSHARE_POLICY_POLL_SECONDS")
                                               or POLICY_POLL_SECONDS),
        "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
    }
