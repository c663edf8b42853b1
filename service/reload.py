"""Policy versions in a running service: build a snapshot, reload safely, follow the active version.

How every worker moves to a new version: a reload (``POST /v1/policy/reload``
in any worker, or SIGHUP to the gunicorn master) loads the policy folder,
checks it in full (the loader's checks and the policy's own tests), and only
then stores the version's text and appends an activation row naming its
digest. Each worker looks up the latest activation before a request, at most
once every ``INFOSHARE_POLICY_POLL_SECONDS`` (default 1 s, one indexed
one-row query), and when it names another digest the worker vets the
activation (``service.store.guard``: signed with the log's key, in the
verified chain, the version's text matching its digest and passing the
checker and the policy's own tests), rebuilds that version from the store's
text and swaps its snapshot. A refused activation leaves the worker on its
version, named in the log and in ``/readyz``; so does a latest activation
older than the one the worker follows, or the one it follows being gone:
later activations were deleted, and an old signed one still verifies, so
only the worker's memory of what it followed tells a rollback from a reload. So all workers of one
server, and every server sharing the store, converge within the poll
interval, and a worker forked later (gunicorn replaces workers) catches up
on its first request. The store, not process memory, says which version is
active, so a refused reload changes nothing anywhere.

The full check is the loader's checks and the policy's tests; the
completeness proof `infoshare check` adds takes a second or two of CPU, so
it belongs before the reload, in the policy owner's workflow.

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
from infoshare.engine.analysis.memo import MemoEngine
from infoshare.engine.analysis.policytests import run_tests, test_files
from infoshare.engine.policy.problems import Problem
from infoshare.service.api.openapi import body_factories, build_spec
from infoshare.service.api.payload import QuickLoader
from infoshare.service.state import PolicySnapshot, Refusal, ServiceState
from infoshare.service.store import guard, versions
from infoshare.service.store.signing import Signer
from infoshare.service.warmup import warm_interview

log = logging.getLogger("infoshare.policy")


def build(app: Flask, policy: Policy, engine: Engine | None = None) -> PolicySnapshot:
    """Everything that depends on ``policy``, built before anything answers with it."""
    facts = facts_schema(policy)
    engine = engine or MemoEngine(policy)
    return PolicySnapshot(
        policy=policy,
        engine=engine,
        loaders={factory: QuickLoader(factory(facts)(), engine.plainly_valid) for factory in body_factories(app)},
        openapi=build_spec(app, facts, policy),
    )


def install(app: Flask, state: ServiceState, snapshot: PolicySnapshot) -> None:
    """Swap the one reference requests take their snapshot from."""
    with state.swap_lock:
        state.built[snapshot.policy.digest] = snapshot
        state.snapshot = snapshot


def start(app: Flask, policy: Policy) -> None:
    """At start the folder's policy becomes the active version (stored first), unless it is one
    the store has already replaced: a server started from an older copy of the folder then
    answers with the active version and moves no other server back, unless started with
    ``INFOSHARE_ACTIVATE`` (``serve --activate``). A version string reused for other files
    is refused (PolicyError), as a reload refuses it."""
    state: ServiceState = app.extensions["infoshare"]
    with state.database.connection_context():
        active = versions.active_digest()
        if active == policy.digest:
            versions.remember(policy)
        elif active is None or app.config.get("INFOSHARE_ACTIVATE") or not versions.was_active(policy.digest):
            versions.activate(policy, "start", state.signer, test_files(policy.directory) if policy.directory else {})
        else:
            current = versions.active()
            assert current is not None  # the store has an active version: `active` was not None
            log.warning(
                "policy %s %s (sha256 %s) in %s was replaced by %s %s (sha256 %s, activated %s by %s); "
                "answering with that; `infoshare serve --activate` makes this folder's version active again",
                policy.id,
                policy.version,
                policy.digest,
                app.config["INFOSHARE_POLICY"],
                current["id"],
                current["version"],
                current["digest"],
                f"{current['activated_at']:%Y-%m-%d %H:%M:%S} UTC",
                current["activated_by"],
            )
            state.checked_at = 0.0
            follow_active_version(app)
            return
    state.checked_at = time.monotonic()


def checked(directory: Path) -> tuple[Policy, Engine]:
    """Load and check the policy in full; PolicyError lists every problem as file:line."""
    policy = load_policy(directory)
    engine = MemoEngine(policy)
    _, failed = run_tests(engine, directory)
    if failed:
        raise PolicyError(failed)
    return policy, engine


def activate_checked(
    directory: Path, by: str, signer: Signer, digest: str | None = None
) -> tuple[dict | None, Policy, Engine]:
    """Load and check the folder in full, then store and activate it (signed with ``signer``,
    carrying the folder's tests) for every server sharing the store: (the activation it
    replaced, as the store says; the policy; its engine).

    Raises PolicyError, and changes nothing, if the folder has any problem, reuses a stored
    version string for other files, or, if ``digest`` is given, no longer holds that version
    (it changed after the policy owner looked at it).
    """
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
    previous = versions.active()
    versions.activate(policy, by, signer, test_files(directory))
    log.info(
        "policy %s %s (sha256 %s) active, activated by %s; was %s",
        policy.id,
        policy.version,
        policy.digest,
        by,
        f"{previous['version']} (sha256 {previous['digest']})" if previous else "none",
    )
    return previous, policy, engine


def activate_folder(app: Flask, directory: Path, by: str, digest: str | None = None) -> tuple[dict | None, Policy]:
    """Check, store and activate the policy in ``directory`` (see activate_checked) and answer
    with it in this process at once; (the activation it replaced, the new policy)."""
    state: ServiceState = app.extensions["infoshare"]
    previous, policy, engine = activate_checked(directory, by, state.signer, digest)
    install(app, state, state.built.get(policy.digest) or build(app, policy, engine))
    state.checked_at = time.monotonic()
    return previous, policy


def reload_from_files(app: Flask, by: str) -> tuple[dict | None, Policy]:
    """Load, check, store and activate the configured policy folder (INFOSHARE_POLICY)."""
    return activate_folder(app, Path(app.config["INFOSHARE_POLICY"]), by)


def follow_active_version(app: Flask) -> None:
    """Before a request: if another version has been activated, swap to it (at most once per
    poll), once the activation guard (``service.store.guard``) has vetted the activation;
    a refused one leaves this process on its version, and is not looked at again.

    One thread of a process looks at a time: vetting compiles a version and runs its tests, and
    a server's other threads answer with the version they have meanwhile instead of queueing
    behind it (or each vetting the same activation)."""
    state: ServiceState = app.extensions["infoshare"]
    now = time.monotonic()
    if now - state.checked_at < app.config["INFOSHARE_POLICY_POLL_SECONDS"]:
        return
    if not state.vetting.acquire(blocking=False):
        return
    try:
        state.checked_at = now
        _follow(app, state)
    finally:
        state.vetting.release()


def _follow(app: Flask, state: ServiceState) -> None:
    try:
        latest = versions.latest_activation()
        rollback = _rolled_back(state, latest)
        if rollback is not None:
            _refuse(state, rollback)
            return
        if latest is None or latest[1] == state.snapshot.policy.digest:
            if latest is not None:
                state.following = latest[0]
            state.refused = None  # what answers is what the store names: nothing is refused any more
            return
        if state.refused is not None and state.refused.activation == latest[0]:
            return
        known = state.built.get(latest[1])
        try:
            vetted = guard.vet(
                versions.activation(latest[0]),
                state.signer.public,
                state.verified,
                (known.policy, known.engine) if known else None,
                state.checkpoints.path,
            )
        except guard.NotLinkedYet:
            return
        except guard.Refused as exc:
            _refuse(state, Refusal(latest[0], latest[1], str(exc)))
            return
    except PeeweeException as exc:
        log.error(
            "cannot look up the active policy version (%s); answering with %s",
            type(exc).__name__,
            state.snapshot.policy.digest,
        )
        return
    state.verified = vetted.verified
    snapshot = known or build(app, vetted.policy, vetted.engine)
    install(app, state, snapshot)
    state.following = latest[0]
    state.refused = None
    log.info("policy sha256 %s active in this worker (activation %s)", latest[1], latest[0])
    warm_interview(app, snapshot.engine)  # a worker, never the master: see service.warmup


def _rolled_back(state: ServiceState, latest: tuple[int, str] | None) -> Refusal | None:
    """A refusal if the store no longer holds the activation this process follows, or its latest
    is an older one: activations were deleted (a rollback), which no worker follows, since the
    older version was replaced for a reason and an older signed activation still verifies."""
    if state.following == 0 or (latest is not None and latest[0] == state.following):
        return None
    if latest is None:
        return Refusal(
            state.following, state.snapshot.policy.digest, _removed(state, "the store has none left, not even")
        )
    if latest[0] < state.following:
        return Refusal(latest[0], latest[1], _removed(state, "it is older than"))
    if not versions.activation_exists(state.following):
        return Refusal(latest[0], latest[1], _removed(state, "the store no longer holds"))
    return None


def _removed(state: ServiceState, what: str) -> str:
    return (
        f"{what} activation {state.following} this worker follows: activations were removed from the store (a rollback)"
    )


def _refuse(state: ServiceState, refusal: Refusal) -> None:
    """Keep answering with this process's version, and say why in ``/readyz`` and, once, in the log."""
    if state.refused == refusal:
        return
    state.refused = refusal
    log.error(
        "refused activation %s of policy version %s: %s; answering with %s",
        refusal.activation,
        refusal.digest,
        refusal.reason,
        state.snapshot.policy.digest,
    )
