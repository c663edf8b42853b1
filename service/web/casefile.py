"""A recorded decision's page, its print view, a case file's timeline, and a person's own decisions.

Everything is read through the API's ``find_decision`` and ``readable``, so
a practitioner sees only what they recorded (another's decision is "not
found", as the API's 404) and a co-ordinator sees every decision. The
co-ordinator's page adds the rules as written in the version that decided
(the API's ``?explain=as-decided``) and the review form.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from marshmallow import ValidationError
from peewee import prefetch

from infoshare.service.access.auth import may
from infoshare.service.api.asdecided import as_decided
from infoshare.service.api.decisions import CASE_REF, MAX_ID, find_decision, readable
from infoshare.service.api.reviews import FINAL_DECISIONS
from infoshare.service.state import snapshot
from infoshare.service.store.models import Decision, Review, as_utc
from infoshare.service.web import names
from infoshare.service.web.sessions import me, needs

bp = Blueprint("cases", __name__)
PAGE = 50


def decision_page(decision_id: int, template: str, **extra):
    decision = find_decision(decision_id)
    reviewing = may("review")
    return render_template(
        template,
        decision=decision,
        verdict=decision.verdict,
        facts=decision.facts,
        recorded_at=as_utc(decision.recorded_at),
        reviews=decision.reviews,
        as_decided=as_decided(decision) if reviewing else None,
        reviewing=reviewing,
        final_decisions=FINAL_DECISIONS,
        policy=snapshot().policy,
        who=names.of,
        **extra,
    )


@bp.get(f"/decisions/<int(max={MAX_ID}):decision_id>")
@needs("read-decisions")
def decision(decision_id: int):
    return decision_page(
        decision_id, "cases/decision.html", recorded=bool(request.args.get("recorded")), errors={}, form={}
    )


@bp.get(f"/decisions/<int(max={MAX_ID}):decision_id>/print")
@needs("read-decisions")
def printable(decision_id: int):
    return decision_page(decision_id, "cases/print.html")


@bp.get("/cases/<path:case_ref>")
@needs("read-decisions")
def case_file(case_ref: str):
    try:
        CASE_REF(case_ref)
    except ValidationError:
        abort(404)
    found = prefetch(
        readable(Decision.select().where(Decision.case_ref == case_ref)).order_by(Decision.id),
        Review.select().order_by(Review.id),
    )
    if not found:
        abort(404)
    events = []
    for d in found:
        events.append((as_utc(d.recorded_at), "decision", d, None))
        events.extend((as_utc(r.reviewed_at), "review", d, r) for r in d.reviews)
    events.sort(key=lambda e: e[0])
    return render_template("cases/timeline.html", case_ref=case_ref, events=events, who=names.of)


@bp.get("/decisions")
@needs("read-decisions")
def mine():
    rows = list(
        readable(Decision.select(Decision.id, Decision.case_ref, Decision.decision, Decision.recorded_at))
        .where(Decision.owner() == me().client_name)
        .order_by(Decision.id.desc())
        .limit(PAGE)
    )
    return render_template("cases/mine.html", rows=rows, as_utc=as_utc)
