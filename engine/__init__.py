"""infoshare's engine: load a declarative sharing policy, compile it to durable-rules, evaluate cases.

It never imports the service, Flask or peewee: the same engine serves the
HTTP API, the command line and the tests.
"""

from infoshare.engine.evaluator import Engine, EvaluationError
from infoshare.engine.policy.factschema import FactsInvalid, facts_schema
from infoshare.engine.policy.loader import load_policy
from infoshare.engine.policy.model import Policy
from infoshare.engine.policy.problems import PolicyError, Problem
from infoshare.engine.verdict import Verdict

__all__ = [
    "Engine",
    "EvaluationError",
    "FactsInvalid",
    "Policy",
    "PolicyError",
    "Problem",
    "Verdict",
    "facts_schema",
    "load_policy",
]
