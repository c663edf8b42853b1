"""The peer engines a user might pick instead, each running the same decision logic.

The logic is hand-translated from policies/information-sharing into each
peer's own language (bench/peers/): Rego for OPA's language (run by regopy,
the C++ rego-cpp interpreter, and by regorus, a Rust interpreter), Cedar, and
a GoRules JSON decision model for zen-engine. Each peer answers the decision
only; infoshare's verdict also explains itself, lists conditions, obligations
and each piece of information, so the comparison flatters the peers.

Each `decide` takes a case's facts as the API takes them and returns one of
the contract's decisions, doing per case everything a caller of that engine
would have to (serialising the input, reading the answer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "peers"
REGO = HERE / "infoshare.rego"
CEDAR = HERE / "infoshare.cedar"
JDM = HERE / "infoshare.jdm.json"
PRECEDENCE = ["do_not_share", "undetermined", "refer", "seek_consent", "share_without_consent", "share"]


@dataclass
class Peer:
    name: str
    package: str
    decide: Callable[[dict[str, Any]], str]

    @property
    def version(self) -> str:
        return version(self.package)


def regorus_peer() -> Peer:
    import regorus

    engine = regorus.Engine()
    engine.add_policy(REGO.name, REGO.read_text())

    def decide(facts: dict[str, Any]) -> str:
        engine.set_input_json(json.dumps(facts))
        return engine.eval_rule("data.infoshare.decision")

    return Peer("regorus (Rego, Rust)", "gordon-to-regorus", decide)


def regopy_peer() -> Peer:
    import regopy

    interpreter = regopy.Interpreter()
    interpreter.add_module("infoshare", REGO.read_text())
    bundle = interpreter.build("data.infoshare.decision")

    def decide(facts: dict[str, Any]) -> str:
        interpreter.set_input_term(json.dumps(facts))
        output = interpreter.query_bundle(bundle)
        if not output.ok():
            raise RuntimeError(f"regopy: {output}")
        return json.loads(str(output))["expressions"][0]

    return Peer("regopy (Rego, C++)", "regopy", decide)


def cedar_peer() -> Peer:
    import cedarpy

    source = CEDAR.read_text()
    policies = cedarpy.PolicySet.from_str(source)
    entities = cedarpy.Entities.from_json_str("[]")
    # Cedar names unnamed policies policy0, policy1, ... in file order; each @id says what it concludes.
    concludes = {f"policy{n}": decision for n, decision in enumerate(re.findall(r'@id\("(\w+)/', source))}

    def decide(facts: dict[str, Any]) -> str:
        result = cedarpy.is_authorized(
            {
                "principal": 'Caseworker::"asker"',
                "action": 'Action::"decide"',
                "resource": 'Case::"case"',
                "context": facts,
            },
            policies,
            entities,
        )
        if result.diagnostics.errors:
            raise RuntimeError(f"cedar: {result.diagnostics.errors}")
        concluded = {concludes[reason] for reason in result.diagnostics.reasons}
        if "contradiction" in concluded:  # facts that cannot hold together: the Co-ordinator decides
            return "refer"
        return next((d for d in PRECEDENCE if d in concluded), "refer")

    return Peer("cedarpy (Cedar, Rust)", "cedarpy", decide)


def zen_peer() -> Peer:
    import zen

    decision = zen.ZenEngine().create_decision(JDM.read_text())

    def decide(facts: dict[str, Any]) -> str:
        return decision.evaluate(facts)["result"]["decision"]

    return Peer("zen-engine (JDM, Rust)", "zen-engine", decide)


PEERS = (regorus_peer, regopy_peer, cedar_peer, zen_peer)
