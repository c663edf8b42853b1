"""Verify the decision log's hash chain, in the store or in an export, and export it.

An export is JSON lines: a header ``{"format": "infoshare-log/1", "case_ref":
REF or null, "head": {"seq", "hash"}}``, then one line per record in chain
order, ``{"seq", "kind", "record_id", "record", "content_hash", "prev_hash",
"hash"}``,
where ``record`` is exactly the content that was hashed.

What an export proves on its own:

- a full export (no ``--case``): everything ``verify`` proves of the store:
  every record unchanged, none inserted or removed, up to the head it names;
- a case export: each record is unchanged since it was chained (its content
  hash), and sits at its place in the chain (its link hash commits to its
  content and to the link before it); where two exported records are
  neighbours in the chain the link between them is checked too. It cannot
  show on its own that no record of the case was left out: comparing its
  links with the store's (or with a full export) does, since every link hash
  commits to the whole chain before it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from peewee import Model

from infoshare.service.store import appendonly
from infoshare.service.store.logchain import (
    GENESIS,
    MODEL_OF,
    content,
    content_hash,
    covered_kinds,
    head,
    link_hash,
    record_id,
    rows_of,
    unchained,
)
from infoshare.service.store.models import Decision, LogLink, LogPending, Review

FORMAT = "infoshare-log/1"
BATCH = 1000


@dataclass(frozen=True)
class Entry:
    """A chain link with its record's content (None if the record is gone)."""

    seq: int
    kind: str
    record_id: int
    record: dict[str, Any] | None
    content_hash: str
    prev_hash: str
    hash: str

    @property
    def name(self) -> str:
        return f"{self.kind} {self.record_id} (link {self.seq})"

    def as_line(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "record_id": self.record_id,
            "record": self.record,
            "content_hash": self.content_hash,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class Verification:
    count: int
    head: tuple[int, str]
    problem: str | None = None
    pending: int = 0  # committed, not linked yet (see service.logchain)
    missing_guards: tuple[str, ...] = ()  # append-only triggers not in place (a store only)

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.missing_guards


def check_entries(
    entries: Iterable[Entry], whole_chain: bool, expect_head: str | None = None, after: Entry | None = None
) -> Verification:
    """Walk entries in chain order and name the first that was altered, inserted or removed.

    ``whole_chain``: the entries must be the chain from its first link (or from
    just after ``after``, a link verified before), with no gaps; otherwise (one
    case's records) only neighbouring links are compared.
    """
    previous: Entry | None = after
    count = 0
    seen_head = expect_head is None
    for entry in entries:
        problem = _entry_problem(entry, previous, whole_chain)
        if problem:
            return Verification(count, _head_of(previous), problem)
        seen_head = seen_head or entry.hash == expect_head
        previous, count = entry, count + 1
    if not seen_head:
        return Verification(
            count,
            _head_of(previous),
            f"the chain no longer holds the head {expect_head}: records after it were removed "
            "or the chain was rewritten",
        )
    return Verification(count, _head_of(previous))


def _head_of(entry: Entry | None) -> tuple[int, str]:
    return (entry.seq, entry.hash) if entry else (0, GENESIS)


def _entry_problem(entry: Entry, previous: Entry | None, whole_chain: bool) -> str | None:
    expected_seq = previous.seq + 1 if previous else 1
    if whole_chain and entry.seq > expected_seq:
        return (
            f"links {expected_seq} to {entry.seq - 1} are missing before {entry.name}: "
            "the records chained there were removed"
        )
    if previous is not None and entry.seq <= previous.seq:
        return f"{entry.name} is out of order after link {previous.seq}: it was inserted or moved"
    if entry.seq == expected_seq and entry.prev_hash != (previous.hash if previous else GENESIS):
        return (
            f"{entry.name} does not follow the link before it: a record was inserted or removed "
            "there, or that link was rewritten"
        )
    if entry.hash != link_hash(entry.seq, entry.kind, entry.record_id, entry.prev_hash, entry.content_hash):
        return f"the link of {entry.name} was altered"
    if entry.record is None:
        return f"{entry.name} was removed"
    if content_hash(entry.record) != entry.content_hash:
        return f"{entry.name} was altered: its content no longer matches the hash it was chained with"
    return None


def _links(where: Any = None) -> Iterator[LogLink]:
    """Links in seq order, read in batches so a long log is never held in memory."""
    after = 0
    while True:
        page = LogLink.seq > after
        batch = list(LogLink.select().where(page if where is None else where & page).order_by(LogLink.seq).limit(BATCH))
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].seq


def _entries(links: Iterable[LogLink]) -> Iterator[Entry]:
    """Each link with the content of the record it names, fetched a batch at a time."""
    batch: list[LogLink] = []
    for link in links:
        batch.append(link)
        if len(batch) == BATCH:
            yield from _with_records(batch)
            batch = []
    yield from _with_records(batch)


def _with_records(batch: list[LogLink]) -> Iterator[Entry]:
    rows: dict[tuple[str, int], Model] = {}
    for kind in MODEL_OF:
        ids = [link.record_id for link in batch if link.kind == kind]
        if ids:
            rows.update({(kind, number): row for number, row in rows_of(kind, ids).items()})
    for link in batch:
        row = rows.get((link.kind, link.record_id))
        yield Entry(
            link.seq,
            link.kind,
            link.record_id,
            content(link.kind, row) if row is not None else None,
            link.content_hash,
            link.prev_hash,
            link.hash,
        )


def _unchained() -> str | None:
    """The first record of a kind the chain covers with no link and none pending: one written
    around the service."""
    covered = covered_kinds()
    for kind in (kind for kind in MODEL_OF if kind in covered):
        row = next(unchained(kind), None)
        if row is not None:
            return f"{kind} {record_id(kind, row)} is not in the chain: it was written around the service"
    return None


def verify_store(
    expect_head: str | None = None, observe: Callable[[Iterable[Entry]], Iterable[Entry]] | None = None
) -> Verification:
    """Walk the store's whole chain, then look for records that are not on it, and for
    append-only triggers that are not in place (found, never put back: see ``appendonly``).

    ``observe`` wraps the walk's entries, to see each as it is checked
    (``service.store.checkpointaudit`` compares them with the checkpoints)."""
    guards = tuple(appendonly.missing(LogLink._meta.database))
    entries: Iterable[Entry] = _entries(_links())
    result = check_entries(observe(entries) if observe else entries, whole_chain=True, expect_head=expect_head)
    if result.ok:
        problem = _unchained()
        return Verification(result.count, result.head, problem, LogPending.select().count(), guards)
    return Verification(result.count, result.head, result.problem, missing_guards=guards)


def of_case(case_ref: str) -> Any:
    """The condition on links that selects one case's decisions and their reviews."""
    decisions = Decision.select(Decision.id).where(Decision.case_ref == case_ref)
    reviews = Review.select(Review.id).where(Review.decision.in_(decisions))
    return ((LogLink.kind == "decision") & LogLink.record_id.in_(decisions)) | (
        (LogLink.kind == "review") & LogLink.record_id.in_(reviews)
    )


def case_entries(case_ref: str, upto: int) -> Iterator[Entry]:
    """One case's entries in chain order, to link ``upto``."""
    return _entries(_links(of_case(case_ref) & (LogLink.seq <= upto)))


def verify_through(seq: int, after: tuple[int, str] = (0, GENESIS)) -> Verification:
    """Walk the store's chain up to link ``seq``, from just after the link ``after`` names by
    (seq, hash), verified before: a worker checks an activation this way, only the part of the
    chain it has not seen yet. The links after ``after`` must still follow the hash it had."""
    start = Entry(after[0], "", 0, None, "", "", after[1]) if after[0] else None
    links = _links((LogLink.seq > after[0]) & (LogLink.seq <= seq))
    result = check_entries(_entries(links), whole_chain=True, after=start)
    if result.ok and result.head[0] != seq:
        return Verification(result.count, result.head, f"link {seq} is missing")
    return result


def export(out: IO[str], case_ref: str | None = None) -> int:
    """Write the chain (or one case's part of it) as JSON lines; returns the records written."""
    links = _links() if case_ref is None else _links(of_case(case_ref))
    seq, chain_head = head()
    out.write(json.dumps({"format": FORMAT, "case_ref": case_ref, "head": {"seq": seq, "hash": chain_head}}) + "\n")
    count = 0
    for entry in _entries(links):
        out.write(json.dumps(entry.as_line(), sort_keys=True) + "\n")
        count += 1
    return count


class ExportUnreadable(ValueError):
    """An export file that is not an infoshare log export, with where and why."""


def verify_export(lines: Iterator[str], expect_head: str | None = None) -> Verification:
    """Check an export on its own (see the module's docstring for what that proves)."""
    header = _parse(next(lines, ""), 1)
    if header.get("format") != FORMAT:
        raise ExportUnreadable(f"line 1: not an infoshare log export (expected format {FORMAT!r})")
    case_ref = header.get("case_ref")
    entries = _file_entries(lines, case_ref)
    named = header.get("head")
    if not isinstance(named, dict) or not isinstance(case_ref, str | None):
        raise ExportUnreadable("line 1: the header needs a head {seq, hash} and a case_ref (text or null)")
    result = check_entries(entries, whole_chain=case_ref is None, expect_head=expect_head)
    if result.ok and case_ref is None and list(result.head) != [named.get("seq"), named.get("hash")]:
        return Verification(
            result.count,
            result.head,
            f"the export ends at link {result.head[0]} but its header names head "
            f"{named.get('seq')}: records at the end were removed",
        )
    return result


def _file_entries(lines: Iterable[str], case_ref: str | None) -> Iterator[Entry]:
    decisions: set[int] = set()
    for number, text in enumerate(lines, start=2):
        line = _parse(text, number)
        try:
            record = line["record"]
            entry = Entry(
                line["seq"],
                line["kind"],
                line["record_id"],
                record,
                line["content_hash"],
                line["prev_hash"],
                line["hash"],
            )
        except (KeyError, TypeError) as exc:
            raise ExportUnreadable(f"line {number}: missing {exc}") from None
        _check_shape(entry, number)
        if case_ref is not None:
            fields = entry.record or {}
            belongs = (
                fields.get("case_ref") == case_ref
                if entry.kind == "decision"
                else type(fields.get("decision_id")) is int and fields["decision_id"] in decisions
            )
            if not belongs:
                raise ExportUnreadable(f"line {number}: {entry.name} is not part of case {case_ref}")
            if entry.kind == "decision":
                decisions.add(entry.record_id)
        yield entry


def _check_shape(entry: Entry, number: int) -> None:
    """An entry whose fields have the wrong types is unreadable, not a traceback further on."""
    if type(entry.seq) is not int or type(entry.record_id) is not int:
        raise ExportUnreadable(f"line {number}: seq and record_id must be whole numbers")
    if not all(isinstance(value, str) for value in (entry.kind, entry.content_hash, entry.prev_hash, entry.hash)):
        raise ExportUnreadable(f"line {number}: kind, content_hash, prev_hash and hash must be text")
    if entry.record is not None and not isinstance(entry.record, dict):
        raise ExportUnreadable(f"line {number}: record must be a JSON object or null")


def _parse(text: str, number: int) -> dict:
    """One line as a JSON object; nesting too deep for the parser (RecursionError) is unreadable too."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise ExportUnreadable(f"line {number}: not a JSON object")
    return value
