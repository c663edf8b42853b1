"""The schema of a case's facts, generated from the policy's vocabulary.

Generated rather than written so that a fact a policy owner adds to
facts.yaml is accepted (and its values enforced) by the CLI and the HTTP API
without a code change.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from infoshare.engine.policy.model import Fact, ItemField, Policy
from infoshare.engine.policy.schemas import Bool

# Maxima that keep one request, its answer (which repeats each piece of information with
# its reasons) and its record small: 50 pieces of information of up to 2,000 characters.
MAX_TEXT = 2_000
MAX_ITEMS = 50


class FactsInvalid(ValueError):
    """The case's facts do not fit the vocabulary; `messages` names each offending field."""

    def __init__(self, messages: dict[str, Any]):
        self.messages = messages
        super().__init__(f"the facts are not valid: {plain(messages)}")


def plain(messages: Any, path: str = "") -> str:
    """marshmallow's nested messages as `field: message; items.0.item: message` (no Python syntax)."""
    if isinstance(messages, dict):
        return "; ".join(plain(value, f"{path}.{key}" if path else str(key)) for key, value in messages.items())
    if isinstance(messages, list):
        text = " ".join(plain(m) if isinstance(m, (dict, list)) else str(m) for m in messages)
        return f"{path}: {text}" if path else text
    return f"{path}: {messages}" if path else str(messages)


def _one_of(values: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(values, error=f"Must be one of: {', '.join(values)}.")


def _item_field(spec: ItemField) -> fields.Field[Any]:
    if spec.type == "boolean":
        return Bool(required=spec.required, metadata={"description": spec.question})
    return fields.String(
        required=spec.required, validate=validate.Length(min=1, max=MAX_TEXT), metadata={"description": spec.question}
    )


def _field(fact: Fact) -> fields.Field[Any]:
    meta = {"description": fact.question}
    if fact.type == "choice":
        return fields.String(required=fact.required, validate=_one_of(fact.values), metadata=meta)
    if fact.type == "choices":
        return fields.List(
            fields.String(validate=_one_of(fact.values)),
            required=fact.required,
            validate=validate.Length(max=len(fact.values)),
            metadata=meta,
        )
    if fact.type == "boolean":
        return Bool(required=fact.required, metadata=meta)
    item_schema = _strict(
        f"{fact.name.title()}Item",
        {f.name: _item_field(f) for f in fact.fields},
        [f.name for f in fact.fields],
        "field",
    )
    return fields.List(
        fields.Nested(item_schema), required=fact.required, validate=validate.Length(max=MAX_ITEMS), metadata=meta
    )


def _strict(name: str, attrs: dict[str, fields.Field[Any]], known: list[str], what: str) -> type[Schema]:
    class Base(Schema):
        class Meta:
            unknown = RAISE

        error_messages = {"unknown": f"Unknown {what}; the {what}s are: {', '.join(known)}."}

    return Base.from_dict(attrs, name=name)


def facts_schema(policy: Policy) -> type[Schema]:
    """A marshmallow Schema class for the `facts` of a case under `policy`."""
    case_facts = policy.case_facts
    return _strict("Facts", {f.name: _field(f) for f in case_facts}, [f.name for f in case_facts], "fact")


class QuickCheck:
    """The facts schema's answer on plainly valid facts, without marshmallow's cost (~40 us a case).

    `load` returns the facts themselves (what the schema would load: the
    same keys and values) when every fact is of its type and among its
    values, and None otherwise, for the schema to accept or refuse with its
    messages: it never accepts what the schema refuses (tests/test_memo.py
    compares them on the bench corpus and on hostile variants of it).
    """

    def __init__(self, policy: Policy):
        self._facts = {f.name: (f.type, frozenset(f.values), len(f.values)) for f in policy.case_facts}
        self._required = frozenset(f.name for f in policy.case_facts if f.required)
        fields_ = policy.items_fact.fields if policy.items_fact else ()
        self._item_fields = {f.name: f.type for f in fields_}
        self._item_required = frozenset(f.name for f in fields_ if f.required)

    def load(self, facts: Any) -> dict[str, Any] | None:
        if type(facts) is not dict or not self._required <= facts.keys():
            return None
        known = self._facts
        for name, value in facts.items():
            spec = known.get(name)
            if spec is None:
                return None
            kind, values, most = spec
            if kind == "choice":
                if type(value) is not str or value not in values:
                    return None
            elif kind == "boolean":
                if type(value) is not bool:
                    return None
            elif kind == "choices":
                if type(value) is not list or len(value) > most:
                    return None
                for each in value:
                    if type(each) is not str or each not in values:
                        return None
            elif type(value) is not list or len(value) > MAX_ITEMS or not all(self._piece(p) for p in value):
                return None
        return facts

    def _piece(self, piece: Any) -> bool:
        if type(piece) is not dict or not self._item_required <= piece.keys():
            return False
        kinds = self._item_fields
        for name, value in piece.items():
            kind = kinds.get(name)
            if kind == "boolean":
                if type(value) is not bool:
                    return False
            elif kind != "text" or type(value) is not str or not 1 <= len(value) <= MAX_TEXT:
                return False
        return True


def load_facts(schema: Schema, facts: Any) -> dict[str, Any]:
    """Validated facts, or FactsInvalid with a message per offending field."""
    if not isinstance(facts, dict):
        raise FactsInvalid({"_schema": ["The facts must be a JSON object of fact names and values."]})
    try:
        loaded: dict[str, Any] = schema.load(facts)
    except ValidationError as err:
        raise FactsInvalid(err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}) from None
    return loaded
