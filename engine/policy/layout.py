"""One canonical layout for rule files, as `infoshare fmt` writes it (like `opa fmt`, `cedar format`).

Round-trips through ruamel.yaml, so comments stay where they are written;
each rule's keys are put in reading order (id, implements, when, for each
item, then, because), maps indent by 2, list items by 2 under their key with
the dash inside, and no line is wrapped. A layout that would change what the
file means is never written: the text is re-read and compared first.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from infoshare.engine.policy.yamlsource import parse_yaml

RULE_KEYS = ("id", "implements", "when", "for each item", "then", "because")


class LayoutChangesMeaning(Exception):
    """The formatter would change the data: nothing is written (a bug to report, never to ignore)."""


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = True
    return yaml


def formatted(text: str, name: str) -> str:
    """The canonical text of the rule file `name`; YamlSyntaxError if it cannot be read."""
    before = parse_yaml(text.encode("utf-8"), name).data
    yaml = _yaml()
    data = yaml.load(text)
    rules = data.get("rules") if isinstance(data, CommentedMap) else None
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, CommentedMap):
            _order(rule)
    out = io.StringIO()
    yaml.dump(data, out)
    result = out.getvalue()
    if parse_yaml(result.encode("utf-8"), name).data != before:
        raise LayoutChangesMeaning(f"{name}: the canonical layout would change what the file says; it is left as it is")
    return result


def _order(rule: CommentedMap) -> None:
    """Put the rule's keys in reading order; a key's comments are kept by key, so they move with it."""
    known = [key for key in RULE_KEYS if key in rule]
    others = [key for key in rule if key not in RULE_KEYS]
    if list(rule) == known + others:
        return
    values: dict[Any, Any] = {key: rule[key] for key in known + others}
    for key in list(rule):
        del rule[key]
    for key in known + others:
        rule[key] = values[key]
