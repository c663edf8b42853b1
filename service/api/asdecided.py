"""A recorded decision re-explained under the policy version it was decided under.

``GET /v1/decisions/<id>?explain=as-decided`` adds ``as_decided``: the
version's id, version and digest; whether the store holds its text; whether
evaluating the recorded facts under that text again gives the recorded
decision (``reproduced``); and each rule that fired, with its role, the
protocol clauses it cites, and its text exactly as written in that version
(file, line, YAML). It answers the same after the policy files have changed
or a reload has moved the service on, because the text comes from the
store, keyed by the digest the decision carries.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields

from infoshare.engine import Policy
from infoshare.service.api.verdicts import CatalogueEntrySchema, PolicyRefSchema
from infoshare.service.reload import build
from infoshare.service.state import current
from infoshare.service.store import versions
from infoshare.service.store.models import Decision


class RuleAsWrittenSchema(Schema):
    rule = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "decided, supports, applies or overruled."})
    because = fields.String(required=True)
    clauses = fields.List(fields.Nested(CatalogueEntrySchema), required=True)
    source = fields.String(required=True, metadata={"description": "File and line in that version."})
    text = fields.String(required=True, metadata={"description": "The rule's YAML in that version."})


class AsDecidedSchema(Schema):
    policy = fields.Nested(PolicyRefSchema, required=True)
    stored = fields.Boolean(
        required=True,
        metadata={"description": "The store holds this version's text, unaltered (it still hashes to the digest)."},
    )
    reproduced = fields.Boolean(metadata={"description": "Re-evaluating the facts gives the recorded decision."})
    rules = fields.List(
        fields.Nested(RuleAsWrittenSchema),
        metadata={"description": "Every rule that fired, as written in that version."},
    )


def as_decided(decision: Decision) -> dict[str, Any]:
    ref = {"id": decision.policy_id, "version": decision.policy_version, "digest": decision.policy_digest}
    state = current()
    snapshot = state.built.get(decision.policy_digest)
    if snapshot is None:
        policy = versions.stored(decision.policy_digest)
        if policy is None:
            return {"policy": ref, "stored": False}
        snapshot = state.built.setdefault(policy.digest, build(current_app, policy))
    policy = snapshot.policy
    verdict = snapshot.engine.evaluate(decision.facts)
    return {
        "policy": ref,
        "stored": True,
        "reproduced": verdict.decision == decision.decision,
        "rules": [
            {
                "rule": entry["rule"],
                "role": entry["role"],
                "because": entry["because"],
                "clauses": entry["clauses"],
                "source": entry["source"],
                "text": rule_text(policy, entry["rule"]),
            }
            for entry in verdict.rationale
        ],
    }


def rule_text(policy: Policy, rule_id: str) -> str:
    """The rule's lines as written: from its `- id:` line to the next rule at the same indent."""
    rule = next(r for r in policy.rules if r.id == rule_id)
    lines = policy.files[rule.file].splitlines()
    start = rule.line - 1
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.lstrip()
        if stripped and (
            len(line) - len(stripped) < indent or (len(line) - len(stripped) == indent and stripped.startswith("- "))
        ):
            break
        end += 1
    return "\n".join(lines[start:end]).rstrip() + "\n"
