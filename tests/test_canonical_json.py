"""The content hash's canonical JSON is the standard library's, byte for byte, however it is written.

``service.store.canonicaljson.canonical`` writes it with orjson where that gives
the same bytes and with ``json.dumps`` elsewhere; every record ever chained
was hashed over ``json.dumps``'s bytes, and offline readers recompute them.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infoshare.service.store.canonicaljson import canonical


def reference(values: object) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
ASCII = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=12)
SCALARS = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | TEXT | ASCII
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT | ASCII, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None)
@given(VALUES)
def test_any_content_without_floats_gets_the_standard_librarys_bytes(values):
    assert canonical(values) == reference(values)


@pytest.mark.parametrize(
    "values",
    [
        {"a": "\x7f"},  # DEL: ASCII, but ensure_ascii escapes it
        {"\x00\x1f": ["\n\t\r\b\f", '"', "\\", "/"]},
        {"a": "\ud800"},  # a lone surrogate
        {"é": "naïve", "e": "plain"},
        {"n": 2**64, "m": -(2**63) - 1},
        {"b": 2**63, "c": 2**64 - 1},
        {"facts": {"subject": "child", "information": [{"item": "x" * 2000, "needed_for_purpose": True}]}},
    ],
)
def test_the_edges_of_the_fast_path_get_the_standard_librarys_bytes(values):
    assert canonical(values) == reference(values)


def test_keys_that_are_not_text_and_datetimes_are_the_standard_librarys_to_answer():
    assert canonical({1: "a", 2: "b"}) == reference({1: "a", 2: "b"})
    with pytest.raises(TypeError):
        canonical({"at": datetime(2026, 12, 1)})  # as json.dumps refuses it: content() writes ISO 8601 first


def test_a_nan_put_in_the_store_cannot_pass_for_the_null_it_replaced():
    """orjson writes NaN and Infinity as null; read from the store, they come back as text, so a
    null changed to NaN in the database changes the record's content hash."""
    from infoshare.service.store.logchain import content_hash
    from infoshare.service.store.models import JSONField

    field = JSONField()
    original = content_hash({"facts": field.python_value('{"x": null}')})
    for tampered in ('{"x": NaN}', '{"x": Infinity}', '{"x": -Infinity}'):
        assert content_hash({"facts": field.python_value(tampered)}) != original, tampered
