"""The HTTP resources: one module per resource, its blueprint beside its schemas.

Holds decisions, reviews, evaluate, the policy, health, the OpenAPI document,
and the request-body and verdict helpers they share. It may import the
engine, ``infoshare.service.access``, ``infoshare.service.store`` and the
package's top modules (state, errors, request log); nothing imports it but
the app factory.
"""
