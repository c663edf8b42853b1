"""The pages' blueprint: one per person's job, under one parent that signs people in and
answers errors as pages."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from werkzeug.exceptions import HTTPException

from infoshare.service.errors import ApiError
from infoshare.service.state import snapshot
from infoshare.service.web import casefile, coordinator, owner, practitioner, sessions, signin, wording

STATUS_WORDS = {
    400: (
        "The form could not be used",
        "The page may have been open too long, or the form was sent from elsewhere. Go back, reload the page and try again.",
    ),
    403: (
        "You cannot see this page",
        "Your role does not include this page. Go to your start page for what you can do.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. A decision or case you may not see is not found either.",
    ),
    405: ("Page not found", "This page cannot be used that way."),
    413: ("The file is too large", "Choose a smaller file."),
    503: (
        "Sorry, there is a problem with the service",
        "Nothing was recorded and nothing may be shared on it. Try again later.",
    ),
}


def blueprint() -> Blueprint:
    web = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static")
    web.before_request(sessions.load_signed_in)
    web.before_request(sessions.protect_forms)
    web.context_processor(lambda: {"person": g.get("person"), "words": wording, "policy": snapshot().policy})
    for child in (signin.bp, practitioner.bp, casefile.bp, coordinator.bp, owner.bp):
        web.register_blueprint(child)

    @web.errorhandler(HTTPException)
    def page_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        return _error_page(exc.code, getattr(exc, "description", None))

    @web.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return _error_page(exc.status, exc.error)

    return web


def _error_page(status: int, detail: str | None):
    title, advice = STATUS_WORDS.get(status, ("Sorry, there is a problem", "Try again later."))
    if status == 503 and detail:
        advice = detail[0].upper() + detail[1:] + "."
    return render_template("error.html", title=title, advice=advice, status=status), status
