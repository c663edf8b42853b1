"""What the app shares between requests: the store, and the policy snapshot that answers.

Everything that depends on the policy (the policy, its engine, the request
schemas generated from its facts, the OpenAPI document) lives in one frozen
PolicySnapshot. A reload builds a whole new snapshot and swaps the single
reference; a request takes the reference once, on first use, and keeps it
to the end, so no request ever sees parts of two versions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import current_app, g
from marshmallow import Schema
from peewee import Database

from infoshare.engine import Engine, Policy
from infoshare.service.access.ratelimit import RateLimiter
from infoshare.service.store.checkpoints import Checkpointer
from infoshare.service.store.signing import Signer


class BodyLoader(Protocol):
    """What loads a request's body: a schema, or ``service.api.payload.QuickLoader`` in front of one."""

    def load(self, data: Any) -> Any: ...


@dataclass(frozen=True)
class PolicySnapshot:
    policy: Policy
    engine: Engine
    loaders: dict[Callable[[type[Schema]], type[Schema]], BodyLoader]  # request-body schema factory -> loader
    openapi: dict[str, Any]

    def loader(self, factory: Callable[[type[Schema]], type[Schema]]) -> BodyLoader:
        """The request-body loader that ``factory`` makes from this version's facts."""
        return self.loaders[factory]


@dataclass(frozen=True)
class Refusal:
    """An activation this process would not follow, and why (``/readyz`` shows it)."""

    activation: int
    digest: str
    reason: str


@dataclass
class ServiceState:
    database: Database
    snapshot: PolicySnapshot
    checkpoints: Checkpointer
    signer: Signer  # the log's signing key: signs this process's activations, checks everyone's
    built: dict[str, PolicySnapshot] = field(default_factory=dict)  # by digest: a version is compiled once
    checked_at: float = 0.0  # monotonic time the active version was last looked up in the store
    refused: Refusal | None = None  # the latest activation, if this process refused it (service.store.guard)
    verified: tuple[int, str] = (0, "0" * 64)  # the chain's link this process verified it up to
    following: int = 0  # the id of the activation this process answers by (never followed back)
    swap_lock: threading.Lock = field(default_factory=threading.Lock)
    vetting: threading.Lock = field(default_factory=threading.Lock)  # one thread vets an activation at a time
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0))  # per client
    anonymous: RateLimiter = field(default_factory=lambda: RateLimiter(0))  # per address, without a valid key

    @property
    def policy(self) -> Policy:
        return self.snapshot.policy

    @property
    def engine(self) -> Engine:
        return self.snapshot.engine


def current() -> ServiceState:
    return current_app.extensions["infoshare"]


def snapshot() -> PolicySnapshot:
    """The snapshot this request answers with: taken once per request."""
    taken = g.get("policy_snapshot")
    if taken is None:
        taken = g.policy_snapshot = current().snapshot
    return taken
