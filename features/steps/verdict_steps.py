"""When the protocol is applied (by the engine), and Then steps that check the verdict in the practitioner's terms."""

from __future__ import annotations

from behave import then, when
from verdicts import verdict_seen

from infoshare.engine.analysis.misses import why_not

COORDINATOR = "Any queries about information sharing must be directed to the Safeguarding Co-ordinator."
EXPLAIN_OPENLY = "shared and why"


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


def standing(context) -> list[dict]:
    """The rationale entries whose conclusions the verdict shows: the rules that decided it or led
    to it, and those whose confidentiality, conditions, obligations or missing facts it carries.

    An overruled rule is in the rationale too, and so is one whose conclusions
    the answer dropped (conditions on sharing when nothing is shared), but the
    answer is not explained by them."""
    verdict = context.verdict
    shown = {
        "decision": lambda value: value == verdict["decision"],
        "confidentiality": lambda value: value == verdict["confidentiality"],
        "explain_to_subject": lambda value: value == verdict["explain_to_subject"],
        "conditions": lambda value: bool(set(value) & set(ids(context, "conditions"))),
        "obligations": lambda value: bool(set(value) & set(ids(context, "obligations"))),
        "missing": lambda value: bool(set(value) & set(verdict["missing_facts"])),
    }
    return [
        entry
        for entry in verdict["rationale"]
        if entry["role"] in ("decided", "supports")
        or entry["role"] == "applies"
        and any(key in shown and shown[key](value) for key, value in entry["concluded"].items())
    ]


def setting(context, outcome: str, value) -> list[dict]:
    """The rationale entries, not overruled, that concluded `value` for `outcome` (or listed it there)."""
    found = []
    for entry in context.verdict["rationale"]:
        concluded = entry["concluded"].get(outcome)
        if entry["role"] != "overruled" and (concluded == value or isinstance(concluded, list) and value in concluded):
            found.append(entry)
    return found


def set_by_a_rule(context, outcome: str, value) -> None:
    """The verdict's `value` for `outcome` was concluded by a rule, not left at the policy's default."""
    assert setting(context, outcome, value), (
        f"no rule concluded {outcome}: {value!r}; the verdict has it only as the policy's default"
    )


def decided(context, decision: str) -> None:
    verdict = context.verdict
    fired = [entry["rule"] for entry in verdict["rationale"]]
    assert verdict["decision"] == decision, f"decision {verdict['decision']}, not {decision}: " + why_not(
        context.engine.policy, context.facts, fired, "decision", decision, verdict["decision"]
    )


def nothing_shared(context) -> None:
    shared = [piece["item"] for piece in context.verdict["information"] if piece["share"]]
    assert not shared, f"shared: {shared}"


def decision_is(context, decision: str) -> None:
    """Then <a decision's phrase> (registered with the phrases: see vocabulary.py): the decision,
    with what the protocol attaches to it.

    Sharing: the protocol's conditions on sharing, each concluded by a rule;
    every piece of information the case gives is answered, in order, and a
    piece is shared exactly when its own outcome shares it. Not sharing:
    no piece is shared; `refer` directs the query to the co-ordinator by a
    rule that cites that statement; `seek_consent` obliges explaining openly.
    """
    decided(context, decision)
    if decision in context.engine.policy.outcomes["decision"].shares:
        sharing_conditions(context)
        pieces_as_their_outcomes(context)
        return
    nothing_shared(context)
    if decision == "refer":
        assert "direct_query_to_coordinator" in ids(context, "obligations"), ids(context, "obligations")
        by = setting(context, "obligations", "direct_query_to_coordinator")
        assert quoted(context, COORDINATOR, by), "the rule directing the query does not cite the protocol's words"
    if decision == "seek_consent":
        assert "explain_openly" in ids(context, "obligations"), ids(context, "obligations")
        set_by_a_rule(context, "obligations", "explain_openly")
        assert context.verdict["explain_to_subject"] is True


def sharing_conditions(context) -> None:
    """Every condition the protocol puts on sharing is in the verdict, concluded by a rule."""
    present = ids(context, "conditions")
    for condition in context.phrases.conditions.values():
        assert condition in present, f"shared without the condition {condition}: {present}"
        set_by_a_rule(context, "conditions", condition)


def pieces_as_their_outcomes(context) -> None:
    """Each piece the case gives is answered, in order, and shared exactly when its outcome shares."""
    items_fact = context.engine.policy.items_fact
    given = context.facts.get(items_fact.name, []) if items_fact else []
    answered = context.verdict["information"]
    assert [p["item"] for p in answered] == [g.get("item") for g in given], answered
    sharing = set(context.engine.policy.outcomes["item"].shares)
    wrong = [p for p in answered if p["share"] != (p["outcome"] in sharing)]
    assert not wrong, f"pieces shared against their own outcome: {wrong}"


@then("nothing may be shared until the case says {what}")
def undetermined(context, what: str) -> None:
    decided(context, "undetermined")
    nothing_shared(context)
    assert sorted(context.verdict["missing_facts"]) == sorted(context.phrases.facts_named(what)), context.verdict[
        "missing_facts"
    ]


@then("confidentiality cannot be promised")
def no_confidentiality(context) -> None:
    """The verdict says so, and a rule concluded it (it is also the policy's default)."""
    assert context.verdict["confidentiality"] == "cannot_be_promised", context.verdict["confidentiality"]
    set_by_a_rule(context, "confidentiality", "cannot_be_promised")


@then("confidentiality can be offered")
def confidentiality(context) -> None:
    """The verdict says so, and a rule concluded it."""
    assert context.verdict["confidentiality"] == "can_be_offered", context.verdict["confidentiality"]
    set_by_a_rule(context, "confidentiality", "can_be_offered")


@then("the subject is not told before the information is shared")
def not_told(context) -> None:
    """explain_to_subject is false, concluded by a rule, and the practitioner is told not to tell."""
    assert context.verdict["explain_to_subject"] is False
    set_by_a_rule(context, "explain_to_subject", False)
    assert "do_not_tell_subject" in ids(context, "obligations"), ids(context, "obligations")
    set_by_a_rule(context, "obligations", "do_not_tell_subject")


@then("the subject is told openly what would be shared and why")
def told(context) -> None:
    """explain_to_subject is true (the policy's default, so that alone proves nothing), and a rule
    obliges the practitioner to explain openly, citing the protocol's statement on it."""
    assert context.verdict["explain_to_subject"] is True
    assert "explain_openly" in ids(context, "obligations"), ids(context, "obligations")
    by = setting(context, "obligations", "explain_openly")
    assert quoted(context, EXPLAIN_OPENLY, by), "no rule that obliges explaining openly cites the protocol on it"


@then('the rationale cites "{words}"')
def rationale_cites(context, words: str) -> None:
    """A rule whose conclusion the verdict shows (see `standing`) cites these words of the protocol."""
    assert quoted(context, words, standing(context)), (
        f"no rule the verdict rests on cites {words!r}: {[(e['rule'], e['role']) for e in standing(context)]}"
    )


@then("whoever shares it must ensure it is {conditions}")
def conditions(context, conditions: str) -> None:
    """Exactly these conditions, no more, each concluded by a rule."""
    wanted = [context.phrases.condition(c.removeprefix("and ").strip()) for c in conditions.split(", ")]
    assert sorted(ids(context, "conditions")) == sorted(wanted), ids(context, "conditions")
    for condition in wanted:
        set_by_a_rule(context, "conditions", condition)


@then("the means of sharing given must not be used")
def insecure(context) -> None:
    """The channel_not_secure condition is set, by a rule."""
    assert "channel_not_secure" in ids(context, "conditions"), ids(context, "conditions")
    set_by_a_rule(context, "conditions", "channel_not_secure")


@then('the means of sharing given must not be used, citing "{words}"')
def insecure_citing(context, words: str) -> None:
    """As above, and the rule that set the condition cites these words of the protocol."""
    insecure(context)
    by = setting(context, "conditions", "channel_not_secure")
    assert quoted(context, words, by), f"the rule setting channel_not_secure does not cite {words!r}"


@then("there are no conditions, because nothing is shared")
def no_conditions(context) -> None:
    assert context.verdict["conditions"] == [], ids(context, "conditions")


@then('"{item}" is shared')
def item_shared(context, item: str) -> None:
    assert piece(context, item)["share"] is True, piece(context, item)


@then('"{item}" is withheld, citing "{words}"')
def item_withheld(context, item: str, words: str) -> None:
    """The piece is not shared, and a rule that decided its outcome cites these words."""
    found = piece(context, item)
    assert found["share"] is False, found
    index = context.verdict["information"].index(found)
    deciding = [e for e in context.verdict["rationale"] if index in e.get("items", ()) and e["rule"] in found["rules"]]
    assert quoted(context, words, deciding), f"no rule deciding {item!r} cites {words!r}: {found['reasons']}"


@then("the Safeguarding Co-ordinator is to record the decision in the case file with its rationale")
def to_be_recorded(context) -> None:
    assert "record_in_case_file" in ids(context, "obligations"), ids(context, "obligations")
    by = setting(context, "obligations", "record_in_case_file")
    assert quoted(context, "will record in the case file", by), "the rule obliging the record does not cite it"


def piece(context, item: str) -> dict:
    pieces = {p["item"]: p for p in context.verdict["information"]}
    assert item in pieces, f"no piece called {item!r}: {list(pieces)}"
    return pieces[item]
