"""A record linked at the chain's head by someone who can only write the store is not signed.

The attacker inserts a review (decision 1 overturned to do_not_share) and
links it after the head with the project's own hash functions; no trigger
refuses an INSERT. Without the key they cannot seal the link
(``service.store.linkseal``), so the signer refuses and the record stays in the
unsigned tail. On sqlite and on the local PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import test_service_checkpoints as signed_log
from test_service_checkpoints import BEFORE, log_cli

from infoshare.service.store import linkseal
from infoshare.service.store.logchain import content, content_hash, head, link_hash
from infoshare.service.store.models import LogLink, Review

store_url = signed_log.store_url  # the fixtures: sqlite and PostgreSQL, a signed log of two cases
signed = signed_log.signed


def forge_a_review_at_the_head(seal: str | None = None) -> int:
    """Insert a review overturning decision 1 and link it after the head, as the service would but for the seal."""
    review = Review.create(
        decision=1,
        final_decision="do_not_share",
        rationale="Overturned.",
        key_name="ckpt-coordinator",
        reviewed_at=datetime.now(UTC).replace(tzinfo=None),
        client="ckpt-coordinator",
        reviewed_by="A. Khan",
    )
    digest = content_hash(content("review", review))
    seq, previous = head()
    LogLink.insert(
        seq=seq + 1,
        kind="review",
        record_id=review.id,
        content_hash=digest,
        prev_hash=previous,
        hash=link_hash(seq + 1, "review", review.id, previous, digest),
        seal=seal,
    ).execute()
    return seq + 1


def test_a_review_forged_at_the_head_is_not_signed(signed):
    checkpointer = signed.extensions["infoshare"].checkpoints
    with signed.app_context():
        checkpointer.sign()
        forged = forge_a_review_at_the_head()
        assert checkpointer.sign() is None
    assert f"link {forged} (review " in (checkpointer.refusal or "") and "no seal" in checkpointer.refusal
    response = signed.test_client().get("/readyz")
    assert response.status_code == 200 and response.json["status"] == "degraded"
    assert response.json["log_signing"].startswith("the signer refuses to sign: ")
    code, _, err = log_cli("verify", "--require-signed")
    assert code == 3 and f"UNSIGNED TAIL: 1 records after the last checkpoint (links {forged} to" in err, err


def test_a_seal_made_without_the_key_is_refused(signed):
    checkpointer = signed.extensions["infoshare"].checkpoints
    with signed.app_context():
        checkpointer.sign()
        forged = forge_a_review_at_the_head(seal=linkseal.seal_with(b"a guess", "review", 3, "0" * 64))
        assert checkpointer.sign() is None
    assert (
        f"link {forged} (review " in (checkpointer.refusal or "")
        and "not made with the log's key" in checkpointer.refusal
    )


def test_the_services_own_records_are_sealed_and_signed(signed):
    checkpointer = signed.extensions["infoshare"].checkpoints
    with signed.app_context():
        checkpointer.sign()
        links = list(LogLink.select().order_by(LogLink.seq))
    assert len(links) == BEFORE + 6 and checkpointer.refusal is None
    secret = linkseal.secret_of(checkpointer.signer)
    assert all(linkseal.holds(secret, link.kind, link.record_id, link.content_hash, link.seal) for link in links)
    assert log_cli("verify", "--require-signed")[0] == 0
