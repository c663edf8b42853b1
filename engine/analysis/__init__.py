"""What can be proved or reported about a policy, beyond evaluating one case.

Holds the exhaustive proof of completeness, the impact of a candidate version
on recorded decisions, the traceability (coverage) report, the scenario runs
behind it, the policy's own tests, and the ``check``/``coverage`` command
bodies. It may import ``infoshare.engine`` and ``infoshare.engine.policy``;
never the service, Flask or peewee (decisions to replay are handed in).
"""
