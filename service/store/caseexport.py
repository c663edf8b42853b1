"""One case's records with the proof that they are the whole case as of a signed checkpoint.

``infoshare log export --case REF`` writes JSON lines: a header ``{"format":
"infoshare-case/1", "case_ref", "checkpoint", "proof"}`` (the signed
checkpoint as it is in the checkpoint file, and the case's entry in the
case map with its path to the checkpoint's ``cases`` root, see
``service.store.casemap``), then each of the case's records to the
checkpoint's seq, in chain order, as a full export writes them.

``infoshare log verify --file EXPORT --public-key FILE`` checks, with
nothing but the file and the public key: the checkpoint's signature; each
record's content against its content hash and its link hash; that each
belongs to the case and is at or before the checkpoint; and that the
records, folded in order, give exactly the (count, fold) the checkpoint
signed for the case. So a record altered, left out, added or moved fails,
and an export is complete up to its checkpoint (records after it are not
in it: sign a checkpoint first, as the export command does when it can).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any, cast

from infoshare.service.store import casemap, logaudit
from infoshare.service.store.checkpoints import Checkpoint, links_after
from infoshare.service.store.logaudit import ExportUnreadable, Verification
from infoshare.service.store.logchain import GENESIS
from infoshare.service.store.models import Decision
from infoshare.service.store.signing import PublicKey

FORMAT = "infoshare-case/1"


class StoreDisagrees(RuntimeError):
    """The store is not the log the checkpoint signed: no proof can be made from it."""


def case_map(checkpoint: Checkpoint) -> casemap.CaseMap:
    """The case map of the store's chain to the checkpoint's seq, checked against what it signed."""
    cases = casemap.CaseMap()
    last = (0, GENESIS)
    for link in links_after(0, upto=checkpoint.seq):
        if link.case_ref is not None:
            cases.add(link.case_ref, link.hash)
        last = (link.seq, link.hash)
    if last != (checkpoint.seq, checkpoint.head) or cases.root() != checkpoint.cases:
        raise StoreDisagrees(
            f"the store's log is not the one the checkpoint of link {checkpoint.seq} signed; "
            "run `infoshare log verify` to see where"
        )
    return cases


def clients_of(case_ref: str) -> list[str]:
    """The clients that recorded decisions under ``case_ref``, by name: each one's is its own case file
    (two case systems may both have a CASE-001)."""
    owner = Decision.owner()
    query = Decision.select(owner.alias("owner")).where(Decision.case_ref == case_ref).distinct()
    rows = cast(Iterable[tuple[str]], query.tuples())
    return sorted(str(name) for (name,) in rows)


def export(out: IO[str], case_ref: str, checkpoint: Checkpoint) -> int:
    """Write the case as of ``checkpoint`` with its proof; returns the records written."""
    proof = case_map(checkpoint).proof(case_ref)
    header = {"format": FORMAT, "case_ref": case_ref, "checkpoint": checkpoint.as_dict(), "proof": proof}
    out.write(json.dumps(header, sort_keys=True) + "\n")
    count = 0
    for entry in logaudit.case_entries(case_ref, checkpoint.seq):
        out.write(json.dumps(entry.as_line(), sort_keys=True) + "\n")
        count += 1
    return count


def is_case_export(header: dict[str, Any]) -> bool:
    return header.get("format") == FORMAT


def verify(header: dict[str, Any], lines: Iterable[str], public: PublicKey) -> Verification:
    """Check a case export (its header already read) with the public key only."""
    case_ref = header.get("case_ref")
    if not isinstance(case_ref, str):
        raise ExportUnreadable("line 1: the header names no case_ref")
    try:
        checkpoint = Checkpoint.from_dict(header.get("checkpoint"))
    except ValueError as exc:
        raise ExportUnreadable(f"line 1: {exc}") from None
    signed = (checkpoint.seq, checkpoint.head)
    if not checkpoint.signed_by(public):
        return Verification(0, signed, f"FORGED: the checkpoint is not signed by key {public.key_id}")
    previous: logaudit.Entry | None = None
    count, folded = 0, GENESIS
    for entry in logaudit._file_entries(lines, case_ref):
        problem = logaudit._entry_problem(entry, previous, whole_chain=False)
        if problem is None and entry.seq > checkpoint.seq:
            problem = f"{entry.name} is after the checkpoint (link {checkpoint.seq}) the export is proven by"
        if problem:
            return Verification(count, signed, problem)
        previous, count, folded = entry, count + 1, casemap.fold(folded, entry.hash)
    try:
        expected = casemap.proven_head(case_ref, header.get("proof"), checkpoint.cases)
    except casemap.ProofInvalid as exc:
        return Verification(count, signed, str(exc))
    if expected[0] != count:
        return Verification(
            count,
            signed,
            f"the export holds {count} records of case {case_ref}, but the checkpoint signed {expected[0]}: "
            "records were left out or added",
        )
    if expected[1] != folded:
        return Verification(
            count, signed, f"the records of case {case_ref} are not the ones the checkpoint signed: one was replaced"
        )
    return Verification(count, signed)
