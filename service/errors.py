"""Every error, expected or not, leaves as an RFC 9457 problem (``application/problem+json``).

The body is ``{"type": "about:blank", "title": the status's name, "status": code,
"detail": sentence, "messages": {field: [..]}, "request_id": id, "error": sentence}``:
``messages`` (field by field) and ``request_id`` are extension members, and
``error`` repeats ``detail`` for clients written before the problem format.
Bad input is 400 (one status for malformed JSON, wrong types, unknown fields
and bad values, so a client needs one branch), size 413, a body declared as
another format than JSON 415, auth 401/403, a key over its rate limit 429
(with Retry-After), unknown paths 404, wrong methods 405, an unreachable or
unwritable store or a failed evaluation 503. Anything unforeseen is 500 with no detail: the
traceback goes to the log under the same request id, never to the client,
and no error body ever carries a verdict (the service fails closed).
"""

from __future__ import annotations

import logging
import traceback

from flask import Flask, Response, g, jsonify
from peewee import PeeweeException
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger("infoshare.errors")

HTTP_ERRORS = {
    404: "no such resource; GET /openapi.json lists the paths",
    405: "this method is not allowed here; the Allow header lists the ones that are",
    413: "the request body is larger than 1 MiB",
}


class ApiError(Exception):
    """An error the client can act on, raised from a view and answered as a problem document."""

    def __init__(
        self,
        status: int,
        error: str,
        messages: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.messages = messages or {}
        self.headers = headers or {}


PROBLEM_JSON = "application/problem+json"


def error_response(status: int, error: str, messages: dict | None = None, headers: dict | None = None) -> Response:
    g.setdefault("log_fields", {})["error"] = error
    response = jsonify(
        {
            "type": "about:blank",
            "title": HTTP_STATUS_CODES.get(status, "Error"),
            "status": status,
            "detail": error,
            "messages": messages or {},
            "request_id": g.get("request_id"),
            "error": error,
        }
    )
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.update(headers or {})
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.error, exc.messages, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | HTTPException:
        if exc.code is None or exc.code < 400:
            return exc  # redirects (e.g. a missing trailing slash) pass through
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return error_response(exc.code, HTTP_ERRORS.get(exc.code, exc.description or exc.name), headers=headers)

    @app.errorhandler(PeeweeException)
    def store_error(exc: PeeweeException) -> Response:
        cause = getattr(exc, "orig", None)  # the driver's own error: its type names what failed, never data
        named = f"{type(exc).__name__} ({type(cause).__name__})" if cause is not None else type(exc).__name__
        log.error("store error: %s", named, extra={"request_id": g.get("request_id")})
        return error_response(503, "the decision store is unavailable; try again shortly")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # The exception's message may quote request data; the frames do not.
        log.error(
            "unhandled %s\n%s",
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
            extra={"request_id": g.get("request_id")},
        )
        return error_response(500, "internal error; no verdict is given, so nothing may be shared on this request")
