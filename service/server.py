"""Serve the app with gunicorn, configured in code rather than a file.

The front is gunicorn's ``gthread`` worker: each worker process has one
thread that watches every open connection and a pool of threads that read
requests and run the app. New connections are spread evenly over the
workers (``service.balance``), so a caller's few kept-alive connections do
not pile up on one worker while another has room; and a pool thread that
answered a request on a kept-alive connection answers the next one too if
it comes within 2 ms and no other connection waits for a thread
(``service.linger``), instead of handing the connection back to the
poller thread and another pool thread. A connection that sends nothing
costs no thread for long: a new one gets 5 s (gunicorn's worker data
timeout) to start a request, then waits on the poller without a thread,
and is closed after ``KEEPALIVE_SECONDS``; kept-alive connections are
closed after the same. So idle and slow clients hold threads, not the
worker: ``THREADS`` per worker is enough for hundreds of them while the
rest serve (measured by ``bench/slow_clients.py``: see the README).
Requests still run one at a time in effect (the engine holds the GIL), so
processes, not threads, give throughput; threads let a worker wait on many
sockets at once. gunicorn's header limits apply: a request line of at most
4,094 bytes, 100 header fields, 8,190 bytes each.

``sync`` (one connection per worker process, the previous front) stays
selectable for comparison: two idle connections stall it.

The app is built once in the master before workers fork, so a broken policy
stops the command before any port is bound, and every worker serves the same
loaded policy. Request logs are the app's JSON lines; gunicorn's own access
log is off so there is one line per request.

Each worker, as it starts, works out the interview's first answers in a
background thread (``service.warmup``); readiness and serving never wait for it.

SIGHUP to the master reloads the policy safely (see service.reload): the
master loads and checks the folder before gunicorn forks the new workers.

The log's checkpoints are signed from the workers, each by a thread started
once it has forked (``service.store.checkpoints``); the master starts no
thread and holds no lock, so a fork never copies one that is held.

The master settles its heap before each fork, and each worker once its
interview warm-up is done (``service.heap``), so that Python's full
collections do not walk the policy and stall every request behind them.

Database sessions belong to one process each (``service.store.connections``):
the master closes every connection it holds before it forks a worker, and
each worker, and the master, closes its own as it exits, so after SIGTERM no
session of the server is left on the database.
"""

from __future__ import annotations

import logging
import resource

from flask import Flask
from gunicorn.app.base import BaseApplication
from peewee import Database, PeeweeException

from infoshare.engine import PolicyError
from infoshare.service import balance, heap, onewrite, responsedate
from infoshare.service.balance import BalancedThreadWorker
from infoshare.service.linger import LingeringThreadWorker
from infoshare.service.reload import reload_from_files
from infoshare.service.store.connections import release
from infoshare.service.warmup import warm_interview

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


def _before_fork(database: Database, arbiter: object, worker: object) -> None:
    """gunicorn's pre_fork, in the master: no session crosses the fork, the heap a worker
    inherits is settled (``service.heap``), and the worker has its slot in the table that
    spreads connections (``service.balance``)."""
    release(database)
    heap.settle()
    balance.assign(arbiter, worker)


def _in_each_worker(app: Flask) -> None:
    """gunicorn's post_worker_init: the background work of one worker, started once it has forked
    (the master never runs a thread that a fork could copy): the log's checkpoint signer, and the
    interview's first answers."""
    state = app.extensions["infoshare"]
    state.checkpoints.start()
    warm_interview(app, state.engine)


WORKER_CLASSES = ("gthread", "sync")


class Worker(LingeringThreadWorker, BalancedThreadWorker):
    """The front's worker: gunicorn's gthread worker, spreading new connections over the workers
    (``service.balance``) and answering a kept-alive connection's next request in the thread that
    answered the last when it comes at once (``service.linger``)."""


BALANCED = "infoshare.service.server.Worker"  # gthread, spreading connections and lingering on them
THREADS = 256
KEEPALIVE_SECONDS = 5
MAX_CONNECTIONS = 1000  # per worker: beyond this a worker stops accepting until some close


def _allow_open_files() -> None:
    """Raise the open-file limit to what the system allows: each worker may hold
    MAX_CONNECTIONS sockets and an sqlite connection (three files) per thread,
    beyond the common default of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard != resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run(app: Flask, host: str, port: int, workers: int, worker_class: str = "gthread") -> None:
    """Serve until SIGTERM or SIGINT; gunicorn exits the process on fatal errors."""
    threaded = {"threads": THREADS, "keepalive": KEEPALIVE_SECONDS, "worker_connections": MAX_CONNECTIONS}
    _allow_open_files()
    onewrite.install()
    responsedate.install()
    balance.prepare(workers)
    heap.enable()
    database = app.extensions["infoshare"].database
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": BALANCED if worker_class == "gthread" else worker_class,
            **(threaded if worker_class == "gthread" else {}),
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
            "pre_fork": lambda arbiter, worker: _before_fork(database, arbiter, worker),
            "post_worker_init": lambda _worker: _in_each_worker(app),
            "worker_exit": lambda _arbiter, _worker: release(database),
            "child_exit": lambda _arbiter, worker: balance.free(worker),
            "on_exit": lambda _arbiter: release(database),
        },
    ).run()
