"""Signing in and out: a password, or a one-time link that lets a person choose one."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from infoshare.service.access import people
from infoshare.service.web.practitioner import warm_interview
from infoshare.service.web.sessions import sign_in as start_session

bp = Blueprint("signin", __name__)


def _local(target: str | None) -> str:
    """Only a path on this site: never another host (``//evil``, ``/\\evil``, a scheme)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return url_for("web.signin.home")


@bp.get("/")
def home():
    if g.person is None:
        return redirect(url_for("web.signin.sign_in"))
    if g.person.role == "coordinator":
        return redirect(url_for("web.review.queue"))
    if g.person.role == "practitioner":
        warm_interview()
    return render_template("home.html")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    errors: dict[str, str] = {}
    login = ""
    if request.method == "POST":
        login = request.form.get("login", "")[:200]
        password = request.form.get("password", "")
        if not login.strip():
            errors["login"] = "Enter your sign-in name"
        if not password:
            errors["password"] = "Enter your password"
        if not errors:
            result = people.authenticate(login, password)
            if result.person is not None:
                start_session(result.person)
                return redirect(_local(request.args.get("next")))
            if result.locked_until is not None:
                errors["login"] = (
                    "This account is locked after too many wrong passwords. "
                    f"Try again after {result.locked_until:%H:%M} UTC, or ask your administrator"
                )
            else:
                errors["login"] = "The sign-in name or password is not right"
    return render_template("signin.html", errors=errors, login=login), (400 if errors else 200)


@bp.route("/sign-in/link/<token>", methods=["GET", "POST"])
def link(token: str):
    person = people.person_for_link(token)
    if person is None:
        abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        password, again = request.form.get("password", ""), request.form.get("confirm", "")
        problem = people.password_problem(password)
        if problem:
            errors["password"] = problem
        elif password != again:
            errors["confirm"] = "The two passwords are not the same"
        if not errors:
            people.spend_link(person, password)
            start_session(person)
            return redirect(url_for("web.signin.home"))
    return render_template("set_password.html", errors=errors, name=person.name, login=person.login), (
        400 if errors else 200
    )


@bp.post("/sign-out")
def sign_out():
    if g.person is not None:
        people.sign_out_everywhere(g.person.id)
    session.clear()
    return redirect(url_for("web.signin.sign_in", signed_out=1))
