"""Given steps: the case, built from the practitioner's statements (see practitioner_words.py)."""

from __future__ import annotations

import copy

from behave import given
from practitioner_words import YES_NO


@given("a child")
def a_child(context) -> None:
    context.facts["subject"] = "child"


@given("an adult")
def an_adult(context) -> None:
    context.facts["subject"] = "adult"


@given("{statement:Statement}")
def statement(context, statement: tuple) -> None:
    fact, answer = statement
    context.facts[fact] = copy.deepcopy(answer)  # the table's own list must never be appended to


@given("it is unsure {fact:Whether}")
def unsure(context, fact: str) -> None:
    assert "unsure" in context.engine.policy.fact(fact).values, f"`{fact}` cannot be answered unsure"
    context.facts[fact] = "unsure"


@given("the case does not say {fact:Whether}")
def not_said(context, fact: str) -> None:
    context.facts.pop(fact, None)


@given("seeking consent would {exception:Exception}")
def seeking_consent_would(context, exception: str) -> None:
    context.facts.setdefault("seeking_consent_would", []).append(exception)


@given("the information is needed for {purpose:Purpose} by {recipient:Recipient}")
def needed_for(context, purpose: str, recipient: str) -> None:
    context.facts.update(purpose=purpose, recipient=recipient)


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
