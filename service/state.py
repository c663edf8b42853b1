"""What the app loads once at start and every request shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from peewee import Database

from engine import Engine, Policy


@dataclass
class ServiceState:
    policy: Policy
    engine: Engine
    database: Database
    openapi: dict = field(default_factory=dict)


def current() -> ServiceState:
    return current_app.extensions["infoshare"]
