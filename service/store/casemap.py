"""Each case's place in the log, committed in every signed checkpoint, so one case's export proves itself.

A case export must show, to someone holding only it and the public key,
that each record is in the log as of a signed checkpoint, unchanged, and
that no record of that case made before the checkpoint was left out. Two
known ways:

- a Merkle tree over every link (RFC 6962/9162, as Certificate Transparency
  and Trillian keep theirs): an inclusion proof shows that a record is in
  the log, a consistency proof that a later tree extends an earlier one.
  Neither says anything about the records *not* shown: a case export with a
  record left out still carries valid proofs for the rest. Proving that a
  case is complete needs a commitment per case on top, and the tree itself
  would add nothing the chain does not already give the store's verifier
  (``infoshare log verify`` walks every link and compares the heads with
  the checkpoints'; consistency is that walk).
- a per-case chain committed in the checkpoint, which this module keeps:
  each case's records, in log order, fold into one hash, ``fold = sha256(
  previous fold, the record's link hash)``; the checkpoint signs a Merkle
  root over every case's (record count, fold). An export carries the case's
  records with their links, the (count, fold) entry for the case, and the
  path from it to the signed root. The reader recomputes each link hash from
  the record, folds them, and must reach the signed entry: a record left
  out, added, altered or moved changes the fold. Proof size is the case's
  own records plus 16 hashes, whatever the size of the log.

The map is a fixed binary tree of 65,536 buckets (a case's bucket is the
first 16 bits of the sha256 of its reference), so adding a record
recomputes one bucket and 16 nodes, not the whole map, and the signer keeps
it up to date as it goes. A bucket holds the entries of every case that
falls in it, sorted, by the case reference's hash (an export never names
other cases); a reader checks the whole bucket, so an entry cannot be
hidden in it. Every hash is domain-separated (``bucket``, ``node``,
``case``, ``fold``) so no value of one kind can pass for another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from infoshare.service.store.logchain import GENESIS

DEPTH = 16
BUCKETS = 1 << DEPTH


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def case_id(case_ref: str) -> str:
    """What the map names a case by: its reference's hash (a case's export shows only its own)."""
    return _sha(f"case\n{case_ref}")


def bucket_of(case: str) -> int:
    return int(case[: DEPTH // 4], 16)


def fold(previous: str, link: str) -> str:
    return _sha(f"fold\n{previous}\n{link}")


def bucket_hash(entries: Iterable[tuple[str, int, str]]) -> str:
    return _sha("bucket\n" + "".join(f"{case} {count} {value}\n" for case, count, value in sorted(entries)))


def node_hash(left: str, right: str) -> str:
    return _sha(f"node\n{left}\n{right}")


EMPTY: list[str] = [bucket_hash([])]  # the hash of an empty subtree, by height
for _ in range(DEPTH):
    EMPTY.append(node_hash(EMPTY[-1], EMPTY[-1]))


class CaseMap:
    """Every case's (count, fold), and the Merkle root over them, updated as records are added."""

    def __init__(self) -> None:
        self.heads: dict[str, tuple[int, str]] = {}
        self.buckets: dict[int, set[str]] = {}
        self.levels: list[dict[int, str]] = [{} for _ in range(DEPTH + 1)]  # non-empty nodes, leaves first
        self.dirty: set[int] = set()

    def add(self, case_ref: str, link: str) -> None:
        """Add the next record of ``case_ref`` (its link hash), in log order."""
        case = case_id(case_ref)
        count, value = self.heads.get(case, (0, GENESIS))
        self.heads[case] = (count + 1, fold(value, link))
        index = bucket_of(case)
        self.buckets.setdefault(index, set()).add(case)
        self.dirty.add(index)

    def bucket(self, index: int) -> list[tuple[str, int, str]]:
        return sorted((case, *self.heads[case]) for case in self.buckets.get(index, ()))

    def root(self) -> str:
        """The root over every bucket; only the paths above buckets changed since the last call are recomputed."""
        changed = self.dirty
        for index in changed:
            self.levels[0][index] = bucket_hash(self.bucket(index))
        for height in range(DEPTH):
            below, above = self.levels[height], self.levels[height + 1]
            parents = {index >> 1 for index in changed}
            for parent in parents:
                above[parent] = node_hash(
                    below.get(parent * 2, EMPTY[height]), below.get(parent * 2 + 1, EMPTY[height])
                )
            changed = parents
        self.dirty = set()
        return self.levels[DEPTH].get(0, EMPTY[DEPTH])

    def proof(self, case_ref: str) -> dict[str, Any]:
        """What shows a reader the case's (count, fold) under the root: its bucket and the path up."""
        self.root()
        index = bucket_of(case_id(case_ref))
        path = []
        for height in range(DEPTH):
            path.append(self.levels[height].get(index ^ 1, EMPTY[height]))
            index >>= 1
        return {"bucket": [list(entry) for entry in self.bucket(bucket_of(case_id(case_ref)))], "path": path}


class ProofInvalid(ValueError):
    """A case proof that does not reach the signed root, or is malformed."""


def proven_head(case_ref: str, proof: Any, root: str) -> tuple[int, str]:
    """The case's (count, fold) that ``proof`` shows under ``root``; (0, GENESIS) if it shows the
    case has no records. Raises ProofInvalid if the proof does not reach the root."""
    try:
        entries = [(str(case), int(count), str(value)) for case, count, value in proof["bucket"]]
        path = [str(value) for value in proof["path"]]
    except (KeyError, TypeError, ValueError):
        raise ProofInvalid("the case proof is malformed: it needs a bucket of [case, count, fold] and a path") from None
    case = case_id(case_ref)
    index = bucket_of(case)
    if len(path) != DEPTH or any(bucket_of(entry[0]) != index for entry in entries):
        raise ProofInvalid("the case proof is malformed: a path of 16 hashes and entries of the case's bucket")
    value = bucket_hash(entries)
    for sibling in path:
        value = node_hash(sibling, value) if index & 1 else node_hash(value, sibling)
        index >>= 1
    if value != root:
        raise ProofInvalid("the case proof does not lead to the case index the checkpoint signed")
    found = [(count, head) for name, count, head in entries if name == case]
    return found[0] if found else (0, GENESIS)
