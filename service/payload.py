"""Read a request's JSON body and validate it, turning every failure into a 400."""

from __future__ import annotations

import json

from flask import request
from marshmallow import Schema, ValidationError

from service.errors import ApiError


def load_json(schema: Schema) -> dict:
    """The validated body; 400 names the problem, 413 comes from Flask's size limit.

    The body is parsed whatever the Content-Type, so ``curl -d`` works
    without a header; the schema decides what is acceptable.
    """
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
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ApiError(400, "the request does not match the schema; see messages",
                       exc.messages) from None


def _json_problem(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}."
    if isinstance(exc, UnicodeDecodeError):
        return "The body is not UTF-8 text."
    return "The body is not valid JSON."
