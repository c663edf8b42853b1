"""Read a request's JSON body and validate it, turning every failure into a 400."""

from __future__ import annotations

import json
import re

from flask import request
from marshmallow import Schema, ValidationError

from service.errors import ApiError


def load_json(schema: Schema) -> dict:
    """The validated body; 400 names the problem, 413 comes from Flask's size limit.

    The body is parsed as JSON when the Content-Type says JSON or says nothing
    a client means by it (none, ``text/plain``, or curl ``-d``'s form type);
    one that names another format (XML, multipart, ...) is a 415.
    """
    if request.mimetype and not (request.mimetype in LENIENT_TYPES or request.is_json):
        raise ApiError(415, f"the body is sent as {request.mimetype}; send it as application/json",
                       {"_body": ["Send a JSON object with Content-Type: application/json."]})
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "the request body is empty; send a JSON object",
                       {"_body": ["Send a JSON object."]})
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ApiError(400, "the request body is not valid JSON",
                       {"_body": ["The JSON is nested too deeply."]}) from None
    except ValueError as exc:  # includes bad UTF-8 and over-long integers
        raise ApiError(400, "the request body is not valid JSON",
                       {"_body": [_json_problem(exc)]}) from None
    if b"\\u" in raw:  # NUL and lone surrogates can only arrive as \u escapes
        problems = unstorable_text(data)
        if problems:
            raise ApiError(400, "the request holds text that cannot be stored; see messages", problems)
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ApiError(400, "the request does not match the schema; see messages",
                       exc.messages) from None


LENIENT_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded"})
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Text may not contain NUL characters or unpaired surrogates (\\u0000, \\ud800-\\udfff)."


def unstorable_text(value: object) -> dict | list:
    """Field-level messages for strings no store keeps as given (PostgreSQL refuses
    NUL, and no UTF-8 store can hold a lone surrogate), in marshmallow's shape."""
    if isinstance(value, str):
        return [UNSTORABLE_MESSAGE] if UNSTORABLE.search(value) else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    problems = {}
    for key, inner in items:
        found = [UNSTORABLE_MESSAGE] if isinstance(key, str) and UNSTORABLE.search(key) else unstorable_text(inner)
        if found:
            problems[str(key)] = found
    return problems


def _json_problem(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}."
    if isinstance(exc, UnicodeDecodeError):
        return "The body is not UTF-8 text."
    return "The body is not valid JSON."
