"""The policy versions the store keeps, and which one is active.

A version is stored (its files' full text, keyed by digest) the first time a
service loads it, before it answers anything, so every recorded decision's
digest names a version the store can rebuild. Activations are appended, never
updated: the latest names the version every worker must answer with, and the
rows read as a history of what answered when.
"""

from __future__ import annotations

import logging

from infoshare.engine import Policy
from infoshare.engine.policy.loader import load_policy_files
from infoshare.service.store.models import PolicyActivation, PolicyVersion

log = logging.getLogger("infoshare.versions")


def remember(policy: Policy) -> None:
    """Store the policy's text under its digest unless it is already there."""
    PolicyVersion.insert(
        digest=policy.digest, policy_id=policy.id, version=policy.version, files=policy.files
    ).on_conflict_ignore().execute()


def activate(policy: Policy, by: str) -> None:
    """Make ``policy`` the version every worker answers with (stored first)."""
    with PolicyVersion._meta.database.atomic():
        remember(policy)
        PolicyActivation.create(digest=policy.digest, activated_by=by)


def active_digest() -> str | None:
    row = PolicyActivation.select(PolicyActivation.digest).order_by(PolicyActivation.id.desc()).first()
    return row.digest if row else None


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
