"""JSON bodies for verdicts and decision records through orjson, byte for byte what Flask writes.

Flask's JSON provider writes compact JSON with sorted keys, non-ASCII
escaped, and a newline; its stdlib encoder costs ~30 us on a verdict,
orjson ~3. orjson is used only where its bytes are the same: anything it
does not serialise natively the way the stdlib does (dates, decimals,
subclasses of str, dataclasses, keys that are not strings), and any body
with a character the stdlib escapes (non-ASCII, DEL), is written by Flask's
provider as before. Floats are the one native type the two write
differently (1e+16 and 1e16, NaN and null), so this is for bodies with no
floats: a verdict and a decision record hold strings, booleans, integers,
lists and objects only. tests/api/test_jsonbody.py compares the two.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import current_app
from werkzeug.sansio.response import Response

_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_APPEND_NEWLINE
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _not_native(value: Any) -> Any:
    raise TypeError(type(value).__name__)  # Flask's provider writes it its own way


def ascii_body(obj: Any) -> bytes | None:
    """`obj` (with no floats) as Flask's compact JSON with a newline, or None where only Flask's provider
    writes it so."""
    try:
        body = orjson.dumps(obj, default=_not_native, option=_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return None
    return body if body.isascii() and b"\x7f" not in body else None


def json_response(obj: Any) -> Response:
    """The response Flask would make of `obj` (a verdict or a decision record), written by orjson where
    the bytes are the same."""
    provider = current_app.json
    body = ascii_body(obj) if not current_app.debug else None
    if body is None:
        return provider.response(obj)
    return current_app.response_class(body, mimetype=provider.mimetype)  # type: ignore[attr-defined]
