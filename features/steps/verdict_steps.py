"""When the protocol is applied (by the engine), and Then steps that check the verdict in the practitioner's terms."""

from __future__ import annotations

from behave import then, when
from practitioner_words import CONDITIONS, facts_named
from verdicts import verdict_seen

COORDINATOR = "Any queries about information sharing must be directed to the Safeguarding Co-ordinator."


@when("the protocol is applied")
def apply(context) -> None:
    verdict_seen(context, context.engine.evaluate(context.facts).to_dict())


def ids(context, key: str) -> list[str]:
    return [entry["id"] for entry in context.verdict[key]]


def quoted(context, words: str, entries: list[dict]) -> bool:
    """Whether `words` are the protocol's, and the rationale `entries` quote them."""
    protocol = [c.text for c in context.engine.policy.clauses]
    assert any(words in text for text in protocol), f"the protocol does not say: {words!r}"
    return any(words in clause["text"] for entry in entries for clause in entry["clauses"])


def decided(context, decision: str) -> None:
    verdict = context.verdict
    assert verdict["decision"] == decision, f"decision {verdict['decision']}, because: {verdict['basis']}"


def nothing_shared(context) -> None:
    shared = [piece["item"] for piece in context.verdict["information"] if piece["share"]]
    assert not shared, f"shared: {shared}"


@then("{decision:Decision}")
def decision_is(context, decision: str) -> None:
    """Each decision with what the protocol attaches to it."""
    decided(context, decision)
    if decision in context.engine.policy.outcomes["decision"].shares:
        return
    nothing_shared(context)
    if decision == "refer":
        assert "direct_query_to_coordinator" in ids(context, "obligations"), ids(context, "obligations")
        assert quoted(context, COORDINATOR, context.verdict["rationale"]), "the rationale does not cite the query rule"
    if decision == "seek_consent":
        assert "explain_openly" in ids(context, "obligations"), ids(context, "obligations")
        assert context.verdict["explain_to_subject"] is True


@then("nothing may be shared until the case says {what}")
def undetermined(context, what: str) -> None:
    decided(context, "undetermined")
    nothing_shared(context)
    assert sorted(context.verdict["missing_facts"]) == sorted(facts_named(what)), context.verdict["missing_facts"]


@then("confidentiality cannot be promised")
def no_confidentiality(context) -> None:
    assert context.verdict["confidentiality"] == "cannot_be_promised", context.verdict["confidentiality"]


@then("confidentiality can be offered")
def confidentiality(context) -> None:
    assert context.verdict["confidentiality"] == "can_be_offered", context.verdict["confidentiality"]


@then("the subject is not told before the information is shared")
def not_told(context) -> None:
    assert context.verdict["explain_to_subject"] is False
    assert "do_not_tell_subject" in ids(context, "obligations"), ids(context, "obligations")


@then("the subject is told openly what would be shared and why")
def told(context) -> None:
    assert context.verdict["explain_to_subject"] is True


@then('the rationale cites "{words}"')
def rationale_cites(context, words: str) -> None:
    assert quoted(context, words, context.verdict["rationale"]), (
        f"the rationale does not cite {words!r}: {[c['id'] for e in context.verdict['rationale'] for c in e['clauses']]}"
    )


@then("whoever shares it must ensure it is {conditions}")
def conditions(context, conditions: str) -> None:
    wanted = [CONDITIONS[c.removeprefix("and ").strip()] for c in conditions.split(", ")]
    assert set(wanted) <= set(ids(context, "conditions")), ids(context, "conditions")


@then("the means of sharing given must not be used")
def insecure(context) -> None:
    assert "channel_not_secure" in ids(context, "conditions"), ids(context, "conditions")


@then("there are no conditions, because nothing is shared")
def no_conditions(context) -> None:
    assert context.verdict["conditions"] == [], ids(context, "conditions")


@then('"{item}" is shared')
def item_shared(context, item: str) -> None:
    assert piece(context, item)["share"] is True, piece(context, item)


@then('"{item}" is withheld, citing "{words}"')
def item_withheld(context, item: str, words: str) -> None:
    found = piece(context, item)
    assert found["share"] is False, found
    index = context.verdict["information"].index(found)
    about_it = [entry for entry in context.verdict["rationale"] if index in entry.get("items", ())]
    assert quoted(context, words, about_it), f"no rule about {item!r} cites {words!r}: {found['reasons']}"


@then("the Safeguarding Co-ordinator is to record the decision in the case file with its rationale")
def to_be_recorded(context) -> None:
    assert "record_in_case_file" in ids(context, "obligations"), ids(context, "obligations")
    assert quoted(context, "will record in the case file", context.verdict["rationale"])


def piece(context, item: str) -> dict:
    pieces = {p["item"]: p for p in context.verdict["information"]}
    assert item in pieces, f"no piece called {item!r}: {list(pieces)}"
    return pieces[item]
