"""The shape of each policy file, as marshmallow schemas.

These catch structural mistakes (a missing `because`, a misspelt key, a list
where a single value belongs); what the values mean (is this fact known, is
this value allowed) is checked afterwards in `checks.py`, where the whole
policy is in view.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

ID = validate.Regexp(
    r"^[a-z0-9][a-z0-9_-]*$",
    error="use lower-case letters, digits, '-' and '_' only (for example `consent-refused`)",
)


class StrictBoolean(fields.Boolean):
    """Only true and false. A truthy set alone is not enough: ``1 in {True}`` and
    ``0.0 in {False}`` hold in Python, so 1 and 0.0 would pass as booleans."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def Bool(**kwargs: Any) -> fields.Boolean:
    """A boolean that accepts only JSON's and YAML's true and false, not "yes" or 1."""
    return StrictBoolean(**kwargs)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class ClauseSchema(StrictSchema):
    id = fields.String(required=True, validate=ID)
    normative = Bool(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1))
    informative_because = fields.String()

    @validates_schema
    def _informative_needs_reason(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("normative") is False and not data.get("informative_because"):
            raise ValidationError(
                "an informative statement needs `informative_because:` saying why no rule implements it", "normative"
            )


class ProtocolSchema(StrictSchema):
    title = fields.String(required=True)
    source = fields.String()
    clauses = fields.List(fields.Nested(ClauseSchema), required=True, validate=validate.Length(min=1))


class ItemFieldSchema(StrictSchema):
    name = fields.String(required=True, validate=ID)
    type = fields.String(required=True, validate=validate.OneOf(["text", "boolean"]))
    required = Bool(load_default=False)
    question = fields.String(required=True)


class FactSchema(StrictSchema):
    name = fields.String(required=True, validate=ID)
    type = fields.String(required=True, validate=validate.OneOf(["choice", "choices", "boolean", "items"]))
    values = fields.List(fields.String(validate=ID), validate=validate.Length(min=1))
    required = Bool(load_default=False)
    derived = Bool(load_default=False)
    question = fields.String(required=True, validate=validate.Length(min=1))
    fields_ = fields.List(fields.Nested(ItemFieldSchema), data_key="fields", attribute="fields")
    labels = fields.Dict(keys=fields.Raw(), values=fields.String(validate=validate.Length(min=1, max=200)))
    sets = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1)),
        values=fields.List(fields.String(), validate=validate.Length(min=1)),
    )

    @validates_schema
    def _values_fit_type(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("type")
        allowed = [True, False] if kind == "boolean" else data.get("values") or []
        for value in data.get("labels") or {}:
            if kind == "items" or not any(value == a and type(value) is type(a) for a in allowed):
                raise ValidationError(
                    f"`{value}` under `labels:` is not a value of this fact; label only its values: "
                    f"{', '.join(str(a).lower() for a in allowed) or 'an items fact takes no labels'}",
                    "labels",
                )
        if kind in ("choice", "choices") and not data.get("values"):
            raise ValidationError(f"a `{kind}` fact needs `values:`, the list of answers allowed", "values")
        if kind in ("boolean", "items") and "values" in data:
            raise ValidationError(f"a `{kind}` fact takes no `values:`; remove them", "values")
        if kind == "items" and not data.get("fields"):
            raise ValidationError("an `items` fact needs `fields:`, what each piece carries", "fields")
        if kind != "items" and "fields" in data:
            raise ValidationError("only an `items` fact takes `fields:`", "fields")
        if kind not in ("choice", "choices") and "sets" in data:
            raise ValidationError("only a `choice` or `choices` fact takes named value `sets:`", "sets")


class ContradictionSchema(StrictSchema):
    id = fields.String(required=True, validate=ID)
    implements = fields.List(
        fields.String(),
        required=True,
        validate=validate.Length(min=1, error="list at least one protocol statement id that says why"),
    )
    facts = fields.Dict(keys=fields.String(), required=True, validate=validate.Length(min=2))
    obligations = fields.List(fields.String())
    because = fields.String(required=True, validate=validate.Length(min=1))


class FactsSchema(StrictSchema):
    facts = fields.List(fields.Nested(FactSchema), required=True, validate=validate.Length(min=1))
    contradictions = fields.List(fields.Nested(ContradictionSchema), load_default=list)


class ServesSchema(StrictSchema):
    purpose = fields.String(required=True)
    recipients = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    because = fields.String(required=True, validate=validate.Length(min=1))


class GroundSchema(StrictSchema):
    id = fields.String(required=True, validate=ID)
    title = fields.String(required=True, validate=validate.Length(min=1))
    serves = fields.List(fields.Nested(ServesSchema), required=True)


class GroundsSchema(StrictSchema):
    purpose = fields.String(required=True)
    recipient = fields.String(required=True)
    grounds = fields.List(fields.Nested(GroundSchema), required=True, validate=validate.Length(min=1))


class RuleSchema(StrictSchema):
    id = fields.String(required=True, validate=ID)
    implements = fields.List(
        fields.String(),
        required=True,
        validate=validate.Length(min=1, error="list at least one protocol statement id this rule implements"),
    )
    when = fields.Dict(keys=fields.String(), validate=validate.Length(min=1))
    for_each_item = fields.Dict(
        keys=fields.String(), data_key="for each item", attribute="for_each_item", validate=validate.Length(min=1)
    )
    then = fields.Dict(keys=fields.String(), required=True, validate=validate.Length(min=1))
    because = fields.String(required=True, validate=validate.Length(min=1))

    @validates_schema
    def _has_conditions(self, data: dict[str, Any], **_: Any) -> None:
        if "when" not in data and "for_each_item" not in data:
            raise ValidationError("a rule needs `when:` (or `for each item:`) saying when it applies", "id")


class RulesSchema(StrictSchema):
    rules = fields.List(fields.Nested(RuleSchema), required=True, validate=validate.Length(min=1))


class OutcomeSchema(StrictSchema):
    precedence = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1))
    otherwise = fields.Raw(required=True)
    shares = fields.List(fields.String())


class OutcomesSchema(StrictSchema):
    decision = fields.Nested(OutcomeSchema, required=True)
    confidentiality = fields.Nested(OutcomeSchema, required=True)
    explain_to_subject = fields.Nested(OutcomeSchema, required=True)
    item = fields.Nested(OutcomeSchema, required=True)


class PolicySchema(StrictSchema):
    id = fields.String(required=True, validate=ID)
    version = fields.String(required=True, validate=validate.Length(min=1))
    title = fields.String(required=True)
    outcomes = fields.Nested(OutcomesSchema, required=True)
    conditions = fields.Dict(keys=fields.String(validate=ID), values=fields.String(), load_default=dict)
    obligations = fields.Dict(keys=fields.String(validate=ID), values=fields.String(), load_default=dict)


def allowed_keys(schema: Schema, path: tuple[Any, ...]) -> list[str] | None:
    """The keys a mapping at `path` may have, for "unknown key" messages."""
    for step in path:
        if isinstance(step, int):
            continue
        field = next((f for f in schema.fields.values() if (f.data_key or f.name) == step), None)
        if field is None:
            return None
        if isinstance(field, fields.List):
            field = field.inner
        if not isinstance(field, fields.Nested):
            return None
        schema = field.schema
    return sorted(f.data_key or f.name or "" for f in schema.fields.values())
