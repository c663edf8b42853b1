"""Plain words for the verdict's values, for people rather than programs."""

from __future__ import annotations

from typing import Any

from infoshare.engine.policy.model import Fact

DECISIONS = {
    "share": ("You may share this information", "Consent was given and the conditions below hold."),
    "share_without_consent": (
        "You may share this information without consent",
        "An exception to consent, or the person's safety and welfare, means it may be shared without consent.",
    ),
    "seek_consent": (
        "Seek consent before sharing",
        "Explain openly and honestly what would be shared, with whom and why, and ask for consent first.",
    ),
    "do_not_share": ("Do not share this information", "The protocol does not allow it to be shared."),
    "refer": (
        "Ask the Safeguarding Co-ordinator",
        "The answer depends on a judgement a person must make. Nothing may be shared until the Co-ordinator decides.",
    ),
    "undetermined": (
        "Not enough is known yet",
        "Nothing may be shared yet: answer the questions still open.",
    ),
}
CONFIDENTIALITY = {
    "cannot_be_promised": "Confidentiality cannot be promised to the person.",
    "can_be_offered": "Confidentiality can be offered to the person.",
}
ROLES = {"practitioner": "Practitioner", "coordinator": "Safeguarding Co-ordinator", "policy-owner": "Policy owner"}


def decision(value: str) -> str:
    return DECISIONS.get(value, (value, ""))[0]


def decision_detail(value: str) -> str:
    return DECISIONS.get(value, ("", ""))[1]


def value_label(fact: Fact | None, value: Any) -> str:
    """A fact value's label from the vocabulary, or the value in words."""
    if fact is not None and any(known == value for known, _ in fact.labels):
        return fact.label(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def answer(fact: Fact, value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value_label(fact, v) for v in value) or "None of these"
    return value_label(fact, value)


def clauses(verdict: dict) -> list[dict]:
    """The protocol's sentences behind a verdict, each once, in the order the rules cite them."""
    seen: dict[str, dict] = {}
    for entry in verdict.get("rationale", []):
        if entry.get("role") in ("decided", "supports", "applies"):
            for clause in entry.get("clauses", []):
                seen.setdefault(clause["id"], clause)
    return list(seen.values())


def waited(seconds: int) -> str:
    """How long something has waited, in the largest whole unit: "4 minutes", "2 days"."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return "under a minute"
