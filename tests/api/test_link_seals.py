"""A record linked at the chain's head by someone who can only write the store is not signed.

The attacker inserts a review (decision 1 overturned to do_not_share) and
links it after the head with the project's own hash functions; no trigger
refuses an INSERT. Without the key they cannot seal the link
(``service.store.linkseal``), so the signer refuses and the record stays in the
unsigned tail. Nor can they move a record not yet signed into another case:
the seal covers its case. On sqlite and on the local PostgreSQL.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import test_service_checkpoints as signed_log
from service_cases import SHARE_FACTS
from test_service_checkpoints import BEFORE, close_the_store, log_cli, open_the_store

from infoshare.service.access.keys import create_key
from infoshare.service.store import linkseal
from infoshare.service.store.checkpoints import links_after
from infoshare.service.store.logchain import content, content_hash, head, link_hash
from infoshare.service.store.models import Decision, LogLink, LogScope, Review

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
    return link_at_the_head("review", review, seal)


def link_at_the_head(kind: str, row, seal: object) -> int:
    """Link ``row`` after the chain's head with the project's own hash functions and ``seal``; its seq."""
    digest = content_hash(content(kind, row))
    seq, previous = head()
    LogLink.insert(
        seq=seq + 1,
        kind=kind,
        record_id=row.id,
        content_hash=digest,
        prev_hash=previous,
        hash=link_hash(seq + 1, kind, row.id, previous, digest),
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
        forged = forge_a_review_at_the_head(seal=linkseal.seal_with(b"a guess", "review", 3, "0" * 64, "CASE-A"))
        assert checkpointer.sign() is None
    assert (
        f"link {forged} (review " in (checkpointer.refusal or "")
        and "not made with the log's key" in checkpointer.refusal
    )


def test_the_services_own_records_are_sealed_and_signed(signed):
    checkpointer = signed.extensions["infoshare"].checkpoints
    with signed.app_context():
        checkpointer.sign()
        links = list(links_after(0))
    assert len(links) == BEFORE + 6 and checkpointer.refusal is None
    secret = linkseal.secret_of(checkpointer.signer)
    assert all(linkseal.covers_case(link.seal) for link in links)
    assert all(
        linkseal.holds(secret, link.kind, link.record_id, link.content_hash, link.case_ref, link.seal) for link in links
    )
    assert [link.case_ref for link in links[BEFORE:]] == ["CASE-A", "CASE-B", "CASE-A", "CASE-A", "CASE-B", "CASE-B"]
    assert log_cli("verify", "--require-signed")[0] == 0


def record_one_more(app, case_ref: str = "CASE-A") -> int:
    """A decision recorded after the last checkpoint (not yet signed: inline signing waits for two)."""
    with app.app_context():
        _, token = create_key("case-system", "ckpt-one-more")
        app.extensions["infoshare"].checkpoints.sign()  # the key's own record
    response = app.test_client().post(
        "/v1/decisions",
        json={"case_ref": case_ref, "facts": SHARE_FACTS},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def moved_to_another_case_and_signed(app) -> tuple[int, str]:
    """Record one more decision of CASE-A, change its case_ref in the row only, and sign: the
    decision's id and why the signer refused (it must)."""
    decision = record_one_more(app)
    checkpointer = app.extensions["infoshare"].checkpoints
    with app.app_context():
        open_the_store(app.extensions["infoshare"].database)
        Decision.update(case_ref="CASE-009").where(Decision.id == decision).execute()
        assert checkpointer.sign() is None
    return decision, checkpointer.refusal or ""


def test_a_record_moved_to_another_case_before_it_is_signed_is_refused(signed):
    """Its case_ref changed in the row only: placing it by that would leave it out of CASE-A's
    export and put it in CASE-009's, both verifying. The seal covers the case, so the signer refuses."""
    decision, refusal = moved_to_another_case_and_signed(signed)
    assert f"(decision {decision}) has a seal not made with the log's key for its record and case" in refusal
    code, _, err = log_cli("verify", "--require-signed")
    assert code == 1 and f"decision {decision}" in err, err


def test_a_review_moved_to_another_cases_decision_before_it_is_signed_is_refused(signed):
    """A review's case is its decision's: pointing it at a decision of CASE-B moves it there."""
    with signed.app_context():
        _, token = create_key("coordinator", "ckpt-one-more-review")
        signed.extensions["infoshare"].checkpoints.sign()
    response = signed.test_client().post(
        "/v1/decisions/1/review",
        json={"decision": "do_not_share", "rationale": "Changed my mind.", "reviewed_by": "A. Khan"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.json
    checkpointer = signed.extensions["infoshare"].checkpoints
    with signed.app_context():
        review = Review.select().order_by(Review.id.desc()).first().id
        open_the_store(signed.extensions["infoshare"].database)
        Review.update(decision=2).where(Review.id == review).execute()  # decision 2 is CASE-B's
        assert checkpointer.sign() is None
    assert f"(review {review}) has a seal not made with the log's key for its record and case" in (
        checkpointer.refusal or ""
    )


@pytest.fixture
def sealed_as_before(monkeypatch):
    """Links sealed as before seals covered the case (a store written by an earlier version)."""
    monkeypatch.setattr(
        linkseal,
        "seal_with",
        lambda secret, kind, number, digest, case: linkseal._seal_without_case(secret, kind, number, digest),
    )


def test_a_link_sealed_before_seals_covered_the_case_is_still_signed(signed, sealed_as_before, tmp_path):
    decision = record_one_more(signed, "CASE-C")
    checkpointer = signed.extensions["infoshare"].checkpoints
    with signed.app_context():
        seal = LogLink.get((LogLink.kind == "decision") & (LogLink.record_id == decision)).seal
        assert not linkseal.covers_case(seal)
        assert checkpointer.sign() is not None and checkpointer.refusal is None
    export = tmp_path / "case-c.jsonl"
    code, _, err = log_cli("export", "--case", "CASE-C", "--output", str(export))
    assert code == 0, err
    public = Path(signed.config["INFOSHARE_LOG_SIGNING_KEY_FILE"] + ".pub")
    code, out, err = log_cli("verify", "--file", str(export), "--public-key", str(public))
    assert code == 0 and out.startswith("OK: 1 records of case CASE-C"), err


def test_a_record_sealed_before_seals_covered_the_case_and_moved_is_refused_by_its_content(signed, sealed_as_before):
    """Its seal does not cover the case, so the signer checks the record's content instead."""
    decision, refusal = moved_to_another_case_and_signed(signed)
    assert f"decision {decision} does not match the content hash its link holds" in refusal


def forge_a_decision_at_the_head(seal: object) -> tuple[int, int]:
    """A copy of decision 2 (CASE-B) saying do_not_share, linked after the head with ``seal``."""
    data = {**Decision.get_by_id(2).__data__, "decision": "do_not_share"}
    del data["id"]
    forged = Decision.create(**data)
    return link_at_the_head("decision", forged, seal), forged.id


@pytest.mark.parametrize("seal", ["2:\u00e9", "2:" + "g" * 62, "2:", "0" * 63 + "\u00e9", 7])
def test_a_malformed_seal_is_refused_and_leaves_nothing_behind_in_the_case_map(signed, seal, tmp_path):
    """A seal the HMAC comparison cannot take (not ASCII, say) once raised after the forged
    record's case was taken into the signer's map, which then kept it: after the attacker removed
    the record, the next checkpoint signed a CASE-B the store no longer held, and an export made
    by hand with the forged record verified. Now it is refused like any wrong seal, and a round
    cut short by any error reads the chain again."""
    checkpointer = signed.extensions["infoshare"].checkpoints
    with signed.app_context():
        checkpointer.sign()
        open_the_store(signed.extensions["infoshare"].database)
        link, forged = forge_a_decision_at_the_head(seal)
        assert checkpointer.sign() is None
        assert f"link {link} (decision {forged}) has a seal not made with the log's key" in (checkpointer.refusal or "")
        LogLink.delete().where(LogLink.seq == link).execute()  # the attacker tidies up
        Decision.delete().where(Decision.id == forged).execute()
        close_the_store(signed.extensions["infoshare"].database)
    assert signed.test_client().get("/readyz").json["status"] == "degraded"
    record_one_more(signed, "CASE-C")  # the service goes on, and signs again
    with signed.app_context():
        assert checkpointer.sign() is not None and checkpointer.refusal is None
    code, _, err = log_cli("verify", "--require-signed")
    assert code == 0, err
    export = tmp_path / "case-b.jsonl"
    code, _, err = log_cli("export", "--case", "CASE-B", "--output", str(export))
    assert code == 0, err  # the signed map holds CASE-B as the store does
    public = signed.config["INFOSHARE_LOG_SIGNING_KEY_FILE"] + ".pub"
    code, out, err = log_cli("verify", "--file", str(export), "--public-key", public)
    assert code == 0 and out.startswith("OK: 3 records of case CASE-B"), err


def test_a_round_cut_short_by_an_error_reads_the_chain_again(signed, monkeypatch):
    """Whatever stops a round (an error of the store, say) after it took records into its map,
    the next round does not build on them."""
    checkpointer = signed.extensions["infoshare"].checkpoints
    with signed.app_context():
        checkpointer.sign()
        record_one_more(signed, "CASE-C")
        real = linkseal.holds

        def fails(*args):
            raise OSError("the store went away")

        monkeypatch.setattr(linkseal, "holds", fails)
        with pytest.raises(OSError):
            checkpointer.sign()
        assert checkpointer._known.seq == 0  # what the next round starts from
        monkeypatch.setattr(linkseal, "holds", real)
        assert checkpointer.sign() is not None
    assert log_cli("verify", "--require-signed")[0] == 0


def test_a_scope_record_edited_to_have_decisions_adopted_adopts_nothing(signed, store_url, caplog):
    """Removing "decision" from the chain's scope records once made the next start adopt an
    unlinked forged decision into the chain, sealed as the service's own, and sign it. The scope
    records now count only as their links hold them, and decisions were always chained."""
    with signed.app_context():
        signed.extensions["infoshare"].checkpoints.sign()
        open_the_store(signed.extensions["infoshare"].database)
        for row in LogScope.select():
            LogScope.update(kinds=[kind for kind in row.kinds if kind != "decision"]).where(
                LogScope.id == row.id
            ).execute()
        data = {**Decision.get_by_id(2).__data__, "decision": "do_not_share"}
        del data["id"]
        forged = Decision.create(**data).id
    with caplog.at_level(logging.ERROR, logger="infoshare.store"):
        again = signed_log.start(store_url)
    assert "the chain's scope records 1 do not match their links: no records are adopted" in caplog.text
    with again.app_context():
        assert not LogLink.select().where((LogLink.kind == "decision") & (LogLink.record_id == forged)).exists()
        again.extensions["infoshare"].checkpoints.sign()
    code, _, err = log_cli("verify")
    assert code == 1 and "TAMPERED: scope 1" in err, err
