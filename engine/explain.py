"""A verdict as plain text for practitioners and policy owners reading a terminal."""

from __future__ import annotations

import textwrap
from typing import Any


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def render_verdict(verdict: dict[str, Any]) -> str:
    yes_no = {True: "yes", False: "no"}
    lines = [f"Decision: {verdict['decision']}"]
    lines += [_wrap(b, "  ") for b in verdict["basis"]]
    lines.append(f"Confidentiality: {verdict['confidentiality'].replace('_', ' ')}")
    lines.append(f"Explain to the subject: {yes_no[verdict['explain_to_subject']]}")
    if verdict["missing_facts"]:
        lines.append(f"Missing facts: {', '.join(verdict['missing_facts'])}")
    for title, key in (("Conditions on sharing", "conditions"), ("Obligations", "obligations")):
        if verdict[key]:
            lines.append(f"{title}:")
            lines += [_wrap(entry["text"], "  - ") for entry in verdict[key]]
    if verdict["information"]:
        lines.append("Information:")
        for item in verdict["information"]:
            mark = "share" if item["share"] else "withhold"
            lines.append(f"  [{mark}] {item['item']}")
            lines += [_wrap(r, "      ") for r in item["reasons"]]
    lines.append("Rationale:")
    for entry in verdict["rationale"]:
        lines.append(f"  {entry['role']:<9} {entry['rule']} ({entry['source']})")
        lines.append(_wrap(entry["because"], "            "))
        for clause in entry["clauses"]:
            lines.append(_wrap(f'[{clause["id"]}] "{clause["text"]}"', "            "))
    policy = verdict["policy"]
    lines.append(f"Policy: {policy['id']} {policy['version']} (sha256 {policy['digest']})")
    return "\n".join(lines)
