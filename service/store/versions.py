"""The policy versions the store keeps, and which one is active.

A version is stored (its files' full text, keyed by digest, and chained in
the decision log) the first time a service loads it, before it answers anything, so every recorded decision's
digest names a version the store can rebuild. Activations are appended, never
updated: the latest names the version every worker must answer with, and the
rows read as a history of what answered when. Each is signed with the log's
signing key by whatever makes it, over what ``signed_part`` says, and
carries the policy's own tests it was checked with; a worker follows it only
once ``service.store.guard`` has vetted it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any, cast

from peewee import Database, SqliteDatabase

from infoshare.engine import Policy, PolicyError
from infoshare.engine.policy.loader import load_policy_files
from infoshare.engine.policy.problems import Problem
from infoshare.service.store import logchain
from infoshare.service.store.connections import read_retried
from infoshare.service.store.models import PolicyActivation, PolicyVersion, as_utc
from infoshare.service.store.signing import PublicKey, Signer

log = logging.getLogger("infoshare.versions")
ACTIVATION_FORMAT = "infoshare-activation/1"


def remember(policy: Policy) -> None:
    """Store the policy's text under its digest, and chain it, unless it is already there."""
    with logchain.chained_writes(PolicyVersion._meta.database):
        if PolicyVersion.get_or_none(PolicyVersion.digest == policy.digest) is None:
            row = PolicyVersion.create(
                digest=policy.digest, policy_id=policy.id, version=policy.version, files=policy.files
            )
            logchain.chain("policy_version", row)


def activate(policy: Policy, by: str, signer: Signer, tests: dict[str, str]) -> None:
    """Make ``policy`` the version every worker answers with (stored first), signed with the
    log's signing key and carrying the policy's own ``tests`` it was checked with (file name ->
    text); PolicyError if its version string already names another text in the store (see
    ``version_problem``)."""
    database = PolicyVersion._meta.database
    with logchain.chained_writes(database):
        refuse_reused_version(policy)
        remember(policy)
        row = PolicyActivation(digest=policy.digest, activated_by=by, tests=tests)
        row.id = _next_activation_id(database)  # signed with the row, so a copy under another id fails
        row.signature = signer.sign(signed_part(row))
        row.save(force_insert=True)
        logchain.chain("activation", row)


def signed_part(row: PolicyActivation) -> bytes:
    """What an activation's signature signs: its id, the version's digest, the tests it carries,
    who made it and when, as canonical JSON."""
    return json.dumps(
        {
            "format": ACTIVATION_FORMAT,
            "id": row.id,
            "digest": row.digest,
            "tests": row.tests,
            "activated_by": row.activated_by,
            "activated_at": row.activated_at.isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")


def signature_verifies(row: PolicyActivation, public: PublicKey) -> bool:
    """Whether ``row`` carries a signature by ``public`` over its ``signed_part``: a row written
    around the service (unsigned, or with a signature copied from another row) does not."""
    return row.signature is not None and public.verify(signed_part(row), row.signature)


def _next_activation_id(database: Database) -> int:
    """The id the next activation gets (inside ``chained_writes``, so no other activation of the
    service takes it first)."""
    if isinstance(database, SqliteDatabase):
        return database.execute_sql("SELECT COALESCE(MAX(id), 0) + 1 FROM policy_activation").fetchone()[0]
    return database.execute_sql("SELECT nextval(pg_get_serial_sequence('policy_activation', 'id'))").fetchone()[0]


def version_problem(policy: Policy) -> Problem | None:
    """A version names one text: the store holding this id and version for another digest means
    the files were changed without a new version, and a verdict's version would then not say
    which rules decided it."""
    other = (
        PolicyVersion.select(PolicyVersion.digest, PolicyVersion.stored_at)
        .where(
            (PolicyVersion.policy_id == policy.id)
            & (PolicyVersion.version == policy.version)
            & (PolicyVersion.digest != policy.digest)
        )
        .first()
    )
    if other is None:
        return None
    return Problem(
        "policy.yaml",
        _version_line(policy),
        f"version `{policy.version}` is already in the store for other files (sha256:{other.digest[:12]}, "
        f"stored {other.stored_at:%Y-%m-%d %H:%M} UTC), and these files differ from it; give this edit a "
        f"new version, e.g. `version: {next_version(policy.version)}`",
    )


def refuse_reused_version(policy: Policy) -> None:
    problem = version_problem(policy)
    if problem is not None:
        raise PolicyError([problem])


def _version_line(policy: Policy) -> int:
    text = policy.files.get("policy.yaml", "")
    match = re.search(r"^version\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def next_version(version: str) -> str:
    """`1.0.0` -> `1.0.1`; a version not ending in a number gets `.1`."""
    match = re.search(r"(\d+)$", version)
    return f"{version[: match.start()]}{int(match.group(1)) + 1}" if match else f"{version}.1"


def was_active(digest: str) -> bool:
    return PolicyActivation.select().where(PolicyActivation.digest == digest).exists()


def active() -> dict[str, Any] | None:
    """The latest activation with its version, or None on a store that has none."""
    found = history(1)
    return found[0] if found else None


def history(limit: int = 50, public: PublicKey | None = None) -> list[dict[str, Any]]:
    """The latest activations, newest first: which version, when and by whom; with ``public``,
    also whether each is ``signed`` by it (one that is not was written around the service)."""
    query = (
        PolicyActivation.select(PolicyActivation, PolicyVersion.policy_id, PolicyVersion.version)
        .join(PolicyVersion, on=(PolicyVersion.digest == PolicyActivation.digest))
        .order_by(PolicyActivation.id.desc())
        .limit(limit)
        .objects()
    )
    found = []
    for row in cast(Iterable[Any], query):  # .objects(): activations carrying their version's policy_id, version
        entry = {
            "id": row.policy_id,
            "version": row.version,
            "digest": row.digest,
            "activated_at": as_utc(row.activated_at),
            "activated_by": row.activated_by,
        }
        if public is not None:
            entry["signed"] = signature_verifies(row, public)
        found.append(entry)
    return found


def activation(activation_id: int) -> PolicyActivation:
    return PolicyActivation.get_by_id(activation_id)


def activation_exists(activation_id: int) -> bool:
    return PolicyActivation.select().where(PolicyActivation.id == activation_id).exists()


def active_digest() -> str | None:
    latest = latest_activation()
    return latest[1] if latest else None


def latest_activation() -> tuple[int, str] | None:
    """The latest activation's (id, digest): what a worker polls, about once a second, often as the
    first statement of a request, so it is retried on a new connection if its session had ended."""
    query = PolicyActivation.select(PolicyActivation.id, PolicyActivation.digest).order_by(PolicyActivation.id.desc())
    row = read_retried(PolicyActivation._meta.database, query.first)
    return (row.id, row.digest) if row else None


def stored(digest: str) -> Policy | None:
    """The version with this digest, rebuilt from its stored text; None if the store lacks it,
    or holds under that digest a text that is not that version (altered in the database)."""
    row = PolicyVersion.get_or_none(PolicyVersion.digest == digest)
    if row is None:
        return None
    policy = load_policy_files(row.files)
    if policy.digest != digest:
        log.error(
            "the stored text of policy version %s has been altered (its digest is now %s); it is not used",
            digest,
            policy.digest,
        )
        return None
    return policy
