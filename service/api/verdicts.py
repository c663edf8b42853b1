"""Ask the engine for a verdict, and the verdict's response schema.

Shared by ``POST /v1/evaluate`` and ``POST /v1/decisions``. Engine failures
become errors with no verdict in them: a rules-engine failure is a 503,
never a fallback answer (fail closed). Bad facts never get this far: the
request schema refuses them with a 400.
"""

from __future__ import annotations

import logging

from flask import g
from marshmallow import Schema, fields, validate

from infoshare.engine import EvaluationError
from infoshare.engine.policy.model import CONTRACT_DECISIONS
from infoshare.service.api.dictschema import DictSchema
from infoshare.service.errors import ApiError
from infoshare.service.state import snapshot

log = logging.getLogger("infoshare.verdicts")

DECISIONS = CONTRACT_DECISIONS


def evaluate(facts: dict) -> dict:
    """The engine's verdict on ``facts`` as a JSON-ready dict.

    ``facts`` come from a request schema whose ``facts`` field is the policy's
    generated facts schema, so they are already validated and loaded: the
    engine does not validate them a second time.
    """
    try:
        return snapshot().engine.evaluate_valid(facts).to_dict()
    except EvaluationError as exc:
        raise no_verdict(exc) from None


def no_verdict(exc: EvaluationError) -> ApiError:
    """The 503 for a case the rules engine could not evaluate (logged without the facts)."""
    log.error("evaluation failed: %s", type(exc).__name__, extra={"request_id": g.get("request_id")})
    return ApiError(
        503,
        "the rules engine could not evaluate this case, so there is no verdict and nothing "
        "may be shared on it; try again, or direct the query to the Safeguarding Co-ordinator",
    )


class PolicyRefSchema(Schema):
    id = fields.String(required=True)
    version = fields.String(required=True)
    digest = fields.String(required=True, metadata={"description": "sha256 of the policy files."})


class CatalogueEntrySchema(Schema):
    id = fields.String(required=True)
    text = fields.String(required=True)


class ItemVerdictSchema(Schema):
    item = fields.String(metadata={"description": "The piece of information, as given."})
    share = fields.Boolean(required=True)
    outcome = fields.String(required=True)
    reasons = fields.List(fields.String(), required=True)
    rules = fields.List(fields.String(), required=True)


class RationaleEntrySchema(DictSchema):
    rule = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "decided, supports, applies or overruled."})
    because = fields.String(required=True)
    concluded = fields.Dict(required=True)
    clauses = fields.List(
        fields.Nested(CatalogueEntrySchema),
        required=True,
        metadata={"description": "The protocol clauses the rule implements, verbatim."},
    )
    source = fields.String(required=True, metadata={"description": "Policy file and line."})
    items = fields.List(fields.Integer(), metadata={"description": "Indexes of `information` items."})


class VerdictSchema(Schema):
    """The engine's answer, as DESIGN.md's public contract names it."""

    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    confidentiality = fields.String(required=True, validate=validate.OneOf(["cannot_be_promised", "can_be_offered"]))
    basis = fields.List(fields.String(), required=True)
    conditions = fields.List(
        fields.Nested(CatalogueEntrySchema), required=True, metadata={"description": "What must hold when sharing."}
    )
    obligations = fields.List(fields.Nested(CatalogueEntrySchema), required=True)
    information = fields.List(
        fields.Nested(ItemVerdictSchema),
        required=True,
        metadata={"description": "Each item with `share: true|false` and why."},
    )
    explain_to_subject = fields.Boolean(
        required=True,
        metadata={"description": "False where telling the subject would defeat an exception."},
    )
    missing_facts = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "For an undetermined verdict, the facts it waits for (the rules' `missing:`), each "
            "one that POST /v1/interview asks; that lists also the facts that matter once these are answered. "
            "Empty for any other verdict."
        },
    )
    rationale = fields.List(fields.Nested(RationaleEntrySchema), required=True)
    policy = fields.Nested(PolicyRefSchema, required=True)
