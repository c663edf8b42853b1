"""Signed checkpoints of the decision log's head, appended to a file the database never holds.

Whoever can write the store can rewrite every record and recompute every
hash of the chain (``service.logchain``); what they cannot do is sign. So
the service signs the chain's head with its Ed25519 key (``service.store.
signing``) at least every ``INFOSHARE_LOG_CHECKPOINT_RECORDS`` records and
every ``INFOSHARE_LOG_CHECKPOINT_SECONDS`` seconds, and appends each
checkpoint as one JSON line to ``INFOSHARE_LOG_CHECKPOINT_FILE``. A later
``infoshare log verify`` compares the store with those lines using the
public key only (``service.store.checkpointaudit``).

A checkpoint signs:

- ``seq`` and ``head``: the chain's last link and its hash, so any change to
  a record at or before it, however well rehashed, no longer reaches it;
- ``since`` and ``records``: the previous checkpoint's seq and an
  order-independent digest of the (kind, id, content hash) of the records
  after it, so a verifier can tell records put in another order (the same
  digest) from records changed (another);
- ``cases``: the root of the case map (``service.store.casemap``), which a
  case's export proves itself against;
- ``time`` and ``key_id``.

Who signs: every server worker runs one daemon thread, started after the
fork (gunicorn's ``post_worker_init``; no thread and no lock exist in the
master, so forking never copies a held lock), which signs every T seconds
and when its requests have added N records. Workers coordinate through the
checkpoint file's ``flock``: under it each reads the lines others appended,
and signs only if its head is beyond the last one, so the file's seq never
goes backwards. A single process (the CLI, a test's app) signs inline once
N records were added, or when asked (``infoshare log checkpoint``).

Before signing, the signer checks the chain is the one already signed:
the links it reads follow each other and the head it knew, and the store
still holds the last checkpoint's head at its seq, and its records' cases
give the case map that checkpoint signed; and that every link after the last
checkpoint carries the seal of a process holding the key
(``service.store.linkseal``), over its record and the record's case, so a
record linked at the head by someone who can only write the store is not
signed as the service's, nor a new record moved into another case. The
seal is what lets the signer take each case from the store's ``case_ref``
column without decoding and re-hashing the record (which cost a server 15%
of its decisions per second). If not (the store was
rewritten, truncated, or its chain rebuilt), it refuses, logs why, and
signs nothing until the store agrees again: a checkpoint never vouches for
a rewritten history.

Each line is written with one ``write`` on an ``O_APPEND`` descriptor and
``fsync``ed before the lock is released, so a crash leaves whole lines.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from peewee import JOIN, Database, ModelSelect, SqliteDatabase, fn
from playhouse.pool import PooledDatabase

from infoshare.service.store import linkseal, signing
from infoshare.service.store.casemap import CaseMap
from infoshare.service.store.logchain import GENESIS, content, content_hash, link_hash, rows_of
from infoshare.service.store.models import Decision, LogLink, Review
from infoshare.service.store.private import FILE_MODE, private_folder

log = logging.getLogger("infoshare.checkpoints")

FORMAT = "infoshare-checkpoint/1"
BATCH = 1000
# After each YIELD_AFTER seconds of checking links, the signing thread sleeps YIELD_SECONDS so
# that its worker's request threads run: a second's links are ~20 ms of CPU under the
# interpreter lock, which, taken in one go, held up every request of its worker for as long,
# once a second. It makes a long catch-up (the first round after a start reads the whole
# chain) at most a tenth slower.
YIELD_AFTER = 0.002
YIELD_SECONDS = 0.0002
RETRY_SECONDS = 30.0  # after a refusal: the store disagrees with what was signed until someone looks


def records_digest(total: int) -> str:
    return f"{total:064x}"


def record_term(kind: str, record_id: int, content: str) -> int:
    """One record's share of the order-independent digest: its hash as a number, summed mod 2**256."""
    return int(hashlib.sha256(f"record\n{kind}\n{record_id}\n{content}".encode()).hexdigest(), 16)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head: str
    since: int
    records: str
    cases: str
    time: str
    key_id: str
    signature: str = ""

    def message(self) -> bytes:
        """The bytes signed: every field but the signature, in canonical JSON."""
        fields = {**asdict(self), "format": FORMAT}
        del fields["signature"]
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("ascii")

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    def line(self) -> bytes:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n"

    def signed_by(self, public: signing.PublicKey) -> bool:
        return self.key_id == public.key_id and public.verify(self.message(), self.signature)

    @classmethod
    def from_dict(cls, value: Any) -> Checkpoint:
        """Raises ValueError unless ``value`` has every field with the right type."""
        if not isinstance(value, dict) or value.get("format") != FORMAT:
            raise ValueError(f"not a checkpoint (expected format {FORMAT!r})")
        try:
            fields = {name: value[name] for name in cls.__dataclass_fields__}
        except KeyError as exc:
            raise ValueError(f"the checkpoint has no {exc}") from None
        for name, kind in (("seq", int), ("since", int)):
            if type(fields[name]) is not kind:
                raise ValueError(f"the checkpoint's {name} is not a whole number")
        if any(
            not isinstance(fields[name], str) for name in ("head", "records", "cases", "time", "key_id", "signature")
        ):
            raise ValueError("the checkpoint has a field that is not text")
        return cls(**fields)

    @classmethod
    def parse(cls, text: bytes | str) -> Checkpoint:
        """Raises ValueError for anything but a checkpoint, however the line is broken: nesting too
        deep for the parser is a RecursionError, turned into the same "not JSON" as any garbage."""
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError("not JSON") from None
        return cls.from_dict(value)


def read_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes]]:
    """The checkpoint file's lines with their numbers (none if there is no file)."""
    try:
        with open(path, "rb") as file:
            for number, text in enumerate(file, start=1):
                if text.strip():
                    yield number, text
    except FileNotFoundError:
        return


@contextmanager
def locked(path: Path) -> Iterator[int]:
    """The checkpoint file open for appending (0600, made if missing), under its exclusive flock."""
    private_folder(path.parent)
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield descriptor
    finally:
        os.close(descriptor)  # releases the flock


@dataclass(frozen=True)
class ChainedLink:
    """A link as the signer reads it: what the chain holds, and the case its record belongs to."""

    seq: int
    kind: str
    record_id: int
    content_hash: str
    prev_hash: str
    hash: str
    seal: str | None
    case_ref: str | None


def links_after(seq: int, upto: int | None = None, checked_after: int | None = None) -> Iterator[ChainedLink]:
    """The store's links after ``seq`` (to ``upto``), in order, each with its record's case, a batch at a time.

    A record's case is read as the store holds it (a decision's ``case_ref``, a review's
    decision's), which someone who can write the store could change to move the record into
    another case's entry of the case map. So whoever places records by it checks it: against
    each link's seal, which covers the case (``linkseal.covers_case``), or by comparing the map
    with the root a checkpoint signed. A link after ``checked_after`` whose seal does not cover
    its case (sealed before cases were, or not at all) has its case read instead from content
    checked against its content hash, at the cost of decoding and re-hashing the record."""
    while True:
        query = _links_with_cases().where(LogLink.seq > seq)
        if upto is not None:
            query = query.where(LogLink.seq <= upto)
        batch = cast(list[tuple[Any, ...]], list(query.order_by(LogLink.seq).limit(BATCH).tuples()))
        cases: dict[tuple[str, int], str] = {}
        if checked_after is not None:
            cases = _cases_checked(
                [
                    link[:-1]
                    for link in batch
                    if link[0] > checked_after and link[1] in linkseal.CASE_KINDS and not linkseal.covers_case(link[6])
                ]
            )
        for *link, case_ref in batch:
            yield ChainedLink(*cast(Row, tuple(link)), cases.get((link[1], link[2]), case_ref))
        if len(batch) < BATCH:
            return
        seq = batch[-1][0]


LINK_COLUMNS = (
    LogLink.seq,
    LogLink.kind,
    LogLink.record_id,
    LogLink.content_hash,
    LogLink.prev_hash,
    LogLink.hash,
    LogLink.seal,
)
Row = tuple[int, str, int, str, str, str, str | None]


def _links_with_cases() -> ModelSelect[LogLink]:
    """Each link with its record's case as the store holds it, in one query of fixed text: a
    query with an IN list as long as the batch is a statement the connection caches for each
    length, which grew the signing worker by ~2 MiB every 10,000 decisions (measured)."""
    of_review = Decision.alias()
    return (
        LogLink.select(*LINK_COLUMNS, fn.COALESCE(Decision.case_ref, of_review.case_ref))
        .join(Decision, JOIN.LEFT_OUTER, on=(LogLink.kind == "decision") & (Decision.id == LogLink.record_id))
        .switch(LogLink)
        .join(Review, JOIN.LEFT_OUTER, on=(LogLink.kind == "review") & (Review.id == LogLink.record_id))
        .join(of_review, JOIN.LEFT_OUTER, on=of_review.id == Review.decision)
    )


def _cases_checked(batch: list[Row]) -> dict[tuple[str, int], str]:
    """The case of each decision and review in the batch, read
    from content that matches the content hash its link holds. A decision's case is its own
    content's; a review's is its decision's, checked against that decision's link. Raises
    ChainDisagrees on a mismatch."""
    linked = {(kind, record_id): digest for _, kind, record_id, digest, *_ in batch}
    found: dict[tuple[str, int], str] = {}
    reviews = _checked("review", [record_id for _, kind, record_id, *_ in batch if kind == "review"], linked)
    decision_ids = [record_id for _, kind, record_id, *_ in batch if kind == "decision"]
    wanted = {row.decision_id for row in reviews.values()} - set(decision_ids)
    if wanted:
        query = LogLink.select(LogLink.record_id, LogLink.content_hash).where(
            (LogLink.kind == "decision") & LogLink.record_id.in_(list(wanted))
        )
        rows = cast(Iterator[tuple[int, str]], query.tuples())
        linked.update({("decision", record_id): digest for record_id, digest in rows})
    decisions = _checked("decision", [*decision_ids, *wanted], linked)
    for decision_id in decision_ids:
        found[("decision", decision_id)] = decisions[decision_id].case_ref
    for review_id, review in reviews.items():
        decision = decisions.get(review.decision_id)
        if decision is None:
            raise ChainDisagrees(f"review {review_id}'s decision {review.decision_id} is not in the chain")
        found[("review", review_id)] = decision.case_ref
    return found


def _checked(kind: str, ids: list[int], linked: dict[tuple[str, int], str]) -> dict[int, Any]:
    """The records of ``kind`` with these ids, each checked against its link's content hash."""
    rows = rows_of(kind, ids) if ids else {}
    for record_id in ids:
        row = rows.get(record_id)
        if row is None or content_hash(content(kind, row)) != linked.get((kind, record_id)):
            raise ChainDisagrees(
                f"{kind} {record_id} does not match the content hash its link holds: the record was changed"
            )
    return rows


class ChainDisagrees(RuntimeError):
    """The store's chain is not the one already signed; the message says where."""


START_KINDS = ("scope", "policy_version", "activation", "client", "key")
"""What a new store holds at its first start, before any request: the chain's scope, the policy
version and its activation, the clients and keys made then. A first checkpoint over these is
signed without asking; over anything more (decisions, reviews, revocations) it is not, since a
store whose checkpoint file was removed and whose chain was rebuilt over rewritten records looks
exactly like that. Such a log is put under signatures once by hand: ``infoshare log checkpoint
--first``."""


def _refuse_a_first_checkpoint() -> None:
    """Raise ChainDisagrees if the chain holds records a new store does not hold at its first start."""
    beyond = (
        LogLink.select(LogLink.seq, LogLink.kind, LogLink.record_id)
        .where(LogLink.kind.not_in(START_KINDS))
        .order_by(LogLink.seq)
        .first()
    )
    if beyond is not None:
        raise ChainDisagrees(
            f"the checkpoint file holds no checkpoint, but the chain already holds records beyond a new "
            f"store's (from {beyond.kind} {beyond.record_id}, link {beyond.seq}): the checkpoints were removed, "
            "or an existing log was never signed; if so, after checking it, run `infoshare log checkpoint --first`"
        )


@dataclass
class _Tail:
    """What this process knows of the chain: its head, and the case map up to it."""

    seq: int = 0
    head: str = GENESIS
    cases: CaseMap | None = None

    def __post_init__(self) -> None:
        self.cases = self.cases or CaseMap()


class Checkpointer:
    """Signs the log's head into the checkpoint file; one per process, shared by its threads."""

    def __init__(
        self,
        database: Database,
        signer: signing.Signer,
        checkpoint_file: str,
        every_records: int,
        every_seconds: float,
    ) -> None:
        self.database = database
        self.signer = signer
        self.path = Path(checkpoint_file)
        self.every_records = every_records
        self.every_seconds = every_seconds
        self.refusal: str | None = None  # why the last attempt did not sign, if the chain disagreed
        self._secret = linkseal.secret_of(signer)  # what the links' seals are checked with
        self._known = _Tail()
        self._last: Checkpoint | None = None  # the file's last checkpoint signed by this key
        self._offset = 0  # how much of the file this process has read
        self._torn = False  # the file ends in part of a line
        self._added = 0  # records this process's requests added since it last signed
        self._lock = threading.Lock()  # one signing at a time within the process (the flock is per file)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._leader: int | None = None  # the signer's lock, once this process holds it (``_lead``)

    def start(self) -> None:
        """Start this process's signing thread; call it after any fork (a server worker's start)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="infoshare-checkpoints", daemon=True)
            self._thread.start()

    def noted(self, count: int = 1) -> None:
        """Records were added here: at N, wake the signing thread, or sign now if there is none."""
        self._added += count
        if self._added < self.every_records:
            return
        if self._thread is not None:
            self._wake.set()
            return
        try:
            self.sign()
        except Exception as exc:  # any error: the record is made, so its request must not fail; its checkpoint waits
            log.error("checkpoint not signed: %s", type(exc).__name__)

    def _run(self) -> None:
        """Sign every round, whatever goes wrong in one: nothing restarts this thread, so an error
        it let out would stop the worker's signing for good. Only the error's type is logged (its
        message may quote the store's content).

        One process signs at a time: the thread waits for an exclusive lock on the file beside
        the checkpoints (``<file>.signer``), held until its process ends, so the server's workers
        do not each read and re-hash every record (measured: ~0.2 ms of CPU a record each); when
        the signing worker dies the kernel frees the lock and another worker's thread takes over."""
        self._lead()
        while True:
            self._wake.wait(RETRY_SECONDS if self.refusal else self.every_seconds)
            self._wake.clear()
            try:
                self.sign()
            except Exception as exc:  # any error: see the docstring
                log.error("checkpoint not signed: %s", type(exc).__name__)
            finally:
                try:
                    self._hang_up()
                except Exception as exc:  # the next round opens a session again
                    log.error("checkpoint session not closed: %s", type(exc).__name__)

    def _lead(self) -> None:
        """Block until this process holds the signer's lock (see ``_run``); the descriptor stays
        open, and so the lock held, for the life of the process."""
        while True:
            try:
                descriptor = os.open(self.path.with_name(self.path.name + ".signer"), os.O_RDWR | os.O_CREAT, FILE_MODE)
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            except OSError as exc:  # the folder may be missing for a moment: try again
                log.error("cannot take the signer's lock: %s", type(exc).__name__)
                time.sleep(self.every_seconds)
                continue
            self._leader = descriptor
            return

    @property
    def stopped(self) -> bool:
        """This process's signing thread was started and is no longer running."""
        return self._thread is not None and not self._thread.is_alive()

    def _hang_up(self) -> None:
        """Between rounds the thread holds no session: a pooled one is closed, not kept idle, so a
        worker's sessions stay one per request thread using the store (``service.store.connections``)."""
        if isinstance(self.database, PooledDatabase) and not self.database.is_closed():
            self.database.manual_close()
        elif not isinstance(self.database, SqliteDatabase) and not self.database.is_closed():
            self.database.close()

    def sign_a_new_store(self) -> None:
        """At the service's start: if the file holds no checkpoint, sign the store's own first
        records at once, before a request can add any (over an existing log it is refused and
        logged). The session it used is closed, so a process forked after this holds none."""
        if next(read_lines(self.path), None) is not None:
            return
        try:
            with self.database.connection_context():
                self.sign()
        except Exception as exc:  # the service starts; the signing thread tries again
            log.error("checkpoint not signed: %s", type(exc).__name__)

    def sign(self, first: bool = False) -> Checkpoint | None:
        """Sign the head if it is beyond the file's last checkpoint; None if there was nothing new
        or the chain disagrees with what was signed (``refusal`` says why, and it is logged).
        ``first``: the file holds no checkpoint and the chain holds an existing log, to be signed
        as it is (``START_KINDS``); only ever asked for by hand."""
        with self._lock, locked(self.path) as descriptor:
            self._added = 0
            self._read_new_lines(descriptor)
            try:
                if self._last is None and not first:
                    _refuse_a_first_checkpoint()
                checkpoint = self._next(unsealed_too=first)
            except ChainDisagrees as exc:
                if self.refusal != str(exc):
                    log.error("the log is not signed: %s; run `infoshare log verify`", exc)
                self.refusal = str(exc)
                self._known = _Tail()
                return None
            except BaseException:
                # A round cut short may have taken records into the map that it had not yet
                # checked: the next one reads the chain again rather than trust them.
                self._known = _Tail()
                raise
            self.refusal = None
            if checkpoint is None:
                return None
            # A line a crash cut short is ended first, so it cannot swallow this one.
            os.write(descriptor, (b"\n" if self._torn else b"") + checkpoint.line())
            os.fsync(descriptor)
            self._offset, self._torn = os.fstat(descriptor).st_size, False
            self._last = checkpoint
            return checkpoint

    def _read_new_lines(self, descriptor: int) -> None:
        """Read what other processes appended since this one last looked (under the flock)."""
        size = os.fstat(descriptor).st_size
        if size < self._offset:
            log.error("the checkpoint file %s is shorter than when it was last read: lines were removed", self.path)
            self._offset, self._last = 0, None
        with open(self.path, "rb") as file:
            file.seek(self._offset)
            data = file.read(size - self._offset)
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        self._torn = len(complete) < len(data)
        public = self.signer.public
        for text in complete.splitlines():
            try:
                checkpoint = Checkpoint.parse(text)
            except ValueError:
                continue
            if checkpoint.signed_by(public) and (self._last is None or checkpoint.seq > self._last.seq):
                self._last = checkpoint

    def _next(self, unsealed_too: bool = False) -> Checkpoint | None:
        """Catch up with the store from this process's head and build the checkpoint of the new head.
        Links after the last checkpoint must bear the key's seal; ``unsealed_too`` (asked for by hand,
        ``infoshare log checkpoint --first``) also signs links with none, made before seals were."""
        since = self._last.seq if self._last else 0
        since_head = self._last.head if self._last else GENESIS
        if self._known.seq > since:  # the file lost lines this process saw: start again from the beginning
            self._known = _Tail()
        known = self._known
        if known.seq == since and known.head != since_head:
            raise ChainDisagrees(f"link {since}'s hash is not the one the last checkpoint signed")
        total = 0
        yielding = threading.current_thread() is self._thread  # not a command's own signing, nor a test's
        ran_from = time.perf_counter()
        for link in links_after(known.seq, checked_after=since):
            if yielding and time.perf_counter() - ran_from >= YIELD_AFTER:
                time.sleep(YIELD_SECONDS)
                ran_from = time.perf_counter()
            if link.seq != known.seq + 1 or link.prev_hash != known.head:
                raise ChainDisagrees(f"link {link.seq} does not follow link {known.seq} as it did")
            # A value no link holds (text that is not ASCII, say) was written around the service.
            try:
                expected = link_hash(link.seq, link.kind, link.record_id, link.prev_hash, link.content_hash)
            except (TypeError, ValueError):
                raise ChainDisagrees(f"link {link.seq} holds a value that is not a link's") from None
            if link.hash != expected:
                raise ChainDisagrees(f"link {link.seq}'s hash does not match its content")
            if link.seq > since:  # before its case is taken into the map: the seal vouches for it
                self._check_seal(link, unsealed_too)
                total = (total + record_term(link.kind, link.record_id, link.content_hash)) % (1 << 256)
            if link.case_ref is not None:
                assert known.cases is not None
                known.cases.add(link.case_ref, link.hash)
            known.seq, known.head = link.seq, link.hash
            if known.seq == since:
                self._check_caught_up(known)
        if known.seq < since:
            raise ChainDisagrees(f"the store ends at link {known.seq}, before link {since} that was signed")
        if known.seq == since:
            return None
        assert known.cases is not None
        unsigned = Checkpoint(
            seq=known.seq,
            head=known.head,
            since=since,
            records=records_digest(total),
            cases=known.cases.root(),
            time=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            key_id=self.signer.public.key_id,
        )
        return Checkpoint(**{**asdict(unsigned), "signature": self.signer.sign(unsigned.message())})

    def _check_caught_up(self, known: _Tail) -> None:
        """Having read the chain up to the last checkpoint, check it is what that checkpoint signed:
        its head, and the case map, whose cases were read as the store holds them (``links_after``)."""
        assert self._last is not None and known.cases is not None
        if known.head != self._last.head:
            raise ChainDisagrees(f"link {known.seq}'s hash is not the one the last checkpoint signed")
        if known.cases.root() != self._last.cases:
            raise ChainDisagrees(
                f"the cases of the records to link {known.seq} are not the ones the last checkpoint signed: "
                "a record's case_ref was changed in the store; `infoshare log verify` names it"
            )

    def _check_seal(self, link: ChainedLink, unsealed_too: bool) -> None:
        if unsealed_too and link.seal is None:
            return
        if not linkseal.holds(self._secret, link.kind, link.record_id, link.content_hash, link.case_ref, link.seal):
            state = "no seal" if link.seal is None else "a seal not made with the log's key for its record and case"
            raise ChainDisagrees(
                f"link {link.seq} ({link.kind} {link.record_id}) has {state}: it was not written by the service"
            )


def for_app(database: Database, settings: dict, create: bool = True) -> Checkpointer:
    """The process's checkpointer from the settings; the key file is made if missing and ``create``
    (the service's start), else a missing key is a ``SigningKeyError`` (a command must not sign
    with a key of its own)."""
    key_file = settings["INFOSHARE_LOG_SIGNING_KEY_FILE"]
    return Checkpointer(
        database,
        signing.load_or_create(key_file) if create else signing.load(key_file),
        settings["INFOSHARE_LOG_CHECKPOINT_FILE"],
        int(settings["INFOSHARE_LOG_CHECKPOINT_RECORDS"]),
        float(settings["INFOSHARE_LOG_CHECKPOINT_SECONDS"]),
    )
