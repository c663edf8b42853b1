"""The policy as data: its files read with line numbers, their schemas, the model, and the checker.

Holds the YAML source reader, the file schemas, the immutable ``Policy`` model
with its digest, rule conditions, the checker's problems with file and line,
and the fact vocabulary's validation. It may import only the standard library,
ruamel.yaml and marshmallow: nothing here evaluates a case, so the checker
and the loader stay usable without the rules engine.
"""
