"""The steps that speak the policy's vocabulary, made from its phrases.yaml when the run starts.

Which phrases exist is data (the policy folder's phrases.yaml, read by
engine.analysis.phrases), so the steps that use them are registered from
it in before_all, after behave has loaded the step files: each kind of
phrase becomes a step parameter type that matches only its own phrases, and
a step that matches no phrase at all fails naming the nearest phrases and
the line of phrases.yaml where a new one is declared.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from behave import register_type
from case_steps import not_said, unsure
from verdict_steps import decision_is

from infoshare.engine.analysis.phrases import PLACEHOLDER, Phrases, load_phrases


def phrase_type(table: dict[str, Any]) -> Callable[[str], Any]:
    """A step parameter type that matches exactly the phrases of `table` (longest first, any case)."""
    folded = {k.casefold(): v for k, v in table.items()}

    def convert(text: str) -> Any:
        return folded[text.casefold()]

    convert.pattern = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)) or r"(?!x)x"  # type: ignore[attr-defined]
    return convert


def give(context, fact: str, answer: Any) -> None:
    """A statement about the case: a list fact gains the answer (`none`: is empty), any other is set."""
    if context.engine.policy.fact(fact).type == "choices":
        if answer == []:
            context.facts[fact] = []
        else:
            context.facts.setdefault(fact, []).append(answer)
    else:
        context.facts[fact] = copy.deepcopy(answer)


def register(context) -> Phrases:
    """Read the policy's phrases and register the steps and types made from them."""
    phrases = load_phrases(context.policy, context.policy.directory)
    registry = context._runner.step_registry  # the runner's own: `behave` makes a fresh one per run
    types = {
        "Statement": phrase_type(phrases.statements),
        "Whether": phrase_type(phrases.whether),
        "Decision": phrase_type(phrases.decisions),
        **{f"Phrase_{fact}": phrase_type(table) for fact, table in phrases.fragments.items()},
    }
    register_type(**types)

    def statement(context, statement: tuple[str, Any]) -> None:
        give(context, *statement)

    registry.add_step_definition("given", "{statement:Statement}", statement)
    for sentence in phrases.sentences:
        pattern = PLACEHOLDER.sub(lambda m: f"{{{m.group(1)}:Phrase_{m.group(1)}}}", sentence)

        def said(context, **answers: Any) -> None:
            for fact, answer in answers.items():
                give(context, fact, answer)

        registry.add_step_definition("given", pattern, said)
    registry.add_step_definition("given", "it is unsure {fact:Whether}", unsure)
    registry.add_step_definition("given", "the case does not say {fact:Whether}", not_said)
    registry.add_step_definition("then", "{decision:Decision}", decision_is)

    def unknown(context, text: str) -> None:
        raise AssertionError(context.phrases.unknown(text))

    # Generic steps are tried after every Given, When and Then: added last, this one matches only
    # a step that nothing else does.
    registry.add_step_definition("step", "{text}", unknown)
    return phrases
