"""``POST /v1/evaluate``: a verdict that is not recorded (the policy owner's what-if)."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from infoshare.service.access.auth import requires
from infoshare.service.api.jsonbody import json_response
from infoshare.service.api.openapi import documented
from infoshare.service.api.payload import load_json
from infoshare.service.api.verdicts import VerdictSchema, evaluate
from infoshare.service.requestlog import note
from infoshare.service.state import snapshot


def evaluate_request_schema(facts: type[Schema]) -> type[Schema]:
    """``{facts}`` with ``facts`` validated by the policy's vocabulary."""
    return Schema.from_dict({"facts": fields.Nested(facts, required=True)}, name="EvaluateRequest")


def blueprint() -> Blueprint:
    bp = Blueprint("evaluate", __name__, url_prefix="/v1")

    @bp.post("/evaluate")
    @documented(
        "Evaluate a case without recording it",
        operation_id="evaluateCase",
        body=evaluate_request_schema,
        responses={
            200: ("The verdict; nothing was recorded.", VerdictSchema),
            503: ("The rules engine failed; no verdict.", None),
        },
    )
    @requires("evaluate")
    def what_if() -> ResponseReturnValue:
        """The same verdict POST /v1/decisions would give, not written to any case file."""
        body = load_json(snapshot().loader(evaluate_request_schema))
        verdict = evaluate(body["facts"])
        note(decision=verdict["decision"])
        return json_response(verdict)  # already JSON-ready in VerdictSchema's shape: no schema dump

    return bp
