"""The application factory: load the policy once, open the store, wire the blueprints."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from types import FunctionType
from typing import Any

from flask import Flask
from peewee import Database, SqliteDatabase

from infoshare.engine import Policy, load_policy
from infoshare.service import config, reload
from infoshare.service.access.ratelimit import RateLimiter
from infoshare.service.api import decisions, docs, evaluate, events, health, interview, openapi, policy, queue, reviews
from infoshare.service.bodylimit import WholeChunkedBody
from infoshare.service.errors import register_error_handlers
from infoshare.service.requestlog import configure_logging, init_request_log
from infoshare.service.state import ServiceState
from infoshare.service.store import checkpoints, linkseal, signing
from infoshare.service.store.database import open_store
from infoshare.service.web import init_app as init_web


class Service(Flask):
    """Flask, asking once per function whether it must be run as a coroutine: Flask asks it of
    every hook and view on every request (seven times a request here, ~0.01 ms in all), and the
    answer for a function never changes. Only plain functions found to need no wrapping are
    remembered (a bound method is a new object each time it is taken), and only for as long as
    they live, so a function made for one request is not kept for the life of the process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if func in self._sync:
            return func
        made = super().ensure_sync(func)
        if made is func and type(func) is FunctionType:
            self._sync.add(func)
        return made


def create_app(settings: dict | None = None, loaded: Policy | None = None) -> Flask:
    """Build the service. ``settings`` override the environment (tests pass them);
    ``loaded``, a policy already loaded, is served instead of the INFOSHARE_POLICY folder
    (the scenarios run the service on variants of a policy).

    Raises ``engine.PolicyError`` if the policy is broken, so a broken policy
    never serves, and a peewee error if the store cannot be opened.
    """
    app = Service(__name__, static_folder=None)
    app.config.update(config.from_environment())
    app.config.update(settings or {})
    configure_logging()

    loaded = loaded or load_policy(app.config["INFOSHARE_POLICY"])
    linkseal.use(signing.load_or_create(app.config["INFOSHARE_LOG_SIGNING_KEY_FILE"]))  # before the start's own writes
    database = open_store(app.config["DATABASE_URL"])

    init_request_log(app)
    register_error_handlers(app)
    app.before_request(openapi.refuse_undocumented_query_parameters)
    app.before_request(lambda: reload.follow_active_version(app))
    _close_connection_after_each_request(app, database)
    app.register_blueprint(decisions.blueprint())
    app.register_blueprint(reviews.bp)
    app.register_blueprint(queue.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(evaluate.blueprint())
    app.register_blueprint(interview.blueprint())
    app.register_blueprint(policy.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(docs.bp)
    init_web(app)
    checkpointer = checkpoints.for_app(database, app.config)  # signs once started, or inline (see there)
    app.extensions["infoshare"] = ServiceState(
        database=database,
        snapshot=reload.build(app, loaded),
        checkpoints=checkpointer,
        signer=checkpointer.signer,
        limiter=RateLimiter(app.config["INFOSHARE_RATE_LIMIT"]),
        anonymous=RateLimiter(app.config["INFOSHARE_ANONYMOUS_RATE_LIMIT"]),
    )
    reload.start(app, loaded)
    checkpointer.sign_a_new_store()
    app.wsgi_app = WholeChunkedBody(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
    return app


def _close_connection_after_each_request(app: Flask, database: Database) -> None:
    """A server database connection is given back to the process's pool after each
    request (``service.store.connections``), which checks it before its next use.
    An sqlite connection is a file handle: each worker thread keeps its own open
    (peewee's connections are per thread), which spares every request the
    connect and PRAGMA set-up; workers are forked before any is opened."""
    if isinstance(database, SqliteDatabase):
        return

    @app.teardown_request
    def close(_exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()
