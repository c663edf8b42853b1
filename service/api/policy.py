"""``GET /v1/policy``: the answering policy, so a case system can build its form from it, and
the versions activated, when and by whom;
``POST /v1/policy/reload``: the policy owner's safe reload (see service.reload)."""

from __future__ import annotations

from flask import Blueprint, current_app, g
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from infoshare.engine import PolicyError
from infoshare.service.access.auth import requires
from infoshare.service.api.dictschema import DictSchema
from infoshare.service.api.openapi import documented
from infoshare.service.api.verdicts import PolicyRefSchema
from infoshare.service.errors import ApiError
from infoshare.service.reload import reload_from_files
from infoshare.service.requestlog import note
from infoshare.service.state import current, snapshot
from infoshare.service.store import versions


class ItemFieldSchema(Schema):
    name = fields.String(required=True)
    type = fields.String(required=True)
    required = fields.Boolean(required=True)
    question = fields.String(required=True)


class LabelSchema(Schema):
    value = fields.Raw(required=True)
    label = fields.String(required=True)


class FactSchema(DictSchema):
    name = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "choice, choices, boolean or items."})
    question = fields.String(required=True, metadata={"description": "What to ask the practitioner."})
    required = fields.Boolean(required=True)
    values = fields.List(fields.String(), metadata={"description": "For choice and choices."})
    labels = fields.List(
        fields.Nested(LabelSchema),
        metadata={"description": "For choice, choices and boolean: each value in plain words."},
    )
    fields_ = fields.List(
        fields.Nested(ItemFieldSchema),
        attribute="fields",
        data_key="fields",
        metadata={"description": "For items: each item's fields."},
    )


class ClauseSchema(DictSchema):
    id = fields.String(required=True)
    text = fields.String(required=True)
    normative = fields.Boolean(required=True)
    informative_because = fields.String()
    implemented_by = fields.List(
        fields.String(), required=True, metadata={"description": "Ids of the rules that implement it."}
    )


class ActivationSchema(Schema):
    id = fields.String(required=True)
    version = fields.String(required=True)
    digest = fields.String(required=True)
    activated_at = fields.DateTime(required=True)
    activated_by = fields.String(
        required=True,
        metadata={"description": "`start`, `reload by key <name>`, `SIGHUP` or `infoshare reload by <user>`."},
    )
    signed = fields.Boolean(
        required=True,
        metadata={
            "description": "Whether it is signed with the log's signing key. False: the row was written around "
            "the service (by someone with write access to the store), no worker follows it, and who and when "
            "above are only what that row claims."
        },
    )


class PolicySchema(Schema):
    id = fields.String(required=True)
    version = fields.String(required=True)
    digest = fields.String(required=True, metadata={"description": "sha256 of the policy files."})
    title = fields.String(required=True)
    decisions = fields.List(
        fields.String(), required=True, metadata={"description": "The decision values, highest precedence first."}
    )
    facts = fields.List(fields.Nested(FactSchema), required=True)
    clauses = fields.List(fields.Nested(ClauseSchema), required=True)
    activations = fields.List(
        fields.Nested(ActivationSchema),
        required=True,
        metadata={"description": "The versions activated in this store, newest first (the latest 50)."},
    )


bp = Blueprint("policy", __name__, url_prefix="/v1")


@bp.get("/policy")
@documented(
    "The loaded policy: version, digest, fact vocabulary, clauses, and the versions activated",
    responses={200: ("The policy.", PolicySchema)},
    operation_id="getPolicy",
)
@requires("read-policy")
def describe() -> ResponseReturnValue:
    """Everything a case system needs to ask the right questions, and the digest
    that recorded decisions carry."""
    return PolicySchema().dump(
        {**snapshot().policy.describe(), "activations": versions.history(public=current().signer.public)}
    )


class ReloadSchema(Schema):
    policy = fields.Nested(PolicyRefSchema, required=True, metadata={"description": "The version now active."})
    previous = fields.Nested(PolicyRefSchema, required=True, metadata={"description": "The version it replaced."})
    changed = fields.Boolean(required=True, metadata={"description": "False when the files were unchanged."})


def _ref(policy) -> dict:
    return {"id": policy.id, "version": policy.version, "digest": policy.digest}


@bp.post("/policy/reload")
@documented(
    "Load, check and activate the policy folder, without a restart",
    operation_id="reloadPolicy",
    responses={
        200: ("The new version is active in every worker within the poll interval.", ReloadSchema),
        422: (
            "The policy has problems (`messages.policy`, each `file:line: ...`); the old version keeps answering.",
            None,
        ),
    },
)
@requires("reload-policy")
def reload() -> ResponseReturnValue:
    """Reads the service's policy folder (INFOSHARE_POLICY), checks it as `infoshare check`
    does (every rule check and the policy's tests), and only if all pass stores the version and
    makes it active. Workers follow within INFOSHARE_POLICY_POLL_SECONDS; this request's answer
    already comes from the new version."""
    try:
        previous, policy = reload_from_files(current_app, f"reload by key {g.api_key.name}")
    except PolicyError as exc:
        raise ApiError(
            422,
            f"the policy has {len(exc.problems)} problem(s), so it was not reloaded; "
            "the previous version keeps answering",
            {"policy": [str(p) for p in exc.problems]},
        ) from None
    note(policy_digest=policy.digest)
    before = previous or _ref(policy)
    return ReloadSchema().dump(
        {"policy": _ref(policy), "previous": before, "changed": policy.digest != before["digest"]}
    )
