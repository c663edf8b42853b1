"""Query parameters of the paged reads (``limit``, ``after``) and their OpenAPI description, in one place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request

from infoshare.service.errors import ApiError

MAX_LIMIT = 200


MAX_ID = 2**63 - 1  # ids and positions beyond it name nothing (the columns are 64-bit)


def paging_params(what: str, after: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    """The OpenAPI entries of ``limit`` and ``after`` (whose JSON schema is `after`) for a read of `what`."""
    return {
        "limit": (
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
            f"How many {what} at most in this page.",
        ),
        "after": (
            after,
            "The `next` of the page before: this page starts after it. Pages stay the same while new "
            "decisions arrive (nothing is shown twice or skipped).",
        ),
    }


def position(digits: str) -> int:
    """A cursor's number: beyond the largest id it names nothing, and the document says so (its maximum)."""
    if int(digits) > MAX_ID:
        raise bad_cursor()
    return int(digits)


def limit_param(default: int = 50) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not (raw.isdigit() and len(raw) <= 4) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(
            400, "bad query parameter; see messages", {"limit": [f"Give a whole number from 1 to {MAX_LIMIT}."]}
        )
    return int(raw)


def bad_cursor() -> ApiError:
    return ApiError(400, "bad query parameter; see messages", {"after": ["Give the `next` of an earlier page."]})


def since_param() -> datetime | None:
    """``since`` as naive UTC (how the store keeps times): an ISO 8601 time with its offset, or a date."""
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw) if len(raw) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or (moment.tzinfo is None and len(raw) != len("2026-12-01")):
        raise ApiError(
            400,
            "bad query parameter; see messages",
            {"since": ["Give a date (2026-12-01) or a time with its offset (2026-12-01T09:00:00Z)."]},
        )
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
