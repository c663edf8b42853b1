"""``Idempotency-Key`` on ``POST /v1/decisions``, as the IETF HTTP API working group's draft
"The Idempotency-Key HTTP Header Field" describes it.

A case system that sends a decision and loses the answer (a dropped
connection, a timeout, a restarted server) sends it again with the same key,
and gets the original record instead of a second one:

- the same key and the same request from the same client within
  ``RETENTION`` of the first: the original record, as first answered (same
  id, same body; 201 with ``Idempotent-Replayed: true``);
- the same key with a different request: 422 (the key was reused by mistake);
- the same key while the first request is still being answered: 409, with
  Retry-After.

"The same request" is the same validated body (so key order and spacing do
not matter), compared by its sha256. Keys are per client: two clients' equal
keys never meet. A key is 1 to 255 visible ASCII characters (no quote or
backslash), sent bare (then with no comma either) or as a quoted
structured-field string (``Idempotency-Key: "8e03978e-..."``).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

from flask import request

from infoshare.service.errors import ApiError
from infoshare.service.store.models import utcnow

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
# The header's value: a key of visible ASCII but '"' and '\', bare or as a structured-field string
# ("..."). A server joins a header sent twice with a comma ("a,b", "\"a\",\"b\""), so a bare key
# holds no comma and a quoted one no quote: either way, a key sent twice is refused.
KEY_PATTERN = r'^(?:[!#-+\--\[\]-~]{1,255}|"[!#-\[\]-~]{1,255}")$'
_KEY = re.compile(KEY_PATTERN)
DESCRIPTION = (
    "Makes a retry safe: the same key and request from the same client within 24 hours answers the "
    "original record (201, `Idempotent-Replayed: true`); the same key with another request is 422; "
    "while the first request with the key is being answered, 409. 1 to 255 visible ASCII characters "
    "(no quote or backslash), bare (then no comma either) or as a quoted string; a UUID is a good key."
)


def key_of_request() -> str | None:
    """The request's Idempotency-Key, or None; 400 if it is malformed or sent twice.

    The WSGI environ holds one value per header name: a server joins a repeated header's
    values with commas, which ``KEY_PATTERN`` refuses, so a key sent twice is a malformed
    one. It is read with one lookup, where ``getlist`` walked every header of the request
    (~1.5% of a recorded decision's CPU under load)."""
    value = request.headers.get(HEADER)
    if value is None:
        return None
    value = value.strip()
    if not _KEY.match(value):
        raise ApiError(
            400,
            "the Idempotency-Key header is not usable; see messages",
            {
                HEADER: [
                    "Send one key of 1 to 255 visible ASCII characters, without quotes or backslashes inside, "
                    "and without commas unless it is sent as a quoted string."
                ]
            },
        )
    return value[1:-1] if value.startswith('"') else value


def digest(body: dict[str, Any]) -> str:
    """The request's fingerprint: sha256 of its validated body, keys sorted."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def retained_since() -> Any:
    return utcnow() - RETENTION


def reused(key: str) -> ApiError:
    return ApiError(
        422,
        "this Idempotency-Key was used for a different request; use a new key for a new request",
        {HEADER: ["Already used with another body."]},
    )


def in_flight(key: str, retry_after: int) -> ApiError:
    return ApiError(
        409,
        "a request with this Idempotency-Key is still being answered; retry it shortly",
        {HEADER: ["A request with this key is in flight."]},
        headers={"Retry-After": str(retry_after)},
    )
