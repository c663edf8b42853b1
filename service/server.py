"""Serve the app with gunicorn's sync workers, configured in code rather than a file.

Sync workers suit this service: each request is a short evaluation plus one
INSERT, and processes (not threads) share nothing but the database. The app
is built once in the master before workers fork, so a broken policy stops
the command before any port is bound, and every worker serves the same
loaded policy. Request logs are the app's JSON lines; gunicorn's own access
log is off so there is one line per request.

SIGHUP to the master reloads the policy safely (see service.reload): the
master loads and checks the folder before gunicorn forks the new workers.

Database sessions belong to one process each (``service.store.connections``):
the master closes every connection it holds before it forks a worker, and
each worker, and the master, closes its own as it exits, so after SIGTERM no
session of the server is left on the database.
"""

from __future__ import annotations

import logging

from flask import Flask
from gunicorn.app.base import BaseApplication
from peewee import PeeweeException

from infoshare.engine import PolicyError
from infoshare.service.reload import reload_from_files
from infoshare.service.store.connections import release

log = logging.getLogger("infoshare.policy")


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def _reload_on_hup(app: Flask):
    """gunicorn's on_reload hook: runs in the master on SIGHUP, before new workers fork."""

    def on_reload(_arbiter: object) -> None:
        try:
            reload_from_files(app, "SIGHUP")
        except PolicyError as exc:
            log.error("SIGHUP: the policy was not reloaded; the previous version keeps answering:\n%s", exc)
        except PeeweeException as exc:
            log.error("SIGHUP: the policy was not reloaded: the store failed (%s)", type(exc).__name__)

    return on_reload


def run(app: Flask, host: str, port: int, workers: int) -> None:
    """Serve until SIGTERM or SIGINT; gunicorn exits the process on fatal errors."""
    database = app.extensions["infoshare"].database
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "preload_app": True,
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "infoshare",
            # One control socket per user by default: two servers would fight over it.
            "control_socket_disable": True,
            "on_reload": _reload_on_hup(app),
            # Before each fork (in the master) and at each exit (worker, master): see the docstring.
            "pre_fork": lambda _arbiter, _worker: release(database),
            "worker_exit": lambda _arbiter, _worker: release(database),
            "on_exit": lambda _arbiter: release(database),
        },
    ).run()
