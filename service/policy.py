"""``GET /v1/policy``: the loaded policy, so a case system can build its form from it."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from service.auth import requires
from service.dictschema import DictSchema
from service.openapi import documented
from service.state import current


class ItemFieldSchema(Schema):
    name = fields.String(required=True)
    type = fields.String(required=True)
    required = fields.Boolean(required=True)
    question = fields.String(required=True)


class FactSchema(DictSchema):
    name = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "choice, choices, boolean or items."})
    question = fields.String(required=True, metadata={"description": "What to ask the practitioner."})
    required = fields.Boolean(required=True)
    values = fields.List(fields.String(), metadata={"description": "For choice and choices."})
    fields_ = fields.List(fields.Nested(ItemFieldSchema), attribute="fields", data_key="fields",
                          metadata={"description": "For items: each item's fields."})


class ClauseSchema(DictSchema):
    id = fields.String(required=True)
    text = fields.String(required=True)
    normative = fields.Boolean(required=True)
    informative_because = fields.String()
    implemented_by = fields.List(fields.String(), required=True,
                                 metadata={"description": "Ids of the rules that implement it."})


class PolicySchema(Schema):
    id = fields.String(required=True)
    version = fields.String(required=True)
    digest = fields.String(required=True, metadata={"description": "sha256 of the policy files."})
    title = fields.String(required=True)
    decisions = fields.List(fields.String(), required=True,
                            metadata={"description": "The decision values, highest precedence first."})
    facts = fields.List(fields.Nested(FactSchema), required=True)
    clauses = fields.List(fields.Nested(ClauseSchema), required=True)


bp = Blueprint("policy", __name__, url_prefix="/v1")


@bp.get("/policy")
@documented("The loaded policy: version, digest, fact vocabulary, clauses",
            responses={200: ("The policy.", PolicySchema)})
@requires("read-policy")
def describe() -> ResponseReturnValue:
    """Everything a case system needs to ask the right questions, and the digest
    that recorded decisions carry."""
    return PolicySchema().dump(current().policy.describe())
