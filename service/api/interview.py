"""``POST /v1/interview``: the facts known so far in, the verdict and the questions still worth asking out.

The questions, their order and ``settled`` come from
``infoshare.engine.analysis.interview`` (proven over the policy's reduced
case space, never guessed); this module only validates, answers, and turns
an engine failure into a 503 with no verdict.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from infoshare.engine import EvaluationError
from infoshare.engine.analysis.interview import interview_valid
from infoshare.service.access.auth import requires
from infoshare.service.api.dictschema import DictSchema
from infoshare.service.api.openapi import documented
from infoshare.service.api.payload import load_json
from infoshare.service.api.verdicts import VerdictSchema, no_verdict
from infoshare.service.requestlog import note
from infoshare.service.state import snapshot


def interview_request_schema(facts: type[Schema]) -> type[Schema]:
    """``{facts}``, any subset of the facts, validated by the policy's vocabulary."""
    return Schema.from_dict({"facts": fields.Nested(facts, required=True)}, name="InterviewRequest")


class AnswerSchema(DictSchema):
    value = fields.Raw(required=True, metadata={"description": "The value to send as the fact's answer."})
    label = fields.String(required=True, metadata={"description": "The answer in plain words."})
    decisions = fields.List(
        fields.String(),
        metadata={"description": "The decisions still possible after this answer (not for list facts)."},
    )


class QuestionSchema(DictSchema):
    fact = fields.String(required=True)
    question = fields.String(required=True, metadata={"description": "What to ask, from the vocabulary."})
    type = fields.String(
        required=True, metadata={"description": "choice (one value), choices (a list of values) or boolean."}
    )
    values = fields.List(fields.Nested(AnswerSchema), required=True)
    why = fields.String(required=True, metadata={"description": "Which outcomes the answer still separates."})
    separates = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Raw()),
        required=True,
        metadata={
            "description": "Outcome (decision, confidentiality, explain_to_subject) -> the values it tells apart."
        },
    )
    settles = fields.Float(
        required=True,
        metadata={
            "description": "The share of answers after which no answer can change the outcome (the order's key)."
        },
    )


class InterviewSchema(Schema):
    verdict = fields.Nested(VerdictSchema, required=True, metadata={"description": "As POST /v1/evaluate gives it."})
    settled = fields.Boolean(
        required=True, metadata={"description": "True when no answer to any fact still open can change the outcome."}
    )
    questions = fields.List(
        fields.Nested(QuestionSchema),
        required=True,
        metadata={
            "description": "Only facts some answer to which can change the outcome; the first most likely to settle it."
        },
    )


def blueprint() -> Blueprint:
    bp = Blueprint("interview", __name__, url_prefix="/v1")

    @bp.post("/interview")
    @documented(
        "The verdict on the facts known so far, and the questions whose answers can still change it",
        body=interview_request_schema,
        operation_id="interview",
        responses={
            200: ("The verdict, whether it is settled, and the questions still open, best first.", InterviewSchema),
            503: ("The rules engine failed; no verdict.", None),
        },
    )
    @requires("evaluate")
    def ask() -> ResponseReturnValue:
        """Takes any subset of the facts (as POST /v1/evaluate does; nothing is recorded). A fact is
        asked only if some answer to it can change the decision, the confidentiality or whether the
        subject is told, given the facts known; this is proven over the policy's reduced case space,
        in the rules engine. The first question is the one whose answer most often settles the case
        (each answer counted as equally likely), then the one leaving the fewest outcomes open.
        `settled` is true when no remaining answer can change those outcomes."""
        body = load_json(snapshot().loader(interview_request_schema))
        try:
            found = interview_valid(snapshot().engine, body["facts"])
        except EvaluationError as exc:
            raise no_verdict(exc) from None
        note(decision=found.verdict.decision)
        return found.to_dict()

    return bp
