"""Check the decision log against its signed checkpoints, with the public key only.

The chain alone (``service.store.logaudit``) shows a careless edit; a
rewrite that recomputes every hash leaves a chain that is intact but no
longer the one that was signed. Walking the chain once, this names:

- FORGED: a checkpoint line that is not one, is signed by another key, or
  whose signature does not verify (it is then ignored for the rest); or a
  policy activation not signed with the key (written around the service: no
  worker follows it, yet the chain and a checkpoint signed after it hold it);
- REWRITTEN: the chain at a checkpoint's seq is not the head it signed, and
  the records since the checkpoint before it are not the ones it signed;
- REORDERED: the same, but the records since the checkpoint before are the
  signed ones (their order-independent digest matches): they were moved;
- TRUNCATED: the store ends before a checkpoint's seq: records it covered
  are gone;
- the unsigned tail: records after the last checkpoint, which only the
  chain covers (after a crash there is about a second of them; far more
  means the signer was stopped or checkpoints were removed).

Once one checkpoint's head differs, every later head differs too (each
commits to the whole chain before it), so only the first is named for
that, and later ones only where their own records changed as well.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from infoshare.service.store import logaudit, versions
from infoshare.service.store.casemap import CaseMap
from infoshare.service.store.checkpoints import Checkpoint, read_lines, record_term, records_digest
from infoshare.service.store.logchain import head
from infoshare.service.store.models import PolicyActivation
from infoshare.service.store.signing import PublicKey

TAMPERING = ("FORGED", "REWRITTEN", "REORDERED", "TRUNCATED", "TAMPERED", "UNGUARDED")


@dataclass(frozen=True)
class Finding:
    label: str
    text: str

    def __str__(self) -> str:
        return f"{self.label}: {self.text}"


@dataclass
class Report:
    """What ``infoshare log verify`` prints: the chain's result, the findings, the signed extent."""

    chain: logaudit.Verification
    findings: list[Finding] = field(default_factory=list)
    signed: Checkpoint | None = None  # the last valid checkpoint
    checkpoints: int = 0  # valid ones
    store_seq: int = 0

    @property
    def tampered(self) -> bool:
        return any(finding.label in TAMPERING for finding in self.findings)

    @property
    def unsigned(self) -> int:
        """Records after the last checkpoint (all of them if there is none)."""
        return max(0, self.store_seq - (self.signed.seq if self.signed else 0))


def read_checkpoints(path: str | os.PathLike[str], public: PublicKey) -> tuple[list[Checkpoint], list[Finding]]:
    """The file's checkpoints signed by ``public``, by seq, and a FORGED finding for each other line."""
    valid: dict[int, Checkpoint] = {}
    findings = []
    for number, text in read_lines(path):
        try:
            checkpoint = Checkpoint.parse(text)
        except ValueError as exc:
            findings.append(Finding("FORGED", f"line {number} of {path} is not a checkpoint ({exc})"))
            continue
        if checkpoint.key_id != public.key_id:
            findings.append(
                Finding("FORGED", f"line {number} of {path} names key {checkpoint.key_id}, not {public.key_id}")
            )
        elif not checkpoint.signed_by(public):
            findings.append(Finding("FORGED", f"line {number} of {path}: its signature does not verify"))
        elif checkpoint.seq in valid and valid[checkpoint.seq] != checkpoint:
            findings.append(
                Finding("FORGED", f"line {number} of {path}: a second, different checkpoint of link {checkpoint.seq}")
            )
        else:
            valid[checkpoint.seq] = checkpoint
    return [valid[seq] for seq in sorted(valid)], findings


class _Observer:
    """Sees each entry as the chain walk reads it: the hash at each checkpoint's seq, and each
    checkpoint's order-independent digest of the records since the one before it."""

    def __init__(self, checkpoints: list[Checkpoint]) -> None:
        self.checkpoints = checkpoints
        self.hashes: dict[int, str] = {}
        self.totals = [0] * len(checkpoints)
        self.roots: dict[int, str] = {}  # the case map's root as of each checkpoint's seq
        self.seen = 0
        self._cases = CaseMap()
        self._case_of: dict[int, str] = {}  # each decision's case, for the reviews after it

    def watch(self, entries: Iterable[logaudit.Entry]) -> Iterator[logaudit.Entry]:
        ends = {checkpoint.seq for checkpoint in self.checkpoints}
        first = 0  # checkpoints before this one end before the current entry
        for entry in entries:
            while first < len(self.checkpoints) and self.checkpoints[first].seq < entry.seq:
                first += 1
            term = record_term(entry.kind, entry.record_id, entry.content_hash)
            for index in range(first, len(self.checkpoints)):
                checkpoint = self.checkpoints[index]
                if checkpoint.since >= entry.seq:
                    break
                self.totals[index] = (self.totals[index] + term) % (1 << 256)
            self._add_case(entry)
            if entry.seq in ends:
                self.hashes[entry.seq] = entry.hash
                self.roots[entry.seq] = self._cases.root()
            self.seen = entry.seq
            yield entry

    def _add_case(self, entry: logaudit.Entry) -> None:
        """Add a decision or review to the case map as the signer does, from its content (which
        the walk checks against the link's content hash)."""
        if entry.record is None:
            return
        if entry.kind == "decision":
            case_ref = self._case_of[entry.record_id] = entry.record["case_ref"]
        elif entry.kind == "review" and entry.record["decision_id"] in self._case_of:
            case_ref = self._case_of[entry.record["decision_id"]]
        else:
            return
        self._cases.add(case_ref, entry.hash)


def verify(checkpoint_file: str | os.PathLike[str], public: PublicKey | None, expect_head: str | None = None) -> Report:
    """Walk the store's chain once, checking it and comparing it with every checkpoint signed by
    ``public`` (None: the file is known to hold none)."""
    checkpoints, findings = read_checkpoints(checkpoint_file, public) if public else ([], [])
    observer = _Observer(checkpoints)
    chain = logaudit.verify_store(expect_head, observe=observer.watch)
    report = Report(chain, findings, checkpoints[-1] if checkpoints else None, len(checkpoints), head()[0])
    for guard in chain.missing_guards:
        report.findings.append(
            Finding("UNGUARDED", f"{guard}: the database does not refuse changes to the log without it")
        )
    if chain.problem is not None:
        report.findings.append(Finding("TAMPERED", chain.problem))
    if public is not None:
        report.findings.extend(forged_activations(public))
    diverged = False
    previous = 0
    for index, checkpoint in enumerate(checkpoints):
        signed = f"the checkpoint of link {checkpoint.seq} signed at {checkpoint.time}"
        span = f"links {checkpoint.since + 1} to {checkpoint.seq}"
        if report.store_seq < checkpoint.seq:
            report.findings.append(
                Finding(
                    "TRUNCATED",
                    f"the store ends at link {report.store_seq}, but {signed} covered up to link {checkpoint.seq}: "
                    f"links {report.store_seq + 1} to {checkpoint.seq} were removed",
                )
            )
            break
        if checkpoint.seq > observer.seen:  # the walk stopped at a problem before it
            break
        same_records = records_digest(observer.totals[index]) == checkpoint.records
        gap, previous = checkpoint.since != previous, checkpoint.seq
        if observer.hashes.get(checkpoint.seq) == checkpoint.head and same_records:
            if observer.roots.get(checkpoint.seq) != checkpoint.cases:
                report.findings.append(
                    Finding(
                        "REWRITTEN",
                        f"the case index {signed} is not the one the store's records give: a record's "
                        "case was changed when it was signed, so a case's export would leave records out",
                    )
                )
            continue
        if gap and same_records and not diverged:
            report.findings.append(
                Finding(
                    "REWRITTEN",
                    f"the chain up to link {checkpoint.seq} is not the one {signed}: a record at or before "
                    f"link {checkpoint.since} was changed and the chain recomputed (the checkpoints before "
                    "it are missing, so where cannot be narrowed)",
                )
            )
        elif not same_records:
            report.findings.append(
                Finding(
                    "REWRITTEN",
                    f"{span} are not the records {signed}: one was changed, added or removed there "
                    "and the chain recomputed",
                )
            )
        elif not diverged:
            report.findings.append(
                Finding(
                    "REORDERED",
                    f"{span} are the records {signed}, but not in the order it signed: they were moved",
                )
            )
        diverged = True
    return report


def forged_activations(public: PublicKey) -> list[Finding]:
    """A FORGED finding for each policy activation whose signature does not verify with ``public``."""
    return [
        Finding(
            "FORGED",
            f"activation {row.id} (of version sha256 {row.digest}) is not signed with "
            f"key {public.key_id}: it was written around the service",
        )
        for row in PolicyActivation.select().order_by(PolicyActivation.id)
        if not versions.signature_verifies(row, public)
    ]
