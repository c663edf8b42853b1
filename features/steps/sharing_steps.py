"""Steps that read like the protocol: set facts in plain words, apply the policy, check the verdict."""
from __future__ import annotations

from behave import given, then, when

YES_NO = {"yes": True, "no": False}


def fact_name(context, words: str) -> str:
    name = words.strip().replace(" ", "_")
    assert context.engine.policy.fact(name), f"no fact called `{name}` in the policy"
    return name


@given("a case about {subject}")
def a_case(context, subject: str) -> None:
    context.facts["subject"] = subject.removeprefix("a ").removeprefix("an ")


@given('the {fact} is "{value}"')
def fact_is(context, fact: str, value: str) -> None:
    name = fact_name(context, fact)
    if context.engine.policy.fact(name).type == "boolean":
        context.facts[name] = {"true": True, "false": False}[value]
    else:
        context.facts[name] = value


@given("the case does not say the {fact}")
def fact_not_given(context, fact: str) -> None:
    context.facts.pop(fact_name(context, fact), None)


@given('seeking consent would "{harm}"')
def seeking_consent_would(context, harm: str) -> None:
    context.facts.setdefault("seeking_consent_would", []).append(harm)


@given("seeking consent would cause none of those harms")
def seeking_consent_harmless(context) -> None:
    context.facts["seeking_consent_would"] = []


@given("the information")
def information(context) -> None:
    context.facts["information"] = [
        {"item": row["item"],
         "needed_for_purpose": YES_NO[row["needed for the purpose"]],
         "accurate_and_up_to_date": YES_NO[row["accurate and up to date"]]}
        for row in context.table
    ]


@when("the protocol is applied")
def apply(context) -> None:
    context.verdict = context.engine.evaluate(context.facts).to_dict()


@then('the decision is "{decision}"')
def decision_is(context, decision: str) -> None:
    assert context.verdict["decision"] == decision, (
        f"decision {context.verdict['decision']}, because: {context.verdict['basis']}")


@then('confidentiality is "{value}"')
def confidentiality_is(context, value: str) -> None:
    assert context.verdict["confidentiality"] == value, context.verdict["confidentiality"]


@then("the subject is not told before sharing")
def not_told(context) -> None:
    assert context.verdict["explain_to_subject"] is False


@then("the subject is told openly")
def told(context) -> None:
    assert context.verdict["explain_to_subject"] is True


@then('the missing facts are "{names}"')
def missing(context, names: str) -> None:
    assert sorted(context.verdict["missing_facts"]) == sorted(n.strip() for n in names.split(",")), (
        context.verdict["missing_facts"])


@then('the rationale quotes "{words}"')
def rationale_quotes(context, words: str) -> None:
    protocol = [c.text for c in context.engine.policy.clauses]
    assert any(words in text for text in protocol), f"the protocol does not say: {words!r}"
    quoted = [c["text"] for entry in context.verdict["rationale"] for c in entry["clauses"]]
    assert any(words in text for text in quoted), f"the rationale does not quote {words!r}: {quoted}"


@then('"{item}" is {outcome}')
def item_outcome(context, item: str, outcome: str) -> None:
    pieces = {p["item"]: p for p in context.verdict["information"]}
    assert pieces[item]["share"] is (outcome == "shared"), pieces[item]


@then('the {kind} include "{entry}"')
def includes(context, kind: str, entry: str) -> None:
    ids = [c["id"] for c in context.verdict[kind]]
    assert entry in ids, ids


@then("nothing is shared")
def nothing_shared(context) -> None:
    assert context.verdict["decision"] not in context.engine.policy.outcomes["decision"].shares
    assert not any(p["share"] for p in context.verdict["information"])
