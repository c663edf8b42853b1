"""Policy versions in a running service: build a snapshot, reload safely, follow the active version.

How every worker moves to a new version: a reload (``POST /v1/policy/reload``
in any worker, or SIGHUP to the gunicorn master) loads the policy folder,
checks it in full (the loader's checks and the policy's own tests), and only
then stores the version's text and appends an activation row naming its
digest. Each worker looks up the latest activation before a request, at most
once every ``INFOSHARE_POLICY_POLL_SECONDS`` (default 1 s, one indexed
one-row query), and when it names another digest the worker rebuilds that
version from the store's text and swaps its snapshot. So all workers of one
server, and every server sharing the store, converge within the poll
interval, and a worker forked later (gunicorn replaces workers) catches up
on its first request. The store, not process memory, says which version is
active, so a refused reload changes nothing anywhere.

The full check is what `infoshare check` runs; `check --exhaustive` takes
seconds, so it belongs before the reload, in the policy owner's workflow.

SIGHUP makes gunicorn re-fork its workers from the master, which holds the
preloaded app: the master therefore runs the reload itself (the
``on_reload`` hook) before forking, so new workers start with the new
snapshot, or with the old one if the files were refused.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flask import Flask
from peewee import PeeweeException

from infoshare.engine import Engine, Policy, PolicyError, facts_schema, load_policy
from infoshare.engine.analysis.policytests import run_tests
from infoshare.engine.policy.problems import Problem
from infoshare.service.api.openapi import body_factories, build_spec
from infoshare.service.state import PolicySnapshot, ServiceState
from infoshare.service.store import versions

log = logging.getLogger("infoshare.policy")


def build(app: Flask, policy: Policy, engine: Engine | None = None) -> PolicySnapshot:
    """Everything that depends on ``policy``, built before anything answers with it."""
    facts = facts_schema(policy)
    return PolicySnapshot(
        policy=policy,
        engine=engine or Engine(policy),
        loaders={factory: factory(facts)() for factory in body_factories(app)},
        openapi=build_spec(app, facts),
    )


def install(app: Flask, state: ServiceState, snapshot: PolicySnapshot) -> None:
    """Swap the one reference requests take their snapshot from."""
    with state.swap_lock:
        state.built[snapshot.policy.digest] = snapshot
        state.snapshot = snapshot


def start(app: Flask, policy: Policy) -> None:
    """At start the folder's policy becomes the active version (stored first)."""
    state: ServiceState = app.extensions["infoshare"]
    with state.database.connection_context():
        if versions.active_digest() != policy.digest:
            versions.activate(policy, "start")
        else:
            versions.remember(policy)
    state.checked_at = time.monotonic()


def checked(directory: Path) -> tuple[Policy, Engine]:
    """Load and check the policy in full; PolicyError lists every problem as file:line."""
    policy = load_policy(directory)
    engine = Engine(policy)
    _, failed = run_tests(engine, directory)
    if failed:
        raise PolicyError(failed)
    return policy, engine


def reload_from_files(app: Flask, by: str) -> tuple[Policy, Policy]:
    """Load, check, store and activate the configured policy folder; (previous, new).

    Raises PolicyError, and changes nothing, if the folder has any problem.
    """
    return activate_folder(app, Path(app.config["INFOSHARE_POLICY"]), by)


def activate_folder(app: Flask, directory: Path, by: str, digest: str | None = None) -> tuple[Policy, Policy]:
    """Load, check, store and activate the policy in ``directory``; (previous, new).

    Raises PolicyError, and changes nothing, if the folder has any problem, or
    if ``digest`` is given and the folder no longer holds that version (it
    changed after the policy owner looked at it).
    """
    state: ServiceState = app.extensions["infoshare"]
    previous = state.snapshot.policy
    policy, engine = checked(directory)
    if digest is not None and policy.digest != digest:
        raise PolicyError(
            [
                Problem(
                    str(directory),
                    1,
                    f"the folder now holds version sha256 {policy.digest[:12]}, not the {digest[:12]} that was "
                    "checked; check it again before activating",
                )
            ]
        )
    snapshot = state.built.get(policy.digest) or build(app, policy, engine)
    versions.activate(policy, by)
    install(app, state, snapshot)
    state.checked_at = time.monotonic()
    log.info(
        "policy %s %s (sha256 %s) active, activated by %s; was %s",
        policy.id,
        policy.version,
        policy.digest,
        by,
        previous.digest,
    )
    return previous, policy


def follow_active_version(app: Flask) -> None:
    """Before a request: if another version has been activated, swap to it (at most once per poll)."""
    state: ServiceState = app.extensions["infoshare"]
    now = time.monotonic()
    if now - state.checked_at < app.config["INFOSHARE_POLICY_POLL_SECONDS"]:
        return
    state.checked_at = now
    try:
        digest = versions.active_digest()
        if digest is None or digest in (state.snapshot.policy.digest, state.unusable):
            return
        snapshot = state.built.get(digest)
        if snapshot is None:
            policy = versions.stored(digest)
            if policy is None:
                log.error(
                    "active policy version %s is not in the store; answering with %s",
                    digest,
                    state.snapshot.policy.digest,
                )
                return
            snapshot = build(app, policy)
    except PeeweeException as exc:
        log.error(
            "cannot look up the active policy version (%s); answering with %s",
            type(exc).__name__,
            state.snapshot.policy.digest,
        )
        return
    except PolicyError as exc:
        state.unusable = digest  # not retried every poll; a newer activation is followed as usual
        log.error(
            "active policy version %s does not load here; answering with %s:\n%s",
            digest,
            state.snapshot.policy.digest,
            exc,
        )
        return
    install(app, state, snapshot)
    log.info("policy sha256 %s active in this worker", digest)
