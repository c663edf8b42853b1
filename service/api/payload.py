"""Read a request's JSON body and validate it, turning every failure into a 400."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import request
from marshmallow import RAISE, Schema, ValidationError, fields, missing, validate

from infoshare.service.errors import ApiError
from infoshare.service.state import BodyLoader


class QuickLoader:
    """A request-body schema's answer on plainly valid bodies, without marshmallow's machinery.

    Profiled, loading ``{case_ref, facts}`` through marshmallow was about a tenth of a
    recorded decision's CPU, though a valid body comes out unchanged. So a body whose keys
    are the schema's, each text field a string its own validators pass, and whose facts pass
    the engine's quick check (``Engine.plainly_valid``), is returned as it is; anything else
    goes to the schema, which accepts it or names each problem. A schema with anything this
    does not repeat (another kind of field, a default, a renamed key, hooks, unknown keys
    let through) always goes to the schema. ``tests/api/test_service_validation.py`` holds
    the two to the same answers on valid and hostile bodies.
    """

    def __init__(self, schema: Schema, facts: Callable[[Any], dict[str, Any] | None]):
        self.schema = schema
        self._facts = facts
        self._fields = _plain_fields(schema)

    def load(self, data: Any) -> Any:
        return data if self._plain(data) else self.schema.load(data)

    def _plain(self, data: Any) -> bool:
        """Whether ``data`` is a body the schema would load unchanged (see the class)."""
        if self._fields is None or type(data) is not dict or not data.keys() <= self.schema.load_fields.keys():
            return False
        for name, required, field in self._fields:
            if name not in data:
                if required:
                    return False
                continue
            value = data[name]
            if isinstance(field, fields.Nested):
                if value is None or self._facts(value) is not value:
                    return False
                continue
            if type(value) is not str:
                return False
            try:
                for check in field.validators:
                    check(value)
            except ValidationError:
                return False
        return True


def _plain_fields(schema: Schema) -> list[tuple[str, bool, fields.Field]] | None:
    """The schema's fields as (name, required, field) when the quick path repeats it exactly."""
    if schema.unknown != RAISE or any(schema._hooks.values()):
        return None
    found: list[tuple[str, bool, fields.Field]] = []
    for name, field in schema.load_fields.items():
        if field.data_key not in (None, name) or field.load_default is not missing or field.allow_none:
            return None
        if isinstance(field, fields.Nested):
            if field.validators or name != "facts":
                return None
        elif type(field) is not fields.String:
            return None
        found.append((name, field.required, field))
    return found


def load_json(schema: BodyLoader) -> dict:
    """The validated body; 400 names the problem, 413 comes from Flask's size limit.

    The body is parsed only when its Content-Type says JSON (``application/json``
    or a ``+json`` type): anything else, none included, is a 415, so a body
    sent as text or as curl ``-d``'s form type is never taken for JSON.
    """
    if not request.is_json:
        sent = f"as {request.mimetype}" if request.mimetype else "without a Content-Type"
        raise ApiError(
            415,
            f"the body is sent {sent}; send it as application/json",
            {"_body": ["Send a JSON object with Content-Type: application/json."]},
        )
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "the request body is empty; send a JSON object", {"_body": ["Send a JSON object."]})
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ApiError(
            400, "the request body is not valid JSON", {"_body": ["The JSON is nested too deeply."]}
        ) from None
    except ValueError as exc:  # includes bad UTF-8 and over-long integers
        raise ApiError(400, "the request body is not valid JSON", {"_body": [_json_problem(exc)]}) from None
    if SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(data):
        raise ApiError(
            400,
            "the request body is not valid JSON",
            {"_body": ["An escape \\ud800-\\udfff is not part of a surrogate pair, so the text is not valid Unicode."]},
        )
    try:
        return schema.load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise ApiError(400, "the request does not match the schema; see messages", messages) from None


SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class Pattern(validate.Regexp):
    """A regex the whole value must match. Python's ``$`` also matches before a final
    newline, so ``Regexp`` would let "C1\\n" through a ``^...$`` pattern that the OpenAPI
    document's readers (and a URL path) refuse."""

    def __call__(self, value: Any) -> Any:  # marshmallow passes whatever the field holds
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# For text kept in a column of its own (not inside the JSON of the facts),
# which PostgreSQL refuses if it holds NUL.
STORABLE_TEXT = Pattern(r"^[^\x00]*$", error="Text may not contain NUL characters (\\u0000).")


def _has_lone_surrogate(data: object) -> bool:
    """json.loads joins surrogate pairs, so any surrogate left is unpaired (and no UTF-8 store can hold it)."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _json_problem(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}."
    if isinstance(exc, UnicodeDecodeError):
        return "The body is not UTF-8 text."
    return "The body is not valid JSON."
