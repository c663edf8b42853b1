"""``GET /v1/events``: a feed of what happened, so a case system learns that its decision was
reviewed, and a notifier can alert the Co-ordinator, without scanning the case files.

Who sees what follows who reads what (``service.access.auth``): a case
system sees its own decisions and the reviews of them, the co-ordinator
every client's, a policy owner (who reads no decisions) none; every reader
sees policy activations, which hold nothing about a case. With ``wait``
the call holds until something happens, up to that many seconds (at most
MAX_WAIT_SECONDS, below the server's worker timeout; an app configured with
a lower INFOSHARE_EVENTS_MAX_WAIT holds no longer than that).
"""

from __future__ import annotations

import time

from flask import Blueprint, current_app, g, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from infoshare.service.access.auth import may, requires
from infoshare.service.api.openapi import documented
from infoshare.service.api.paging import MAX_LIMIT, limit_param
from infoshare.service.errors import ApiError
from infoshare.service.store.events import EventCursor, events_after

MAX_WAIT_SECONDS = 20
POLL_SECONDS = 0.2  # how often a waiting call looks again


class EventSchema(Schema):
    type = fields.String(
        required=True, metadata={"description": "decision_recorded, review_recorded or policy_activated."}
    )
    at = fields.String(required=True, metadata={"description": "When it happened (ISO 8601, UTC)."})
    cursor = fields.String(required=True, metadata={"description": "Pass as `after` to resume just after this event."})
    decision_id = fields.Integer(metadata={"description": "The decision recorded, or reviewed."})
    case_ref = fields.String()
    client = fields.String(metadata={"description": "The client the decision belongs to."})
    decision = fields.String(metadata={"description": "The decision recorded, or the review's final decision."})
    reviewed_by = fields.String(allow_none=True, metadata={"description": "For a review: who reviewed."})
    policy = fields.Dict(
        metadata={"description": "For an activation: the policy id, version and digest now answering."}
    )


class EventsSchema(Schema):
    events = fields.List(fields.Nested(EventSchema), required=True)
    next = fields.String(required=True, metadata={"description": "Pass as `after` for what happens next."})


bp = Blueprint("events", __name__, url_prefix="/v1")
FEED = EventsSchema()


@bp.get("/events")
@documented(
    "What happened after a cursor: decisions recorded, reviews recorded, policy versions activated",
    operation_id="listEvents",
    query_params={
        "after": (
            {"type": "string", "pattern": r"^[0-9]{1,19}\.[0-9]{1,19}$"},
            "The `next` (or an event's `cursor`) of an earlier answer; without it, from the beginning.",
        ),
        "wait": (
            {"type": "integer", "minimum": 0, "maximum": MAX_WAIT_SECONDS, "default": 0},
            "Seconds to hold the call while nothing has happened yet (long-polling).",
        ),
        "limit": ({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}, "Events at most."),
    },
    responses={200: ("The events, oldest first (empty if nothing happened within `wait`).", EventsSchema)},
)
@requires("read-events")
def feed() -> ResponseReturnValue:
    """Oldest first, each with the cursor to resume after it. A case system sees its own decisions
    and the reviews of them; the co-ordinator every client's; every reader sees policy activations.
    With `wait`, the answer comes as soon as there is something, or empty after `wait` seconds."""
    cursor = EventCursor()
    if "after" in request.args:
        parsed = EventCursor.parse(request.args["after"])
        if parsed is None:
            raise ApiError(
                400, "bad query parameter; see messages", {"after": ["Give the `next` of an earlier answer."]}
            )
        cursor = parsed
    raw_wait = request.args.get("wait", "0")
    if not (raw_wait.isdigit() and len(raw_wait) <= 2) or int(raw_wait) > MAX_WAIT_SECONDS:
        raise ApiError(
            400, "bad query parameter; see messages", {"wait": [f"Give whole seconds from 0 to {MAX_WAIT_SECONDS}."]}
        )
    limit = limit_param(default=100)
    client = None if may("read-any-case") else g.api_key.client_name
    records = may("read-decisions")
    deadline = time.monotonic() + min(
        int(raw_wait), current_app.config.get("INFOSHARE_EVENTS_MAX_WAIT", MAX_WAIT_SECONDS)
    )
    while True:
        events, after = events_after(cursor, client=client, records=records, limit=limit)
        if events or time.monotonic() >= deadline:
            return FEED.dump({"events": events, "next": after.token()})
        time.sleep(POLL_SECONDS)
