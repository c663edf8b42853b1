"""One JSON log line per request, tied to error bodies by a request id.

The line carries what an operator needs to follow a request (time, method,
route template, status, latency, request id, key name, and for decisions the
decision id, case_ref and decision) and never the facts, the rationale or
anything else a person could be identified by. The route is the template
(``/v1/decisions/{decision_id}``), not the path, so nothing a caller
types into a URL reaches the log; case_ref is logged as a field on purpose.

The request line is written on every request, so where `logging` would only
hand it to this module's own JSON handler (the service as deployed), it is
written straight to that handler's stream: the same line, byte for byte,
without the record, the handler lock and the formatter in between (about
0.05 ms a request). Anywhere else (a test capturing records, another handler
added) it goes through `logging` as before.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, request

log = logging.getLogger("infoshare.request")
# A client's X-Request-ID is used only if it is this safe (it goes into every log line and
# error body); any other is replaced by a fresh one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@functools.lru_cache(maxsize=1024)  # a service's rules are a few dozen, named on every request
def route_template(rule: str) -> str:
    """A Flask rule in OpenAPI form, e.g. ``/v1/decisions/<int(max=9):decision_id>``
    becomes ``/v1/decisions/{decision_id}``: shorter in logs, and the form OpenAPI wants."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object; ``extra={"fields": {...}}`` adds keys."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        line = _line(record.created, record.levelname, record.name, record.process, record.getMessage(), fields)
        request_id = getattr(record, "request_id", None)
        return _render(line, request_id, fields)


def _line(created: float, level: str, logger: str, pid: int | None, message: str, fields: dict) -> dict:
    return {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level.lower(),
        "logger": logger,
        "pid": pid,  # which worker: gunicorn's own lines name it the same way
        "message": message,
    }


def _render(line: dict, request_id: str | None, fields: dict) -> str:
    if request_id:
        line["request_id"] = request_id
    line.update(fields)
    return json.dumps(line, default=str)


def _sole_handler() -> logging.StreamHandler | None:
    """This module's JSON handler on a file descriptor, when it is the only place a request line would go."""
    if log.disabled or log.handlers or log.filters or not log.isEnabledFor(logging.INFO) or not log.propagate:
        return None
    parent = log.parent
    if parent is None or parent.name != "infoshare" or parent.filters or len(parent.handlers) != 1:
        return None
    if parent.propagate and logging.root.handlers:
        return None
    handler = parent.handlers[0]
    if (
        type(handler) is not logging.StreamHandler
        or type(handler.formatter) is not JsonFormatter
        or handler.filters
        or handler.level > logging.INFO
    ):
        return None
    return handler


def _write_request_line(request_id: str, fields: dict) -> None:
    handler = _sole_handler()
    if handler is None:
        log.info("request", extra={"request_id": request_id, "fields": fields})
        return
    try:
        descriptor = handler.stream.fileno()
    except (AttributeError, OSError, ValueError):  # a stream with no descriptor: through `logging`
        log.info("request", extra={"request_id": request_id, "fields": fields})
        return
    line = _line(time.time(), "INFO", log.name, os.getpid(), "request", fields)
    data = (_render(line, request_id, fields) + "\n").encode()
    try:
        while data:  # one write() for a line of this size; a partial one goes on where it stopped
            data = data[os.write(descriptor, data) :]
    except OSError:  # `logging` reports a stream that fails its own way
        log.info("request", extra={"request_id": request_id, "fields": fields})


def configure_logging() -> None:
    """Send the ``infoshare`` loggers to stderr as JSON, once per process."""
    root = logging.getLogger("infoshare")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(logging.INFO)


def note(**fields: object) -> None:
    """Add fields (decision_id, case_ref, decision, key) to this request's log line."""
    g.setdefault("log_fields", {}).update(fields)


def init_request_log(app: Flask) -> None:
    @app.before_request
    def start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        started = g.get("started")
        fields = {
            "method": request.method,
            "route": route_template(request.url_rule.rule) if request.url_rule else None,
            "status": response.status_code,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            **g.get("log_fields", {}),
        }
        _write_request_line(request_id, fields)
        return response
