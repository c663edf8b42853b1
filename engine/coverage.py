"""Which Gherkin scenarios exercise which protocol statements.

A scenario names the statements it exercises with tags like
`@clause.consent-general-principle`; tags on a Feature apply to all of its
scenarios. Together with the rules' `implements:` this shows, for every
statement, the rules that implement it and the scenarios that prove it.
"""
from __future__ import annotations

from pathlib import Path

TAG = "@clause."


def scenarios_by_clause(features: Path) -> dict[str, list[str]]:
    """Clause id -> "file: scenario name" for every tagged scenario under `features`."""
    found: dict[str, list[str]] = {}
    for file in sorted(features.glob("**/*.feature")):
        feature_tags: list[str] = []
        pending: list[str] = []
        for raw in file.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if line.startswith("@"):
                pending += [t[len(TAG):] for t in line.split() if t.startswith(TAG)]
            elif line.startswith("Feature:"):
                feature_tags, pending = pending, []
            elif line.startswith(("Scenario:", "Scenario Outline:", "Example:")):
                name = line.split(":", 1)[1].strip()
                for clause_id in dict.fromkeys(feature_tags + pending):
                    found.setdefault(clause_id, []).append(f"{file.relative_to(features)}: {name}")
                pending = []
    return found
