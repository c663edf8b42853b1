"""Verdicts and decision records through orjson are byte for byte what Flask's own provider writes."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from markupsafe import Markup

from infoshare.engine import Engine, Policy
from infoshare.service.api.jsonbody import json_response

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from corpus import make_corpus  # noqa: E402

ODD: list[Any] = [
    {"b": 1, "a": [True, False, None], "c": {"z": "x", "y": ""}},
    {"text": "caf\u00e9 \u2014 \U0001f600"},
    {"control": 'a\x00b\x1fc\x7f"\\/\n\t'},
    {"when": datetime(2026, 12, 1, 10, 0, tzinfo=UTC), "day": date(2026, 12, 1)},
    {"id": uuid.UUID(int=7), "amount": Decimal("1.50")},
    {"markup": Markup("<b>x</b>")},
    {1: "int key", "a": 2},
    {"big": 2**70, "small": -(2**63)},
    [1, "two", [3]],
    "just a string",
    None,
]


def stdlib(app: Flask, obj: Any) -> Any:
    try:
        return app.json.response(obj).get_data()
    except TypeError as exc:
        return type(exc)


def fast(app: Flask, obj: Any) -> Any:
    try:
        return json_response(obj).get_data()
    except TypeError as exc:
        return type(exc)


@pytest.fixture
def plain() -> Flask:
    return Flask(__name__)


@pytest.mark.parametrize("obj", ODD, ids=range(len(ODD)))
def test_odd_values_come_out_as_flask_writes_them(plain: Flask, obj: Any) -> None:
    with plain.app_context():
        assert fast(plain, obj) == stdlib(plain, obj)


def test_verdicts_come_out_as_flask_writes_them(plain: Flask, shipped_policy: Policy, engine: Engine) -> None:
    with plain.app_context():
        for case in make_corpus(shipped_policy, 100):
            verdict = engine.evaluate(case).to_dict()
            assert fast(plain, verdict) == stdlib(plain, verdict)


def test_debug_mode_still_indents(plain: Flask) -> None:
    plain.debug = True
    with plain.app_context():
        assert fast(plain, {"a": 1}) == stdlib(plain, {"a": 1}) == b'{\n  "a": 1\n}\n'


def test_the_api_answers_verdicts_and_records_in_flasks_bytes(client, app, as_role, shipped_policy: Policy) -> None:
    """Each body is what Flask's provider writes of the same JSON: canonical, sorted, ASCII."""
    cases = make_corpus(shipped_policy, 6) + [
        {**make_corpus(shipped_policy, 1)[0], "information": [{"item": "caf\u00e9"}]}
    ]
    for n, facts in enumerate(cases):
        for response in (
            client.post("/v1/evaluate", json={"facts": facts}, headers=as_role("case-system")),
            made := client.post(
                "/v1/decisions", json={"case_ref": f"C-{n}", "facts": facts}, headers=as_role("case-system")
            ),
            client.get(f"/v1/decisions/{made.json['id']}", headers=as_role("case-system")),
        ):
            assert response.status_code in (200, 201)
            assert response.mimetype == "application/json"
            with app.app_context():
                assert response.get_data() == app.json.response(response.json).get_data()
