"""A base for response schemas that dump plain dicts."""

from __future__ import annotations

from marshmallow import Schema


class DictSchema(Schema):
    """Reads each field by key only.

    marshmallow falls back to ``getattr`` when a key is missing, and for a
    dict that finds its methods: an absent ``values`` or ``items`` key
    would dump a bound method instead of being left out.
    """

    def get_attribute(self, obj: dict, attr: str, default: object) -> object:
        return obj.get(attr, default)
