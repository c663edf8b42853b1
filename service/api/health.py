"""``/healthz`` (the process answers) and ``/readyz`` (it can decide and record)."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields
from peewee import PeeweeException

from infoshare.service.access.auth import open_to_anyone
from infoshare.service.api.openapi import ErrorSchema, documented
from infoshare.service.errors import error_response
from infoshare.service.state import current
from infoshare.service.store.checkpoints import Checkpointer
from infoshare.service.store.database import StoreFull, check_room, check_writable


class HealthSchema(Schema):
    status = fields.String(required=True)


class RefusedActivationSchema(Schema):
    activation = fields.Integer(required=True, metadata={"description": "The refused activation's id."})
    digest = fields.String(required=True, metadata={"description": "sha256 of the version it names."})
    reason = fields.String(required=True, metadata={"description": "Why this worker would not follow it."})


class ReadySchema(HealthSchema):
    policy = fields.Dict(metadata={"description": "id, version and digest of the loaded policy."})
    refused_activation = fields.Nested(
        RefusedActivationSchema,
        metadata={
            "description": "Present, with `status` `degraded`, when this worker refused the latest activation "
            "(not signed with the log's key, not in the verified log, or its version fails the checker or "
            "the policy's own tests, or older than the activation it follows: a rollback by deleting rows) and "
            "keeps answering with the version above."
        },
    )

    log_signing = fields.String(
        metadata={
            "description": "Present, with `status` `degraded`, when this worker does not sign the decision log: "
            "its signer refuses (the store's chain is not the one signed; run `infoshare log verify`) or its "
            "signing thread has stopped. It keeps answering; records wait for another signer."
        },
    )


bp = Blueprint("health", __name__)


@bp.get("/healthz")
@documented("The process is up", responses={200: ("Up.", HealthSchema)}, operation_id="getHealth")
@open_to_anyone
def healthz() -> ResponseReturnValue:
    """Touches nothing: a load balancer may call it often."""
    return {"status": "ok"}


@bp.get("/readyz")
@documented(
    "The policy is loaded and the decision store accepts writes",
    operation_id="getReadiness",
    responses={200: ("Ready.", ReadySchema), 503: ("Not ready; `detail` says why.", ErrorSchema)},
)
@open_to_anyone
def readyz() -> ResponseReturnValue:
    """Only ready when a decision could be recorded right now: an unreachable,
    read-only, locked or full store makes it 503, so traffic goes elsewhere.

    A refused activation, or a signer that refuses or has stopped, makes it ``degraded`` but still 200: the worker answers
    correctly with the version it had, and a 503 from every worker would turn one
    forged row into an outage. Monitoring should alert on ``degraded``."""
    state = current()
    try:
        check_writable(state.database)
        check_room(state.database)
    except PeeweeException:
        return error_response(503, "not ready: the decision store does not accept writes")
    except StoreFull as exc:
        return error_response(503, f"not ready: {exc}")
    policy = state.policy
    ready = {"status": "ready", "policy": {"id": policy.id, "version": policy.version, "digest": policy.digest}}
    if state.refused is not None:  # still 200: the version it answers with is the one it had vetted
        refused = state.refused
        ready.update(
            status="degraded",
            refused_activation={"activation": refused.activation, "digest": refused.digest, "reason": refused.reason},
        )
    signing = _signing_problem(state.checkpoints)
    if signing is not None:  # still 200, as above: decisions are recorded and chained, their signature waits
        ready.update(status="degraded", log_signing=signing)
    return ready


def _signing_problem(signer: Checkpointer) -> str | None:
    """Why this worker is not signing the log, or None if it is."""
    if signer.refusal is not None:
        return f"the signer refuses to sign: {signer.refusal}"
    if signer.stopped:
        return "the signing thread has stopped"
    return None
