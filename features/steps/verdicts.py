"""The one way a step hands over a verdict: it becomes the one checked next, and its rules count as fired."""

from __future__ import annotations

from typing import Any


def verdict_seen(context, verdict: dict[str, Any]) -> dict[str, Any]:
    context.verdict = verdict
    context.fired.update(entry["rule"] for entry in verdict["rationale"])
    return verdict
