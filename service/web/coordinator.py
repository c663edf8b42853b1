"""The Safeguarding Co-ordinator's pages: the review queue, the review form, the log's verification status.

The queue is the API's (``review_queue``: referrals first, then sharing
without consent, then the rest, oldest first), a page at a time by its
cursor.

A review is recorded through the API's ``record_review``, so it is appended
to the case file and the log exactly as ``POST /v1/decisions/<id>/review``
appends it, in the co-ordinator's name.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from marshmallow import ValidationError

from infoshare.service.api.decisions import MAX_ID, find_decision
from infoshare.service.api.queue import queue_entry
from infoshare.service.api.reviews import REVIEW_REQUEST, record_review
from infoshare.service.store import logaudit
from infoshare.service.store.queue import QueuePosition, review_queue
from infoshare.service.web import names
from infoshare.service.web.casefile import decision_page
from infoshare.service.web.sessions import needs

bp = Blueprint("review", __name__)
REVIEW_ERRORS = {
    "decision": "Select the final decision",
    "rationale": "Enter the rationale for the decision (up to 20,000 characters)",
    "reviewed_by": "Enter the name of the person who made the final decision, on one line",
}
PAGE = 25


@bp.get("/queue")
@needs("read-queue")
def queue():
    after = QueuePosition.parse(request.args.get("after", "")) if request.args.get("after") else None
    rows, more = review_queue(after=after, limit=PAGE)
    return render_template(
        "queue.html",
        entries=[queue_entry(d) for d in rows],
        rows=rows,
        more=more.token() if more else None,
        who=names.of,
    )


@bp.post(f"/decisions/<int(max={MAX_ID}):decision_id>/review")
@needs("review")
def review(decision_id: int):
    decision = find_decision(decision_id)
    form = {name: request.form.get(name, "") for name in ("decision", "rationale", "reviewed_by")}
    try:
        body = REVIEW_REQUEST.load(form)
    except ValidationError as exc:
        errors = {field: REVIEW_ERRORS.get(field, "Check this answer") for field in exc.messages}
        return decision_page(decision.id, "cases/decision.html", recorded=False, errors=errors, form=form), 400
    record_review(decision, body)
    return redirect(url_for("web.cases.decision", decision_id=decision.id, reviewed=1) + "#reviews")


@bp.get("/log")
@needs("review")
def log_status():
    return render_template("log.html", result=logaudit.verify_store())
