"""Answers typed into the pages, turned into facts the API's request schema accepts.

A page posts strings; a fact may be a choice, a list of choices, a boolean or
a list of pieces of information. What comes back is validated by the same
generated schema as ``POST /v1/evaluate``'s ``facts``, so a page can give the
engine nothing the API would refuse.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from infoshare.engine.policy.factschema import MAX_TEXT
from infoshare.engine.policy.model import Fact, Policy
from infoshare.service.api.evaluate import evaluate_request_schema
from infoshare.service.state import snapshot
from infoshare.service.web import wording

NONE_OF_THESE = "none"


def askable(policy: Policy) -> list[Fact]:
    """The facts a person answers one by one (not derived, not the pieces of information)."""
    return [f for f in policy.case_facts if f.type != "items"]


def from_form(fact: Fact, form: MultiDict) -> tuple[Any, str | None]:
    """(value, None), or (None, the error in words) for one question's answer."""
    if fact.type == "choices":
        chosen = form.getlist(fact.name)
        if not chosen:
            return None, "Select all that apply, or select " + "\u201cnone of these\u201d"
        if NONE_OF_THESE in chosen:
            if len(chosen) > 1:
                return None, "Select \u201cnone of these\u201d on its own, or only the ones that apply"
            return [], None
        if any(c not in fact.values for c in chosen):
            return None, "Select only the answers shown"
        return [v for v in fact.values if v in chosen], None
    raw = form.get(fact.name)
    if fact.type == "boolean":
        if raw not in ("yes", "no"):
            return None, "Select yes or no"
        return raw == "yes", None
    if raw not in [str(v) for v in fact.values]:
        return None, "Select one answer"
    return next(v for v in fact.values if str(v) == raw), None


def item_from_form(form: MultiDict) -> tuple[dict | None, dict[str, str]]:
    errors: dict[str, str] = {}
    text = form.get("item", "").strip()
    if not text:
        errors["item"] = "Describe the piece of information"
    elif len(text) > MAX_TEXT or "\x00" in text:
        errors["item"] = f"Describe it in {MAX_TEXT:,} characters or fewer"
    flags = {}
    for name, words in (("needed_for_purpose", "needed"), ("accurate_and_up_to_date", "accurate and up to date")):
        value = form.get(name)
        if value not in ("yes", "no"):
            errors[name] = f"Select whether this piece is {words}"
        flags[name] = value == "yes"
    if errors:
        return None, errors
    return {"item": text, **flags}, {}


def validated(facts: dict) -> tuple[dict | None, dict]:
    """(the facts as the API's schema loads them, {}) or (None, field -> messages)."""
    try:
        return snapshot().loader(evaluate_request_schema).load({"facts": facts})["facts"], {}
    except ValidationError as exc:
        messages = exc.messages.get("facts", exc.messages) if isinstance(exc.messages, dict) else exc.messages
        return None, messages if isinstance(messages, dict) else {"facts": messages}


def summary(policy: Policy, facts: dict) -> list[tuple[Fact, str]]:
    """Each answered question with its answer in words, in the vocabulary's order."""
    return [(f, wording.answer(f, facts[f.name])) for f in askable(policy) if f.name in facts]
