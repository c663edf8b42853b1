"""The policy owner's pages: the protocol beside its rules and scenarios, try a case,
the impact of a candidate version, and its activation.

The coverage report is computed from the active policy (the scenarios run
against it, once per version). A candidate is checked in full first, as
``infoshare check`` and a reload check it (every rule check and the policy's
own tests); only a version that passes shows its impact on the recorded
decisions and can be activated, and activation checks it again and refuses
if the folder changed since. Activation goes through ``service.reload``,
the path ``POST /v1/policy/reload`` takes, so it is stored and logged the
same way.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, current_app, render_template, request
from werkzeug.datastructures import MultiDict

from infoshare.engine import Policy, PolicyError
from infoshare.engine.analysis.impact import Replay
from infoshare.service.api.verdicts import evaluate
from infoshare.service.reload import activate_folder, checked
from infoshare.service.state import snapshot
from infoshare.service.store import versions
from infoshare.service.store.recorded import pages, replay_query
from infoshare.service.web import answers, candidates, coveragejob
from infoshare.service.web.sessions import me, needs

bp = Blueprint("policy", __name__, url_prefix="/policy")
TRY_ITEMS = 3


def features() -> Path:
    configured = current_app.config.get("INFOSHARE_FEATURES")
    return (
        Path(configured)
        if configured
        else Path(current_app.config["INFOSHARE_POLICY"]).resolve().parents[1] / "features"
    )


@bp.get("")
@needs("reload-policy")
def coverage():
    policy = snapshot().policy
    return render_template(
        "policy/coverage.html",
        report=coveragejob.report(policy, features(), Path(current_app.config["INFOSHARE_POLICY"])),
        policy=policy,
    )


@bp.route("/try", methods=["GET", "POST"])
@needs("evaluate")
def try_case():
    policy = snapshot().policy
    errors: dict[str, str] = {}
    verdict = None
    facts: dict = {}
    if request.method == "POST":
        for fact in answers.askable(policy):
            if not request.form.get(fact.name) and not request.form.getlist(fact.name):
                if fact.required:
                    errors[fact.name] = "Select one answer"
                continue
            value, error = answers.from_form(fact, request.form)
            if error:
                errors[fact.name] = error
            else:
                facts[fact.name] = value
        if policy.items_fact is not None:
            items = []
            for i in range(TRY_ITEMS):
                row = MultiDict(
                    {k.removeprefix(f"item{i}-"): v for k, v in request.form.items() if k.startswith(f"item{i}-")}
                )
                if not row.get("item", "").strip():
                    continue
                item, item_errors = answers.item_from_form(row)
                errors.update({f"item{i}-{k}": v for k, v in item_errors.items()})
                if item:
                    items.append(item)
            if items:
                facts[policy.items_fact.name] = items
        if not errors:
            loaded, problems = answers.validated(facts)
            if loaded is None:
                errors.update({name: " ".join(map(str, msgs)) for name, msgs in problems.items()})
            else:
                verdict = evaluate(loaded)
    return render_template(
        "policy/try.html",
        policy=policy,
        errors=errors,
        form=request.form,
        verdict=verdict,
        facts=facts,
        items=TRY_ITEMS,
    ), (400 if errors else 200)


def _impact(policy: Policy) -> dict:
    replay = Replay(policy, versions.stored)
    for rows in pages(replay_query()):
        replay.add(rows)
    return replay.report()


def _candidate_folder() -> tuple[Path, dict[str, str]]:
    """The folder the form names: (folder, the hidden fields that name it again at activation)."""
    if request.form.get("token"):
        return candidates.uploaded(request.form["token"]), {"token": request.form["token"]}
    upload = request.files.get("archive")
    if upload is not None and upload.filename:
        token, folder = candidates.unpack(upload.filename, upload.read(candidates.MAX_UPLOAD + 1))
        return folder, {"token": token}
    folder = candidates.server_folder(request.form.get("folder", ""))
    return folder, {"folder": request.form.get("folder", "")}


@bp.route("/candidate", methods=["GET", "POST"])
@needs("reload-policy")
def candidate():
    if request.method == "GET":
        return render_template("policy/candidate.html", errors={}, form={}, root=candidates.root())
    try:
        folder, keep = _candidate_folder()
    except candidates.CandidateProblem as exc:
        field = "archive" if request.files.get("archive") and request.files["archive"].filename else "folder"
        return render_template(
            "policy/candidate.html", errors={field: str(exc)}, form=request.form, root=candidates.root()
        ), 400
    try:
        policy, _ = checked(folder)
    except PolicyError as exc:
        return render_template("policy/checked.html", problems=exc.problems, folder=folder, policy=None), 422
    return render_template(
        "policy/checked.html",
        problems=[],
        folder=folder,
        policy=policy,
        active=snapshot().policy,
        report=_impact(policy),
        keep=keep,
    )


@bp.post("/activate")
@needs("reload-policy")
def activate():
    digest = request.form.get("digest", "")
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        return render_template(
            "policy/activated.html",
            problems=["The form did not say which version to activate; check the candidate again"],
            policy=None,
        ), 400
    try:
        folder, _ = _candidate_folder()
    except candidates.CandidateProblem as exc:
        return render_template("policy/activated.html", problems=[str(exc)], policy=None), 400
    try:
        previous, policy = activate_folder(current_app, folder, f"web page by {me().client_name}", digest=digest)
    except PolicyError as exc:
        return render_template("policy/activated.html", problems=[str(p) for p in exc.problems], policy=None), 422
    return render_template("policy/activated.html", problems=[], policy=policy, previous=previous)
