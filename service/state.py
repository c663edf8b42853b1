"""What the app loads once at start and every request shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from peewee import Database

from engine import Engine, Policy
from service.ratelimit import RateLimiter


@dataclass
class ServiceState:
    policy: Policy
    engine: Engine
    database: Database
    openapi: dict = field(default_factory=dict)
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0))


def current() -> ServiceState:
    return current_app.extensions["infoshare"]
