"""Load a policy folder into a Policy, or refuse it with every problem listed.

The folder holds policy.yaml, protocol.yaml, facts.yaml, grounds.yaml (the
scope of each ground for sharing without consent; a policy may do without
one) and rules/*.yaml.
Structure is checked with marshmallow (schemas.py), meaning with checks.py;
nothing half-checked is ever returned, so a broken edit can never replace a
working policy in a running service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError

from infoshare.engine.policy.checks import Known, check_policy, check_rule
from infoshare.engine.policy.conditions import Scope, parse_conditions, suggest
from infoshare.engine.policy.model import NOT_GIVEN, Clause, Conclusion, Fact, Ground, ItemField, Outcome, Policy, Rule
from infoshare.engine.policy.problems import PolicyError, Problem
from infoshare.engine.policy.schemas import (
    FactsSchema,
    GroundsSchema,
    PolicySchema,
    ProtocolSchema,
    RuleSchema,
    allowed_keys,
)
from infoshare.engine.policy.yamlsource import Source, read_or_report


def shipped(package: str) -> Path:
    """A folder shipped as package data (``infoshare.policies``, ``infoshare.features``), wherever
    the package is installed: the checkout when installed editable, site-packages otherwise."""
    return Path(str(resources.files(package)))


SHIPPED_POLICY = shipped("infoshare.policies") / "information-sharing"
SHIPPED_FEATURES = shipped("infoshare.features")
POLICY_FILES = ("policy.yaml", "protocol.yaml", "facts.yaml")
# Kept with a version (stored with its text, so its scenarios can be run from the store) but not
# part of its identity: the practitioner's phrases change no decision.
COMPANION_FILES = ("phrases.yaml",)
GROUNDS_FILE = "grounds.yaml"  # optional: versions stored before it existed still load
RULES_DIR = "rules"
THEN_KEYS = ("decision", "confidentiality", "explain_to_subject", "item", "conditions", "obligations", "missing")


def policy_files(directory: Path) -> list[Path]:
    """The files that make up the policy, in the order they are digested."""
    rules = sorted((directory / RULES_DIR).glob("*.yaml")) if (directory / RULES_DIR).is_dir() else []
    grounds = [directory / GROUNDS_FILE] if (directory / GROUNDS_FILE).is_file() else []
    return [directory / name for name in POLICY_FILES] + grounds + rules


def read_policy_files(directory: Path) -> dict[str, bytes]:
    """Every policy file's bytes by its path inside the folder (e.g. `rules/3-consent.yaml`), and
    the companion files (COMPANION_FILES) that travel with it."""
    companions = [directory / name for name in COMPANION_FILES]
    return {
        file.relative_to(directory).as_posix(): file.read_bytes()
        for file in policy_files(directory) + companions
        if file.is_file()
    }


def digest_of_files(files: Mapping[str, bytes | str]) -> str:
    """sha256 over each file's name and bytes, in digest order: the policy's identity."""
    sha = hashlib.sha256()
    for name in _digest_order(files):
        data = files[name]
        sha.update(name.encode() + b"\0")
        sha.update((data.encode("utf-8") if isinstance(data, str) else data) + b"\0")
    return sha.hexdigest()


def digest_of(directory: Path) -> str:
    return digest_of_files(read_policy_files(directory))


def _digest_order(files: Mapping[str, bytes | str]) -> list[str]:
    rules = sorted(n for n in files if n.startswith(f"{RULES_DIR}/") and n.endswith(".yaml"))
    return [n for n in (*POLICY_FILES, GROUNDS_FILE) if n in files] + rules


def load_policy(directory: str | Path) -> Policy:
    """Read, validate and check the policy in `directory`; raise PolicyError listing every problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PolicyError([Problem(str(directory), 1, "no such policy folder; give the folder that holds policy.yaml")])
    return load_policy_files(read_policy_files(directory), directory)


def load_policy_files(files: Mapping[str, bytes | str], directory: Path | None = None) -> Policy:
    """Validate and check a policy given as its files' text by name (as read_policy_files returns
    them, or as the store keeps a version), so a stored version is rebuilt exactly as it was."""
    texts = {name: data.encode("utf-8") if isinstance(data, str) else data for name, data in files.items()}
    where = str(directory) if directory is not None else "the policy"
    problems: list[Problem] = []
    head: dict[str, tuple[Source, Any]] = {}
    for name, schema in zip(POLICY_FILES, (PolicySchema(), ProtocolSchema(), FactsSchema())):
        loaded = _load_file(texts, name, where, schema, problems)
        if loaded is not None:
            head[name] = loaded
    grounds_read = _load_file(texts, GROUNDS_FILE, where, GroundsSchema(), problems) if GROUNDS_FILE in texts else None
    rule_sources = _load_rules(texts, problems)
    all_rules_read = not problems
    if len(head) < len(POLICY_FILES) or (GROUNDS_FILE in texts and grounds_read is None):
        raise PolicyError(problems)

    policy_src, policy_data = head["policy.yaml"]
    protocol_src, protocol_data = head["protocol.yaml"]
    facts_src, facts_data = head["facts.yaml"]
    facts = tuple(_fact(raw) for raw in facts_data["facts"])
    by_name = {f.name: f for f in facts}
    problems.extend(_check_sets(facts_src, facts_data["facts"], by_name))
    grounds, scope = _grounds(grounds_read, by_name, problems)
    warnings: list[Problem] = []
    rules: list[Rule] = []
    known = Known(
        facts=by_name,
        clauses={c["id"]: c["normative"] for c in protocol_data["clauses"]},
        outcomes=policy_data["outcomes"],
        conditions=policy_data["conditions"],
        obligations=policy_data["obligations"],
    )
    for index, raw in enumerate(facts_data["contradictions"]):
        rule, found = _contradiction(facts_src, index, raw, known, warnings)
        problems.extend(found)
        rules.append(rule)
    for source, index, raw in rule_sources:
        rule, found = _rule(source, index, raw, known, warnings, scope)
        problems.extend(found)
        rules.append(rule)  # kept even when faulty, so that checks across rules see it

    policy = Policy(
        id=policy_data["id"],
        version=policy_data["version"],
        title=policy_data["title"],
        digest=digest_of_files(texts),
        directory=directory,
        clauses=tuple(
            Clause(c["id"], " ".join(c["text"].split()), c["normative"], c.get("informative_because"))
            for c in protocol_data["clauses"]
        ),
        facts=facts,
        rules=tuple(rules),
        outcomes={name: _outcome(name, o) for name, o in policy_data["outcomes"].items()},
        conditions=dict(policy_data["conditions"]),
        obligations=dict(policy_data["obligations"]),
        protocol_title=protocol_data["title"],
        files={
            name: texts[name].decode("utf-8") for name in [*_digest_order(texts), *COMPANION_FILES] if name in texts
        },
        grounds=grounds,
        warnings=tuple(sorted(set(warnings))),
    )
    problems.extend(check_policy(policy, policy_src, protocol_src, facts_src, all_rules_read))
    if problems:
        raise PolicyError(problems)
    return policy


def _outcome(name: str, raw: dict[str, Any]) -> Outcome:
    """An entry of `precedence` is one value, or a list of values that rank the same."""
    levels = tuple(tuple(entry) if isinstance(entry, list) else (entry,) for entry in raw["precedence"])
    return Outcome(
        name, tuple(v for level in levels for v in level), raw["otherwise"], tuple(raw.get("shares", ())), levels
    )


def _load_file(
    files: Mapping[str, bytes], name: str, where: str, schema: Schema, problems: list[Problem]
) -> tuple[Source, Any] | None:
    if name not in files:
        problems.append(Problem(name, 1, f"the policy needs {name} in {where}; it is missing"))
        return None
    source = read_or_report(files[name], name, problems)
    if source is None:
        return None
    data, found = validate(schema, source.data, source, ())
    problems.extend(found)
    return None if found else (source, data)


def _load_rules(files: Mapping[str, bytes], problems: list[Problem]) -> list[tuple[Source, int, dict[str, Any]]]:
    """Every rule that is well formed, with its file; each malformed one becomes a Problem."""
    names = [n for n in _digest_order(files) if n.startswith(f"{RULES_DIR}/")]
    if not names:
        problems.append(Problem(f"{RULES_DIR}/", 1, "the policy has no rule files; add rules/*.yaml"))
    out = []
    for name in names:
        source = read_or_report(files[name], name, problems)
        if source is None:
            continue
        data = source.data
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            problems.append(source.problem((), "a rule file is `rules:` followed by a list of rules (`- id: ...`)"))
            continue
        extra = sorted(set(data) - {"rules"})
        if extra:
            problems.append(source.problem((extra[0],), f"unknown key `{extra[0]}`; a rule file holds only `rules:`"))
        for index, raw in enumerate(data["rules"]):
            rule, found = validate(RuleSchema(), raw, source, ("rules", index))
            problems.extend(found)
            if not found:
                out.append((source, index, rule))
    return out


def validate(schema: Schema, data: Any, source: Source, path: tuple[Any, ...]) -> tuple[Any, list[Problem]]:
    """Load `data` with `schema`; every error becomes a Problem at its own line."""
    if not isinstance(data, dict):
        return None, [source.problem(path, "expected `key: value` entries here")]
    try:
        return schema.load(data), []
    except ValidationError as err:
        return None, [source.problem(path + p, _plain_message(schema, p, m)) for p, m in _flatten(err.messages, ())]


def _flatten(messages: Any, path: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            out.extend(_flatten(value, path if key == "_schema" else path + (key,)))
        return out
    if isinstance(messages, list):
        return [(path, str(m)) for m in messages if not isinstance(m, (dict, list))] + [
            item for m in messages if isinstance(m, (dict, list)) for item in _flatten(m, path)
        ]
    return [(path, str(messages))]


PLAIN_TYPE_ERRORS = {
    "Not a valid string.": "must be text",
    "Not a valid boolean.": "must be true or false",
    "Not a valid list.": "must be a list, for example [a, b]",
    "Not a valid mapping type.": "must be `key: value` entries",
    "Invalid input type.": "has the wrong kind of value",
}


def _plain_message(schema: Schema, path: tuple[Any, ...], message: str) -> str:
    """marshmallow's message, reworded for someone editing YAML."""
    key = next((str(p) for p in reversed(path) if not isinstance(p, int)), "this entry")
    if message == "Unknown field.":
        allowed = allowed_keys(schema, path[:-1]) or []
        return f"unknown key `{key}`{suggest(key, allowed)}; the keys allowed here are: {', '.join(allowed)}"
    if message == "Missing data for required field.":
        return f"`{key}` is missing; add it"
    if message == "Field may not be null.":
        return (
            f"`{key}` has nothing after it; give its value after the colon, or its entries on the "
            "lines below, indented two spaces more than it"
        )
    if message in PLAIN_TYPE_ERRORS:
        return f"`{key}` {PLAIN_TYPE_ERRORS[message]}"
    return f"`{key}`: {message}"


def _fact(raw: dict[str, Any]) -> Fact:
    return Fact(
        name=raw["name"],
        type=raw["type"],
        question=" ".join(raw["question"].split()),
        values=tuple(raw.get("values", ())),
        required=raw["required"],
        derived=raw["derived"],
        fields=tuple(ItemField(f["name"], f["type"], f["required"], f["question"]) for f in raw.get("fields", ())),
        labels=tuple((value, " ".join(text.split())) for value, text in (raw.get("labels") or {}).items()),
        sets=tuple((name, tuple(values)) for name, values in raw.get("sets", {}).items()),
    )


def _check_sets(source: Source, raw_facts: list[dict[str, Any]], facts: dict[str, Fact]) -> list[Problem]:
    """A named set holds values of its own fact (or the keyword for a fact the case does not give)."""
    problems = []
    for i, raw in enumerate(raw_facts):
        fact = facts[raw["name"]]
        for name, values in raw.get("sets", {}).items():
            if name in fact.values:
                problems.append(
                    source.problem(
                        ("facts", i, "sets", name),
                        f"set `{name}` has the name of a value of `{fact.name}`; give the set another name",
                    )
                )
            for value in values:
                if value not in fact.values and value != NOT_GIVEN:
                    problems.append(
                        source.problem(
                            ("facts", i, "sets", name),
                            (
                                f"`{value}` in set `{name}` is not a value of `{fact.name}`"
                                f"{suggest(value, list(fact.values))}; the values are: {', '.join(fact.values)}"
                                f" (and `{NOT_GIVEN}`)"
                            ),
                        )
                    )
    return problems


def _grounds(
    read: tuple[Source, Any] | None, facts: dict[str, Fact], problems: list[Problem]
) -> tuple[tuple[Ground, ...], Scope | None]:
    """The grounds of grounds.yaml, each pair checked against the vocabulary."""
    if read is None:
        return (), None
    source, data = read
    names = {}
    for key in ("purpose", "recipient"):
        fact = facts.get(data[key])
        if fact is None or fact.type != "choice" or fact.derived:
            choices = [n for n, f in facts.items() if f.type == "choice" and not f.derived]
            problems.append(
                source.problem(
                    (key,),
                    (
                        f"`{key}: {data[key]}` must name a fact a case gives with one value"
                        f"{suggest(str(data[key]), choices)}; the facts are: {', '.join(choices)}"
                    ),
                )
            )
            return (), None
        names[key] = fact
    grounds = []
    for i, raw in enumerate(data["grounds"]):
        pairs: list[tuple[str, str]] = []
        for j, entry in enumerate(raw["serves"]):
            here = ("grounds", i, "serves", j)
            for key, values in (("purpose", [entry["purpose"]]), ("recipients", entry["recipients"])):
                fact = names["purpose" if key == "purpose" else "recipient"]
                for value in values:
                    if value not in fact.values:
                        problems.append(
                            source.problem(
                                here + (key,),
                                (
                                    f"`{value}` is not a value of `{fact.name}`{suggest(value, list(fact.values))}; "
                                    f"the values are: {', '.join(fact.values)}"
                                ),
                            )
                        )
            pairs += [(entry["purpose"], r) for r in entry["recipients"] if (entry["purpose"], r) not in pairs]
        grounds.append(
            Ground(
                raw["id"], " ".join(raw["title"].split()), tuple(pairs), source.name, source.line(("grounds", i, "id"))
            )
        )
    seen: set[str] = set()
    for i, ground in enumerate(grounds):
        if ground.id in seen:
            problems.append(
                source.problem(("grounds", i, "id"), f"duplicate ground id `{ground.id}`; each must be unique")
            )
        seen.add(ground.id)
    return tuple(grounds), Scope(names["purpose"].name, names["recipient"].name, {g.id: g for g in grounds})


def _contradiction(
    source: Source, index: int, raw: dict[str, Any], known: Known, warnings: list[Problem]
) -> tuple[Rule, list[Problem]]:
    """A declared contradiction becomes a rule that refers the case, naming the contradiction."""
    path = ("contradictions", index)
    then = {"decision": "refer", **({"obligations": raw["obligations"]} if raw.get("obligations") else {})}
    problems = check_rule(source, path, {"implements": raw["implements"], "then": then}, known)
    case_facts = [n for n, f in known.facts.items() if f.type != "items" and not f.derived]
    when, found = parse_conditions(
        raw["facts"],
        source,
        path + ("facts",),
        lambda n: known.facts[n] if n in case_facts else None,
        case_facts,
        "fact",
        warnings,
    )
    problems.extend(found)
    rule = Rule(
        id=raw["id"],
        implements=tuple(raw["implements"]),
        when=tuple(when),
        for_each_item=(),
        then=Conclusion(decision="refer", obligations=_as_tuple(raw.get("obligations"))),
        because=" ".join(raw["because"].split()),
        file=source.name,
        line=source.line(path + ("id",)),
        contradiction=True,
    )
    return rule, problems


def _as_tuple(value: Any) -> tuple[Any, ...]:
    """`x` and `[x]` mean the same in a rule's `then:`."""
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def _rule(
    source: Source, index: int, raw: dict[str, Any], known: Known, warnings: list[Problem], scope: Scope | None
) -> tuple[Rule, list[Problem]]:
    path = ("rules", index)
    facts = known.facts
    problems = check_rule(source, path, raw, known)
    case_facts = [n for n, f in facts.items() if f.type != "items"]
    when, found = parse_conditions(
        raw.get("when", {}),
        source,
        path + ("when",),
        lambda n: facts[n] if n in case_facts else None,
        case_facts,
        "fact",
        warnings,
        scope,
    )
    problems.extend(found)
    items = next((f for f in facts.values() if f.type == "items"), None)
    item_fields = {f.name: f for f in items.fields} if items else {}
    per_item, found = parse_conditions(
        raw.get("for_each_item", {}),
        source,
        path + ("for each item",),
        item_fields.get,
        list(item_fields),
        "item field",
        warnings,
    )
    problems.extend(found)
    then = raw["then"]
    conclusion = Conclusion(
        decision=then.get("decision"),
        confidentiality=then.get("confidentiality"),
        explain_to_subject=then.get("explain_to_subject"),
        item=then.get("item"),
        conditions=_as_tuple(then.get("conditions")),
        obligations=_as_tuple(then.get("obligations")),
        missing=_as_tuple(then.get("missing")),
        derive=tuple((k, v) for k, v in then.items() if k not in THEN_KEYS),
    )
    rule = Rule(
        id=raw["id"],
        implements=tuple(raw["implements"]),
        when=tuple(when),
        for_each_item=tuple(per_item),
        then=conclusion,
        because=" ".join(raw["because"].split()),
        file=source.name,
        line=source.line(path + ("id",)),
    )
    return rule, problems
