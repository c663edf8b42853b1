"""Given steps: the case, built from the practitioner's statements.

The statements themselves are the policy's phrases (phrases.yaml beside its
facts.yaml), registered when the run starts (vocabulary.py); here are the
steps whose wording is the same for every policy.
"""

from __future__ import annotations

from behave import given

YES_NO = {"yes": True, "no": False}  # cells of an information table; "not known" leaves the field out


def unsure(context, fact: str) -> None:
    """Given it is unsure <whether ...> (registered with the phrases: see vocabulary.py)."""
    assert "unsure" in context.engine.policy.fact(fact).values, f"`{fact}` cannot be answered unsure"
    context.facts[fact] = "unsure"


def not_said(context, fact: str) -> None:
    """Given the case does not say <whether ...>."""
    context.facts.pop(fact, None)


@given("the information to be shared is")
def information(context) -> None:
    """A table: item | needed for the purpose | accurate and up to date (yes, no, or not known)."""
    fields = {"needed for the purpose": "needed_for_purpose", "accurate and up to date": "accurate_and_up_to_date"}
    context.facts["information"] = [
        {
            "item": row["item"],
            **{field: YES_NO[row[column]] for column, field in fields.items() if row[column] != "not known"},
        }
        for row in context.table
    ]
