"""``GET /v1/review-queue``: what the Safeguarding Co-ordinator has still to review, most urgent first.

The order and the paging are ``service.store.queue``'s; this module reads
the query parameters, refuses bad ones by name, and shapes the entries.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from infoshare.service.access.auth import requires
from infoshare.service.api.openapi import documented
from infoshare.service.api.paging import bad_cursor, limit_param, paging_params, since_param
from infoshare.service.api.verdicts import DECISIONS
from infoshare.service.errors import ApiError
from infoshare.service.store.models import Decision, as_utc, utcnow
from infoshare.service.store.queue import QueuePosition, review_queue


class QueueEntrySchema(Schema):
    id = fields.Integer(required=True, metadata={"description": "The decision's id (GET /v1/decisions/<id>)."})
    case_ref = fields.String(required=True)
    client = fields.String(required=True, metadata={"description": "The client that recorded it."})
    decision = fields.String(required=True)
    recorded_at = fields.DateTime(required=True)
    waited = fields.Integer(required=True, metadata={"description": "Seconds since it was recorded."})


class ReviewQueueSchema(Schema):
    entries = fields.List(fields.Nested(QueueEntrySchema), required=True)
    next = fields.String(
        required=True, allow_none=True, metadata={"description": "Pass as `after` for the next page; null on the last."}
    )


def queue_entry(decision: Decision) -> dict:
    """One queue entry as the API and the pages show it."""
    return {
        "id": decision.id,
        "case_ref": decision.case_ref,
        "client": decision.client or decision.key_name,
        "decision": decision.decision,
        "recorded_at": as_utc(decision.recorded_at),
        "waited": max(0, int((utcnow() - decision.recorded_at).total_seconds())),
    }


bp = Blueprint("queue", __name__, url_prefix="/v1")
ENTRIES = ReviewQueueSchema()


@bp.get("/review-queue")
@documented(
    "The decisions not yet reviewed, across clients: refer first, then share_without_consent, then the rest",
    operation_id="getReviewQueue",
    query_params={
        "decision": ({"type": "string", "enum": list(DECISIONS)}, "Only decisions of this value."),
        "client": ({"type": "string", "minLength": 1, "maxLength": 64}, "Only decisions this client recorded."),
        "since": (
            {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]},
            "Only decisions recorded at or after this date or time (ISO 8601, with its offset).",
        ),
        **paging_params("entries", {"type": "string", "pattern": r"^[0-9]{1,2}\.[0-9]{1,19}$"}),
    },
    responses={200: ("A page of the queue, oldest first within each rank.", ReviewQueueSchema)},
)
@requires("read-queue")
def queue() -> ResponseReturnValue:
    """Every recorded decision with no review yet, whichever client recorded it: `refer` first
    (a practitioner is waiting), then `share_without_consent`, then the rest; oldest first within
    each. Each entry says how long it has waited. A review takes a decision off the queue."""
    decision = request.args.get("decision")
    if decision is not None and decision not in DECISIONS:
        raise ApiError(
            400, "bad query parameter; see messages", {"decision": [f"Must be one of: {', '.join(DECISIONS)}."]}
        )
    client = request.args.get("client")
    if client is not None and not 1 <= len(client) <= 64:
        raise ApiError(400, "bad query parameter; see messages", {"client": ["Give a client's name."]})
    after = None
    if "after" in request.args:
        after = QueuePosition.parse(request.args["after"])
        if after is None:
            raise bad_cursor()
    rows, more = review_queue(decision=decision, client=client, since=since_param(), after=after, limit=limit_param())
    return ENTRIES.dump({"entries": [queue_entry(d) for d in rows], "next": more.token() if more else None})
