"""Activations made as the service makes them, for versions it would not make (imported by name)."""

from __future__ import annotations

from flask import Flask

from infoshare.service.store import logchain, versions
from infoshare.service.store.models import PolicyActivation, PolicyVersion


def signed_activation(app: Flask, digest: str, files: dict[str, str], tests: dict[str, str] | None = None) -> int:
    """Store ``files`` under ``digest`` and activate them, both chained and the activation signed
    with the service's own key: what only someone holding that key could write. Its id."""
    database = PolicyVersion._meta.database
    with logchain.chained_writes(database):
        version = PolicyVersion.create(digest=digest, policy_id="information-sharing", version="9", files=files)
        logchain.chain("policy_version", version)
        row = PolicyActivation(digest=digest, activated_by="test", tests=tests or {})
        row.id = 1 + (PolicyActivation.select(PolicyActivation.id).order_by(PolicyActivation.id.desc()).first().id)
        row.signature = app.extensions["infoshare"].signer.sign(versions.signed_part(row))
        row.save(force_insert=True)
        logchain.chain("activation", row)
    return row.id
