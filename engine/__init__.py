"""infoshare's engine: load a declarative sharing policy, compile it to durable-rules, evaluate cases.

It never imports the service, Flask or peewee: the same engine serves the
HTTP API, the command line and the tests.
"""
from .evaluator import Engine, EvaluationError
from .factschema import FactsInvalid, facts_schema
from .loader import load_policy
from .model import Policy
from .problems import PolicyError, Problem
from .verdict import Verdict

__all__ = [
    "Engine", "EvaluationError", "FactsInvalid", "Policy", "PolicyError", "Problem", "Verdict",
    "facts_schema", "load_policy",
]
