"""The decision log: record a verdict (``POST /v1/decisions``) and read the case file.

A recorded decision is the verdict plus what the case file needs: its id,
case_ref, when, who asked (``requested_by``, as the case system names the
practitioner; ``client``, the client that recorded it, and ``recorded_by``, the
name of the key it used), the facts it was
decided on, the policy digest inside ``policy``, and every co-ordinator
review in the order they were made.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, validate
from peewee import ModelSelect, PeeweeException, prefetch

from infoshare.service.access.auth import may, requires
from infoshare.service.api import idempotency
from infoshare.service.api.asdecided import AsDecidedSchema, as_decided
from infoshare.service.api.jsonbody import json_response
from infoshare.service.api.openapi import documented
from infoshare.service.api.paging import bad_cursor, limit_param, paging_params, position
from infoshare.service.api.payload import STORABLE_TEXT, Pattern, load_json
from infoshare.service.api.verdicts import DECISIONS, VerdictSchema, evaluate
from infoshare.service.errors import ApiError
from infoshare.service.requestlog import note
from infoshare.service.state import current, snapshot
from infoshare.service.store.idempotency import claim, recorded_under, release
from infoshare.service.store.logchain import append
from infoshare.service.store.models import Decision, Review, as_utc
from infoshare.service.store.queue import case_file_page

log = logging.getLogger("infoshare.decisions")

# ASCII only: the same in every regex engine (the OpenAPI document's readers
# too), and no look-alike letters from other scripts making two references of one.
CASE_REF_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,199}$"
CASE_REF = Pattern(
    CASE_REF_PATTERN,
    error="Use 1 to 200 ASCII letters, digits and . _ : / - characters, starting with a letter or digit.",
)
MAX_ID = 2**63 - 1
DECISION_ID = {"decision_id": ("integer", "The id returned when the decision was recorded.")}


class DecisionRequestBase(Schema):
    case_ref = fields.String(required=True, validate=CASE_REF, metadata={"description": "The case system's reference."})
    requested_by = fields.String(
        validate=[validate.Length(1, 200), STORABLE_TEXT],
        metadata={"description": "Who asked, as the case system identifies them."},
    )


def decision_request_schema(facts: type[Schema]) -> type[Schema]:
    """``{case_ref, facts, requested_by?}`` with ``facts`` validated by the policy's vocabulary."""
    return DecisionRequestBase.from_dict({"facts": fields.Nested(facts, required=True)}, name="DecisionRequest")


class ReviewSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    rationale = fields.String(required=True)
    reviewed_by = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The person who reviewed (null on reviews recorded before it was asked)."},
    )
    client = fields.String(required=True, metadata={"description": "The client whose key recorded the review."})
    reviewed_at = fields.DateTime(required=True)


class DecisionRecordSchema(VerdictSchema):
    id = fields.Integer(required=True)
    case_ref = fields.String(required=True)
    recorded_at = fields.DateTime(required=True)
    requested_by = fields.String(allow_none=True)
    client = fields.String(
        required=True,
        metadata={"description": "The client (case system) that recorded it, and whose record it is."},
    )
    recorded_by = fields.String(required=True, metadata={"description": "The name of the key it was recorded with."})
    facts = fields.Dict(required=True, metadata={"description": "The facts as validated."})
    reviews = fields.List(fields.Nested(ReviewSchema), required=True)
    as_decided = fields.Nested(
        AsDecidedSchema,
        metadata={
            "description": "With ?explain=as-decided: the rules that fired, as written in the version decided under."
        },
    )


class CaseFileSchema(Schema):
    case_ref = fields.String(required=True)
    decisions = fields.List(fields.Nested(DecisionRecordSchema), required=True)
    next = fields.String(
        required=True, allow_none=True, metadata={"description": "Pass as `after` for the next page; null on the last."}
    )


_AS_DECIDED = AsDecidedSchema()


def dump_record(decision: Decision, reviews: list[Review], as_decided: dict | None = None) -> dict:
    """A decision row and its reviews as DecisionRecordSchema's JSON.

    The stored verdict is already JSON in VerdictSchema's shape (it is what
    ``service.verdicts.evaluate`` returned), so only the record's own fields
    are dumped: dumping the verdict again cost a tenth of a request. Those are
    text, numbers and the stored facts, which the schema hands on as they are,
    and two moments it writes in ISO 8601, so they are written here directly
    (through marshmallow they were ~3% of a recorded decision's CPU);
    ``as_decided`` still goes through its schema. ``tests/api/test_service_decisions.py``
    holds this to the schema's own dump.
    """
    own = {
        "id": decision.id,
        "case_ref": decision.case_ref,
        "recorded_at": as_utc(decision.recorded_at).isoformat(),
        "requested_by": decision.requested_by,
        "client": decision.client or decision.key_name,
        "recorded_by": decision.key_name,
        "facts": decision.facts,
        "reviews": [
            {
                "decision": review.final_decision,
                "rationale": review.rationale,
                "reviewed_by": review.reviewed_by,
                "client": review.client or review.key_name,
                "reviewed_at": as_utc(review.reviewed_at).isoformat(),
            }
            for review in reviews
        ],
    }
    if as_decided is not None:
        own["as_decided"] = _AS_DECIDED.dump(as_decided)
    return {**decision.verdict, **own}


def readable(query: ModelSelect[Decision]) -> ModelSelect[Decision]:
    """Only the decisions this request's client may read (the rule is in ``service.access.auth``)."""
    return query if may("read-any-case") else query.where(Decision.owner() == g.api_key.client_name)


def find_decision(decision_id: int) -> Decision:
    """The decision with its reviews, or a 404 (also for one this key may not read)."""
    found = prefetch(readable(Decision.select().where(Decision.id == decision_id)), Review.select().order_by(Review.id))
    if not found:
        raise ApiError(404, f"no decision with id {decision_id}")
    return found[0]


def record_decision(body: dict[str, Any], **idempotent: str) -> Decision:
    """Evaluate a validated ``{case_ref, facts, requested_by?}`` and append the verdict to the
    case file as this request's client; a 503 with no verdict if the record cannot be written.
    The web pages record through here too."""
    verdict = evaluate(body["facts"])
    policy = verdict["policy"]
    try:
        row = append(
            Decision,
            case_ref=body["case_ref"],
            facts=body["facts"],
            verdict=verdict,
            decision=verdict["decision"],
            policy_id=policy["id"],
            policy_version=policy["version"],
            policy_digest=policy["digest"],
            requested_by=body.get("requested_by"),
            key_name=g.api_key.name,
            client=g.api_key.client_name,
            **idempotent,
        )
    except (PeeweeException, OSError) as exc:  # OSError: the writers' lock file
        log.error("record failed: %s", type(exc).__name__, extra={"request_id": g.get("request_id")})
        raise ApiError(
            503,
            "the decision could not be recorded, so no verdict is returned and nothing may be shared on it; try again",
        ) from None
    note(decision_id=row.id, decision=row.decision)
    current().checkpoints.noted()
    return row


def _created(row: Decision, headers: dict[str, str] | None = None) -> ResponseReturnValue:
    """The record as first answered (no reviews yet), 201, with its URL in Location."""
    return json_response(dump_record(row, [])), 201, {"Location": f"/v1/decisions/{row.id}", **(headers or {})}


def _release(client: str, key: str) -> None:
    """End the claim; if that fails the answer stands (the claim goes stale, and the record is found first)."""
    try:
        release(client, key)
    except (PeeweeException, OSError) as exc:
        log.error("idempotency claim not released: %s", type(exc).__name__, extra={"request_id": g.get("request_id")})


def blueprint() -> Blueprint:
    """The decisions resource; its request schema comes from the answering policy snapshot."""
    bp = Blueprint("decisions", __name__, url_prefix="/v1")

    @bp.post("/decisions")
    @documented(
        "Evaluate a case and record the decision in its case file",
        operation_id="recordDecision",
        body=decision_request_schema,
        header_params={
            idempotency.HEADER: ({"type": "string", "pattern": idempotency.KEY_PATTERN}, idempotency.DESCRIPTION)
        },
        responses={
            201: (
                "The verdict, recorded (or, for a retry with the same Idempotency-Key, as first recorded).",
                DecisionRecordSchema,
            ),
            409: ("A request with this Idempotency-Key is still being answered; Retry-After says when to retry.", None),
            422: ("This Idempotency-Key was used for a different request.", None),
            503: ("The decision could not be recorded or evaluated; no verdict.", None),
        },
        response_headers={
            201: {
                "Location": "The record's URL, `/v1/decisions/{id}`.",
                idempotency.REPLAYED: "`true` when this answers a retry with the original record.",
            }
        },
    )
    @requires("record")
    def record() -> ResponseReturnValue:
        """Evaluates the facts and records the verdict. Only a recorded verdict is
        returned: if the record cannot be written the answer is 503 with no verdict.
        The 201 carries `Location`, the record's URL. With an `Idempotency-Key`, a retry
        answers the original record instead of recording twice."""
        body = load_json(snapshot().loader(decision_request_schema))
        note(case_ref=body["case_ref"])
        key = idempotency.key_of_request()
        if key is None:
            return _created(record_decision(body))
        client, fingerprint = g.api_key.client_name, idempotency.digest(body)
        claimed = claim(client, key)
        try:
            earlier = recorded_under(client, key, idempotency.retained_since())
            if earlier is not None:
                if earlier.request_digest != fingerprint:
                    raise idempotency.reused(key)
                note(decision_id=earlier.id, decision=earlier.decision, replayed=True)
                return _created(earlier, {idempotency.REPLAYED: "true"})
            if not claimed:
                raise idempotency.in_flight(key, retry_after=1)
            return _created(record_decision(body, idempotency_key=key, request_digest=fingerprint))
        finally:
            if claimed:
                _release(client, key)

    @bp.get(f"/decisions/<int(max={MAX_ID}):decision_id>")
    @documented(
        "Read one recorded decision with its reviews",
        operation_id="getDecision",
        path_params=DECISION_ID,
        query_params={
            "explain": (
                {"type": "string", "enum": ["as-decided"]},
                "`as-decided`: add `as_decided`, the rules as written in the "
                "policy version the decision was made under.",
            )
        },
        responses={200: ("The recorded decision.", DecisionRecordSchema), 404: ("No such decision.", None)},
    )
    @requires("read-decisions")
    def read(decision_id: int) -> ResponseReturnValue:
        """The facts, verdict, rationale, policy digest, who asked, when, and every review.
        With `?explain=as-decided`, also `as_decided`: the facts evaluated again under the policy
        version the decision was made under (rebuilt from the store's text, whatever the files
        say now), each rule that fired as written in that version, and whether the decision is
        reproduced."""
        explain = request.args.get("explain")
        if explain not in (None, "as-decided"):
            raise ApiError(400, "unknown explain option", {"explain": ["Must be as-decided."]})
        decision = find_decision(decision_id)
        note(decision_id=decision.id, case_ref=decision.case_ref, decision=decision.decision)
        return json_response(dump_record(decision, decision.reviews, as_decided(decision) if explain else None))

    @bp.get("/cases/<path:case_ref>/decisions")
    @documented(
        "Read a case file: every decision recorded for a case_ref, oldest first",
        operation_id="getCaseFile",
        path_params={"case_ref": ({"type": "string", "pattern": CASE_REF_PATTERN}, "The case system's reference.")},
        query_params=paging_params("decisions", {"type": "integer", "minimum": 0, "maximum": MAX_ID}),
        responses={
            200: ("The case file; `decisions` is empty for an unknown case_ref.", CaseFileSchema),
            400: ("The case_ref is not one a decision could have been recorded under.", None),
        },
    )
    @requires("read-decisions")
    def case_file(case_ref: str) -> ResponseReturnValue:
        """Every decision recorded under this case_ref, oldest first, each with its reviews, a page
        at a time (`limit`, default 50; `next` is null on the last page)."""
        try:
            CASE_REF(case_ref)
        except ValidationError as exc:
            raise ApiError(400, "no case can have this case_ref; see messages", {"case_ref": exc.messages}) from None
        note(case_ref=case_ref)
        after = request.args.get("after")
        if after is not None and not (after.isdigit() and len(after) <= 40):
            raise bad_cursor()
        rows, more = case_file_page(
            readable(Decision.select().where(Decision.case_ref == case_ref)),
            after=position(after) if after is not None else None,
            limit=limit_param(),
        )
        return {
            "case_ref": case_ref,
            "decisions": [dump_record(d, d.reviews) for d in rows],
            "next": str(more) if more is not None else None,
        }

    return bp
