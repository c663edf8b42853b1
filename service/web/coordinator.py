"""The Safeguarding Co-ordinator's pages: the review form and the log's verification status.

A review is recorded through the API's ``record_review``, so it is appended
to the case file and the log exactly as ``POST /v1/decisions/<id>/review``
appends it, in the co-ordinator's name.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from marshmallow import ValidationError

from infoshare.service.api.decisions import MAX_ID, find_decision
from infoshare.service.api.reviews import REVIEW_REQUEST, record_review
from infoshare.service.store import logaudit
from infoshare.service.web.casefile import decision_page
from infoshare.service.web.sessions import needs

bp = Blueprint("review", __name__)


@bp.post(f"/decisions/<int(max={MAX_ID}):decision_id>/review")
@needs("review")
def review(decision_id: int):
    decision = find_decision(decision_id)
    form = {"decision": request.form.get("decision", ""), "rationale": request.form.get("rationale", "")}
    try:
        body = REVIEW_REQUEST.load(form)
    except ValidationError as exc:
        errors = {
            field: (
                "Select the final decision"
                if field == "decision"
                else "Enter the rationale for the decision (up to 20,000 characters)"
            )
            for field in exc.messages
        }
        return decision_page(decision.id, "cases/decision.html", recorded=False, errors=errors, form=form), 400
    record_review(decision, body)
    return redirect(url_for("web.cases.decision", decision_id=decision.id, reviewed=1) + "#reviews")


@bp.get("/log")
@needs("review")
def log_status():
    return render_template("log.html", result=logaudit.verify_store())
