"""The practitioner's "May I share this?": questions one per page, check answers, the verdict, record it.

The answers so far are a draft kept on the server (``InterviewDraft``),
never in the cookie. Each question page asks one fact; which fact comes next
is the interview's first open question: only a fact some answer to which can
still change the decision, the confidentiality or whether the person is told
is asked, in the order most likely to settle the case. The verdict page shows
the same verdict ``POST /v1/evaluate`` gives; "record" goes through the
API's ``record_decision``, so the case file and the log hold it exactly as
a case system's ``POST /v1/decisions`` would, in the practitioner's name.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from infoshare.engine import EvaluationError
from infoshare.engine.analysis.interview import interview_valid
from infoshare.engine.policy.factschema import MAX_ITEMS
from infoshare.engine.policy.model import Fact
from infoshare.service import warmup
from infoshare.service.api.decisions import CASE_REF, record_decision
from infoshare.service.api.verdicts import evaluate, no_verdict
from infoshare.service.requestlog import note
from infoshare.service.state import snapshot
from infoshare.service.store.models import InterviewDraft, utcnow
from infoshare.service.web import answers
from infoshare.service.web.sessions import needs

bp = Blueprint("share", __name__, url_prefix="/share")


def _row() -> dict:
    """The draft as stored: the answers, and the questions in the order they were answered."""
    row = InterviewDraft.get_or_none(InterviewDraft.person == g.person.id)
    stored = row.facts if row else {}
    return stored if "answers" in stored else {"answers": stored, "asked": list(stored)}


def draft() -> dict:
    return dict(_row()["answers"])


def asked() -> list[str]:
    return list(_row()["asked"])


def save(facts: dict, answered: str | None = None) -> None:
    order = [name for name in asked() if name in facts and name != answered]
    if answered is not None:
        order.append(answered)
    stored = {"answers": facts, "asked": order}
    InterviewDraft.insert(person=g.person.id, facts=stored, updated_at=utcnow()).on_conflict(
        conflict_target=[InterviewDraft.person],
        update={InterviewDraft.facts: stored, InterviewDraft.updated_at: utcnow()},
    ).execute()


def back_from(name: str | None) -> str:
    """The page before this question (None: the information page): the question answered just before it."""
    order = asked()
    if name in order:
        order = order[: order.index(name)]
    return url_for("web.share.question", name=order[-1]) if order else url_for("web.share.start")


def questions(facts: dict) -> list[str]:
    """The facts still worth asking, best first: the interview's (``POST /v1/interview``'s) questions,
    which are only those some answer to which can still change the outcome."""
    if "subject" not in facts:
        return ["subject"]
    loaded, _ = answers.validated(facts)
    if loaded is None:
        return []
    try:
        found = interview_valid(snapshot().engine, loaded)
    except EvaluationError as exc:
        raise no_verdict(exc) from None
    return [name for name in found.facts if name not in facts]


def warm_interview() -> None:
    """The interview's first analyses for this request's policy version, in the background
    (``service.warmup``): a practitioner reading the start page never waits for them."""
    warmup.warm_interview(current_app, snapshot().engine)


def _fact(name: str) -> Fact:
    fact = snapshot().policy.fact(name)
    if fact is None or fact.derived or fact.type == "items":
        abort(404)
    return fact


def _next_page(facts: dict) -> str:
    remaining = questions(facts)
    if remaining:
        return url_for("web.share.question", name=remaining[0])
    items = snapshot().policy.items_fact
    if items is not None and items.name not in facts:
        return url_for("web.share.information")
    return url_for("web.share.check")


@bp.get("")
@needs("record")
def start():
    warm_interview()
    return render_template("share/start.html", has_draft=bool(draft()))


@bp.post("/new")
@needs("record")
def new():
    InterviewDraft.delete().where(InterviewDraft.person == g.person.id).execute()
    return redirect(url_for("web.share.question", name="subject"))


@bp.get("/continue")
@needs("record")
def resume():
    return redirect(_next_page(draft()))


@bp.route("/question/<name>", methods=["GET", "POST"])
@needs("record")
def question(name: str):
    fact = _fact(name)
    facts = draft()
    error = None
    if request.method == "POST":
        value, error = answers.from_form(fact, request.form)
        if error is None:
            facts[fact.name] = value
            save(facts, fact.name)
            if request.args.get("change"):
                return redirect(url_for("web.share.check"))
            return redirect(_next_page(facts))
    return render_template(
        "share/question.html",
        fact=fact,
        current=facts.get(fact.name),
        error=error,
        change=request.args.get("change"),
        back=url_for("web.share.check") if request.args.get("change") else back_from(fact.name),
    ), (400 if error else 200)


@bp.route("/information", methods=["GET", "POST"])
@needs("record")
def information():
    items_fact = snapshot().policy.items_fact
    if items_fact is None:
        abort(404)
    facts = draft()
    items = list(facts.get(items_fact.name, []))
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("action") == "continue":
            facts[items_fact.name] = items
            save(facts)
            return redirect(url_for("web.share.check"))
        if len(items) >= MAX_ITEMS:
            errors["item"] = f"You can enter up to {MAX_ITEMS} pieces of information"
        else:
            item, errors = answers.item_from_form(request.form)
            if item is not None:
                facts[items_fact.name] = [*items, item]
                save(facts)
                return redirect(url_for("web.share.information"))
    return render_template(
        "share/information.html", fact=items_fact, items=items, errors=errors, form=request.form, back=back_from(None)
    ), (400 if errors else 200)


@bp.post("/information/<int:index>/remove")
@needs("record")
def remove_item(index: int):
    items_fact = snapshot().policy.items_fact
    facts = draft()
    items = list(facts.get(items_fact.name, [])) if items_fact else []
    if items_fact is None or not 0 <= index < len(items):
        abort(404)
    del items[index]
    facts[items_fact.name] = items
    save(facts)
    return redirect(url_for("web.share.information"))


@bp.get("/check")
@needs("record")
def check():
    facts = draft()
    if "subject" not in facts:
        return redirect(url_for("web.share.question", name="subject"))
    _, problems = answers.validated(facts)
    policy = snapshot().policy
    return render_template(
        "share/check.html",
        rows=answers.summary(policy, facts),
        items=facts.get(policy.items_fact.name, []) if policy.items_fact else [],
        problems=problems,
        still_open=questions(facts),
    )


@bp.route("/answer", methods=["GET", "POST"])
@needs("record")
def answer():
    facts = draft()
    loaded, problems = answers.validated(facts)
    if loaded is None:
        return redirect(url_for("web.share.check"))
    verdict = evaluate(loaded)
    errors: dict[str, str] = {}
    case_ref = ""
    if request.method == "POST":
        case_ref = request.form.get("case_ref", "").strip()
        try:
            CASE_REF(case_ref)
        except ValidationError:
            errors["case_ref"] = (
                "Enter the case reference: 1 to 200 letters, digits and . _ : / - characters, "
                "starting with a letter or digit"
            )
        if not errors:
            note(case_ref=case_ref)
            row = record_decision({"case_ref": case_ref, "facts": loaded, "requested_by": g.person.name})
            InterviewDraft.delete().where(InterviewDraft.person == g.person.id).execute()
            return redirect(url_for("web.cases.decision", decision_id=row.id, recorded=1))
    return render_template("share/answer.html", verdict=verdict, facts=loaded, errors=errors, case_ref=case_ref), (
        400 if errors else 200
    )
