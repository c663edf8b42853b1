"""The application factory: load the policy once, open the store, wire the blueprints."""

from __future__ import annotations

from flask import Flask
from peewee import Database, SqliteDatabase

from engine import Engine, facts_schema, load_policy
from service import config, decisions, evaluate, health, openapi, policy, reviews
from service.errors import register_error_handlers
from service.ratelimit import RateLimiter
from service.requestlog import configure_logging, init_request_log
from service.state import ServiceState
from service.store import open_store

DESCRIPTION = (
    "Decides whether information about a child or adult may be shared, with whom, on what "
    "basis and under what conditions, from a declarative policy; records every decision with "
    "its rationale. Every /v1 call needs 'Authorization: Bearer <key>' "
    "(`infoshare keys create --role ...`)."
)


def create_app(settings: dict | None = None) -> Flask:
    """Build the service. ``settings`` override the environment (tests pass them).

    Raises ``engine.PolicyError`` if the policy is broken, so a broken policy
    never serves, and a peewee error if the store cannot be opened.
    """
    app = Flask(__name__, static_folder=None)
    app.config.update(config.from_environment())
    app.config.update(settings or {})
    configure_logging()

    loaded = load_policy(app.config["INFOSHARE_POLICY"])
    facts = facts_schema(loaded)
    state = ServiceState(
        policy=loaded,
        engine=Engine(loaded),
        database=open_store(app.config["DATABASE_URL"]),
        limiter=RateLimiter(app.config["INFOSHARE_RATE_LIMIT"]),
    )
    app.extensions["infoshare"] = state

    init_request_log(app)
    register_error_handlers(app)
    _close_connection_after_each_request(app, state.database)
    app.register_blueprint(decisions.blueprint(facts))
    app.register_blueprint(reviews.bp)
    app.register_blueprint(evaluate.blueprint(facts))
    app.register_blueprint(policy.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    state.openapi = openapi.build_spec(app, "infoshare", DESCRIPTION)
    return app


def _close_connection_after_each_request(app: Flask, database: Database) -> None:
    """A server database connection is returned after each request, so none sits
    idle or goes stale between requests (``postgresql+pool://`` pools them).
    An sqlite connection is a file handle: each worker thread keeps its own open
    (peewee's connections are per thread), which spares every request the
    connect and PRAGMA set-up; workers are forked before any is opened."""
    if isinstance(database, SqliteDatabase):
        return

    @app.teardown_request
    def close(_exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()
