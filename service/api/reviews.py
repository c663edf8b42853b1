"""``POST /v1/decisions/<id>/review``: the Safeguarding Co-ordinator's final decision.

The protocol directs queries to the co-ordinator and has them record every
decision with its rationale, so a review needs a non-blank rationale and
is appended: a later review never replaces an earlier one, and the case file
shows them all in order. The final decision is one that can be acted on
(``refer`` and ``undetermined`` are the engine's ways of asking for one).
"""

from __future__ import annotations

from flask import Blueprint, g
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from infoshare.service.access.auth import requires
from infoshare.service.api.decisions import (
    DECISION_ID,
    MAX_ID,
    DecisionRecordSchema,
    dump_record,
    find_decision,
)
from infoshare.service.api.openapi import documented
from infoshare.service.api.payload import Pattern, load_json
from infoshare.service.requestlog import note
from infoshare.service.state import current
from infoshare.service.store.logchain import append
from infoshare.service.store.models import Decision, Review

FINAL_DECISIONS = ("share", "share_without_consent", "seek_consent", "do_not_share")


# Whitespace as any regex engine counts it: \s differs between Python's and those that read
# the OpenAPI document (U+0085 and U+001C-U+001F are space only to Python, U+FEFF only to
# JavaScript), so the class is spelled out.
BLANK = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# Not blank, and no NUL (see STORABLE_TEXT); one pattern so the OpenAPI document states it.
RATIONALE = Pattern(
    rf"^[{BLANK}]*[^{BLANK}\x00][^\x00]*$",
    error="Give the rationale for the decision; it must not be blank, and may not contain NUL characters.",
)


# A person's name as the case file shows it: one line, not blank, no control characters.
SPACE = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff"
CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
PERSON = Pattern(
    rf"^[{SPACE}]*[^{SPACE}{CONTROL}][^{CONTROL}]*$",
    error="Give the name of the person who reviewed, on one line; it must not be blank.",
)


class ReviewRequestSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(FINAL_DECISIONS))
    rationale = fields.String(required=True, validate=[RATIONALE, validate.Length(max=20_000)])
    reviewed_by = fields.String(
        required=True,
        validate=[PERSON, validate.Length(max=200)],
        metadata={"description": "The person who made the final decision (the key says only which client sent it)."},
    )


REVIEW_REQUEST = ReviewRequestSchema()
bp = Blueprint("reviews", __name__, url_prefix="/v1")


@bp.post(f"/decisions/<int(max={MAX_ID}):decision_id>/review")
@documented(
    "Record the Safeguarding Co-ordinator's final decision and rationale",
    operation_id="reviewDecision",
    body=ReviewRequestSchema,
    path_params=DECISION_ID,
    responses={
        201: ("The decision with every review so far, this one last.", DecisionRecordSchema),
        404: ("No such decision.", None),
    },
)
@requires("review")
def review(decision_id: int) -> ResponseReturnValue:
    """Appends a review; earlier reviews and the original verdict stay as they were."""
    body = load_json(REVIEW_REQUEST)
    decision = find_decision(decision_id)
    added = record_review(decision, body)
    return dump_record(decision, [*decision.reviews, added]), 201


def record_review(decision: Decision, body: dict) -> Review:
    """Append a review validated by ReviewRequestSchema, as this request's key (or signed-in
    person); the web pages' review form records through here too."""
    note(decision_id=decision.id, case_ref=decision.case_ref, decision=body["decision"])
    added = append(
        Review,
        decision=decision,
        final_decision=body["decision"],
        rationale=body["rationale"].strip(),
        key_name=g.api_key.name,
        client=g.api_key.client_name,
        reviewed_by=" ".join(body["reviewed_by"].split()),
    )
    current().checkpoints.noted()
    return added
