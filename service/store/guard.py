"""Whether a worker may answer with the version an activation names: the activation guard.

Anyone who can write the store could otherwise insert a policy version (with
its correctly computed digest) and an activation row, and every worker would
answer from it within a second. So a worker follows an activation only if

1. it is signed, with the log's signing key (a file the database never
   holds), over its id, digest, tests, author and time (``versions.signed_part``);
2. it is in the decision log's chain, with its version chained before it, and
   the chain verifies up to it, from the last link this process verified or
   the latest signed checkpoint before it, whichever is later (a signed head
   is what ``infoshare log verify`` holds the earlier chain to; walking a
   store of a million records from its start would keep a worker busy for
   minutes);
3. its version's stored text matches its digest and passes the policy
   checker (``versions.stored`` rebuilds it);
4. that version passes the policy's own tests the activation carries.

Otherwise the activation is refused: the worker keeps its version, says why
in the application log and in ``/readyz`` (``service.reload``). An activation
still waiting to be linked (PostgreSQL links just after the commit) is
neither followed nor refused: it is looked at again at the next poll.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from infoshare.engine import Engine, Policy, PolicyError
from infoshare.engine.analysis.memo import MemoEngine
from infoshare.engine.analysis.policytests import run_tests
from infoshare.service.store import checkpointaudit, logaudit, versions
from infoshare.service.store.logchain import GENESIS, record_id
from infoshare.service.store.models import LogLink, LogPending, PolicyActivation, PolicyVersion
from infoshare.service.store.signing import PublicKey


class Refused(Exception):
    """The activation may not be followed; the message says why, in words (nothing personal)."""


class NotLinkedYet(Exception):
    """The activation is committed but not linked into the chain yet: look again later."""


@dataclass(frozen=True)
class Vetted:
    policy: Policy
    engine: Engine
    verified: tuple[int, str]  # the chain's link (seq, hash) verified up to


def vet(
    activation: PolicyActivation,
    public: PublicKey,
    verified: tuple[int, str],
    built: tuple[Policy, Engine] | None = None,
    checkpoint_file: str | os.PathLike[str] | None = None,
) -> Vetted:
    """The version ``activation`` names, with its engine, once every check above holds; raises
    Refused or NotLinkedYet. ``verified``: the link this process has verified the chain up to;
    ``built``: the version and engine if this process has them already (rebuilt otherwise);
    ``checkpoint_file``: where the log's signed checkpoints are, to start the walk from."""
    if activation.signature is None:
        raise Refused("it is not signed (made before activations were signed, or written around the service)")
    if not versions.signature_verifies(activation, public):
        raise Refused(f"its signature does not verify with the log's public key {public.key_id}")
    link = LogLink.get_or_none((LogLink.kind == "activation") & (LogLink.record_id == activation.id))
    if link is None:
        if (
            LogPending.select()
            .where((LogPending.kind == "activation") & (LogPending.record_id == activation.id))
            .exists()
        ):
            raise NotLinkedYet()
        raise Refused("it is not in the decision log's chain")
    version_link = LogLink.get_or_none(
        (LogLink.kind == "policy_version")
        & (LogLink.record_id == record_id("policy_version", PolicyVersion(digest=activation.digest)))
    )
    if version_link is None or version_link.seq > link.seq:
        raise Refused("its policy version is not in the decision log's chain before it")
    chain = logaudit.verify_through(link.seq, _start(link.seq, verified, public, checkpoint_file))
    if not chain.ok:
        raise Refused(f"the decision log does not verify up to it: {chain.problem}")
    if built is None:
        try:
            policy = versions.stored(activation.digest)
        except PolicyError as exc:
            raise Refused(f"its version does not pass the policy checker: {_first(exc.problems)}") from None
        if policy is None:
            raise Refused("its version's stored text is missing or no longer matches its digest")
        built = (policy, MemoEngine(policy))
    _, failed = run_tests(built[1], activation.tests or {})
    if failed:
        raise Refused(f"its version fails the policy's own tests: {_first(failed)}")
    return Vetted(built[0], built[1], chain.head)


def _start(
    seq: int, verified: tuple[int, str], public: PublicKey, checkpoint_file: str | os.PathLike[str] | None
) -> tuple[int, str]:
    """The link to walk the chain from up to ``seq``: the later of what this process verified and
    the latest checkpoint before ``seq`` that ``public`` signed (a forged line is never used)."""
    start = verified if verified[0] < seq else (0, GENESIS)
    if checkpoint_file is not None:
        signed, _ = checkpointaudit.read_checkpoints(checkpoint_file, public)
        before = [c for c in signed if start[0] < c.seq < seq]
        if before:
            start = (before[-1].seq, before[-1].head)
    return start


def _first(problems: Sequence[object]) -> str:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}"
