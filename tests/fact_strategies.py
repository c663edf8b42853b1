"""Hypothesis strategies for valid facts, built from a policy's vocabulary (facts.yaml).

Derived from the loaded policy rather than written out, so a fact or value a
policy owner adds is generated too, and a test keeps working when the policy
changes. Imported by name (tests/ is on sys.path through its conftest); not named
`vocabulary`, which is the scenario steps' module and shares the process when coverage runs.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from infoshare.engine import Policy
from infoshare.engine.policy.model import Fact

# Text a person could type: no lone surrogates (not Unicode) and no control characters.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)


def absent_or(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(None), st.sampled_from(values))


def item_of(fact: Fact) -> st.SearchStrategy[dict[str, Any]]:
    """One piece of an `items` fact: its required fields always, the others sometimes."""
    strategies = {f.name: TEXT if f.type == "text" else st.booleans() for f in fact.fields}
    required = {f.name for f in fact.fields if f.required}
    return st.fixed_dictionaries(
        {n: s for n, s in strategies.items() if n in required},
        optional={n: s for n, s in strategies.items() if n not in required},
    )


def value_of(fact: Fact) -> st.SearchStrategy[Any]:
    """A valid value of `fact`, or None for "not given" (unless the fact is required)."""
    if fact.type == "choice":
        return st.sampled_from(fact.values) if fact.required else absent_or(list(fact.values))
    if fact.type == "choices":
        return st.one_of(st.just(None), st.lists(st.sampled_from(fact.values), unique=True))
    if fact.type == "boolean":
        return absent_or([True, False])
    return st.one_of(st.just(None), st.lists(item_of(fact), max_size=4))


@st.composite
def case_facts(draw: st.DrawFn, policy: Policy) -> dict[str, Any]:
    """Facts of a case the vocabulary accepts: each fact given a valid value or left out."""
    facts: dict[str, Any] = {}
    for fact in policy.case_facts:
        drawn = draw(value_of(fact))
        if drawn is not None:
            facts[fact.name] = drawn
    return facts


def wrong_value_of(fact: Fact) -> Any:
    """A value of the wrong kind for `fact`, which the request schema must refuse."""
    if fact.type == "choice":
        return "not-a-value-of-" + fact.name
    if fact.type == "choices":
        return ["not-a-value-of-" + fact.name]
    if fact.type == "boolean":
        return "yes"
    return "a piece of text, not a list of pieces"
