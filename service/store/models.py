"""The decision log's tables: clients and their API keys, decisions, co-ordinator reviews and the hash chain.

The models are bound to a database at start (see ``service.store``), so the
same classes run on sqlite and on PostgreSQL. Decisions and reviews are
append-only: the service has no code path that updates or deletes them, and
the database refuses to (``service.appendonly``), so the case file keeps every decision with the rationale it was made on, as the
protocol's ``record-decisions`` clause requires. API keys are only ever
created and revoked.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from peewee import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    Model,
    TextField,
    fn,
)

from infoshare.service.store.canonicaljson import canonical


def utcnow() -> datetime:
    """Naive UTC: both backends store it unchanged and hand it back as written."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc(moment: datetime) -> datetime:
    """Attach the UTC zone the column leaves off, for ISO 8601 output."""
    return moment.replace(tzinfo=UTC)


class JSONField(TextField):
    """JSON kept as text, so one column type works on sqlite and PostgreSQL.

    Written as canonical JSON (``service.store.canonicaljson``): sorted and ASCII like
    ``json.dumps(value, sort_keys=True)``, which wrote the earlier rows, and read alike; it
    costs a recorded decision's two columns ~3 us where the standard library took ~30."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else canonical(value).decode("ascii")

    def python_value(self, value: str | None) -> Any:
        """orjson reads what json.dumps wrote about 4x faster (the log's signer reads every record);
        what orjson refuses (an integer past 64 bits, say) is read by the stdlib as before. The
        service never writes NaN or Infinity (no fact, verdict or text holds a float); one put in
        the store around it is read as the text it is, ``"NaN"``, so that it cannot pass for the
        ``null`` that orjson would write for it in a record's canonical JSON
        (``service.store.canonicaljson``): its content hash no longer matches."""
        if value is None:
            return None
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return json.loads(value, parse_constant=str)


class BaseModel(Model):
    class Meta:
        legacy_table_names = False


class Client(BaseModel):
    """Who calls the service: a case system, the Safeguarding Co-ordinator, a policy owner.

    A client has a name (unique, never changed) and one role, and holds any
    number of API keys; what a caller may read is decided by its client, not
    by the key it used, so rotating a key (a second key, then revoking the
    first) loses no access. Records name their client by ``name``.
    Stores made before clients had one client per key: at start each such
    key becomes the only key of a client of the key's own name and role
    (``service.store.database``).
    """

    id = AutoField()
    name = CharField(max_length=64, unique=True)
    role = CharField(max_length=32)
    created_at = DateTimeField(default=utcnow)


class ApiKey(BaseModel):
    """One credential of a client; the token itself is never stored (see ``service.access.keys``).

    ``key_id`` is the token's public part, looked up by index; ``key_hash`` is
    the salted hash of its secret part. Keys made before ``key_id`` existed
    have neither ``key_id`` nor ``salt``: their ``key_hash`` is the unsalted
    sha256 of the whole token. ``role`` is always its client's role (kept on
    the key so the per-request lookup reads one row); ``client`` is null only
    in a store not yet migrated, and such a key is refused.
    """

    id = AutoField()
    name = CharField(max_length=64, unique=True)
    role = CharField(max_length=32)
    key_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)
    key_id = CharField(max_length=32, null=True, unique=True)
    salt = CharField(max_length=32, null=True)
    client = ForeignKeyField(Client, backref="keys", null=True, on_delete="RESTRICT")
    client_id: int  # null only in a store not yet migrated
    client_name: str  # set by the per-request lookup (``service.access.keys.active_key``)


class Decision(BaseModel):
    """One evaluated and recorded sharing question, with the policy it was decided under.

    It belongs to the client that recorded it: ``client`` is that client's
    name and ``key_name`` the key it used. Decisions recorded before clients
    existed have no ``client``; their client is the one named ``key_name``
    (each key became a client of its own name), which ``owner()`` says for
    both. ``idempotency_key`` and ``request_digest`` (sha256 of the validated
    request) are written in the same row, so a retry after a lost answer, or
    after the server was killed between recording and answering, finds the
    record (``service.api.idempotency``).
    """

    id = BigAutoField()
    case_ref = CharField(max_length=200, index=True)
    facts = JSONField()
    verdict = JSONField()
    decision = CharField(max_length=32)
    policy_id = CharField(max_length=200)
    policy_version = CharField(max_length=200)
    policy_digest = CharField(max_length=64)
    requested_by = CharField(max_length=200, null=True)
    key_name = CharField(max_length=64)
    recorded_at = DateTimeField(default=utcnow)
    client = CharField(max_length=64, null=True)
    idempotency_key = CharField(max_length=255, null=True)
    request_digest = CharField(max_length=64, null=True)

    class Meta:
        indexes = ((("client", "idempotency_key"), False),)

    @classmethod
    def owner(cls) -> Any:
        """The name of the client a decision belongs to, as an SQL expression."""
        return fn.COALESCE(cls.client, cls.key_name)

    reviews: list[Review]  # Review.decision's backref, a list as every reader prefetches it


class Review(BaseModel):
    """The Safeguarding Co-ordinator's final decision on a recorded decision.

    ``client`` names the client that made it (null on reviews made before
    clients, whose client is the one named ``key_name``), ``key_name`` the key used.
    """

    id = BigAutoField()
    decision = ForeignKeyField(Decision, backref="reviews", on_delete="RESTRICT")
    final_decision = CharField(max_length=32)
    rationale = TextField()
    key_name = CharField(max_length=64)
    reviewed_at = DateTimeField(default=utcnow)
    client = CharField(max_length=64, null=True)
    reviewed_by = CharField(max_length=200, null=True)  # the person; null on reviews made before it was asked


class PolicyVersion(BaseModel):
    """The full text of a policy version, keyed by its digest and written once, so a
    decision made under it can be re-explained after the files have changed."""

    digest = CharField(max_length=64, primary_key=True)
    policy_id = CharField(max_length=200)
    version = CharField(max_length=200)
    files = JSONField()  # file name -> text, e.g. {"rules/3-consent.yaml": "..."}
    stored_at = DateTimeField(default=utcnow)


class PolicyActivation(BaseModel):
    """Which version answers: the latest row. Every worker process follows it, and only if the
    row is signed with the log's signing key (``service.activation``).

    ``tests`` are the policy's own tests (file name -> text) the activating process checked the
    version with, so every worker runs the same ones; ``signature`` signs the digest, the tests,
    who and when. Both are null on activations made before activations were signed.
    """

    id = BigAutoField()
    digest = CharField(max_length=64)
    activated_by = CharField(max_length=200)
    activated_at = DateTimeField(default=utcnow)
    tests = JSONField(null=True)
    signature = CharField(max_length=200, null=True)


class LogScope(BaseModel):
    """Which kinds of record the chain covers from this record on, and how many existing ones
    were adopted into it then (``service.logchain``): one row when a chain is made, one more
    each time a store made before some kind was chained is opened. Chained itself, so the
    log says since when it covers what."""

    id = BigAutoField()
    kinds = JSONField()  # the kinds this row adds, e.g. ["activation", "client", ...]
    adopted = JSONField()  # kind -> existing records chained at that moment
    recorded_at = DateTimeField(default=utcnow)


class LogLink(BaseModel):
    """One link of the hash chain over everything that decides, in the order it was recorded:
    decisions, reviews, policy versions, activations, clients, keys and key revocations.

    ``content_hash`` is the sha256 of the record's canonical content and
    ``hash`` the sha256 of (seq, kind, record_id, prev_hash, content_hash), so
    each link commits to its record and to every link before it
    (``service.logchain``). ``seal`` shows that a process holding the log's key wrote it
    (``service.store.linkseal``); links made before seals have none.
    """

    seq = BigIntegerField(primary_key=True)
    kind = CharField(max_length=16)
    record_id = BigIntegerField()
    content_hash = CharField(max_length=64)
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)
    seal = CharField(max_length=64, null=True)

    class Meta:
        indexes = ((("kind", "record_id"), True),)


class LogPending(BaseModel):
    """A decision or review committed but not yet linked into the chain, with its content
    hash (PostgreSQL links after commit, in batches; see ``service.logchain``). Deleted
    once linked, its seal copied to the link."""

    id = BigAutoField()
    kind = CharField(max_length=16)
    record_id = BigIntegerField()
    content_hash = CharField(max_length=64)
    seal = CharField(max_length=64, null=True)


class IdempotencyClaim(BaseModel):
    """A ``POST /v1/decisions`` under an Idempotency-Key that is being answered right now.

    One row per (client, key) while its request runs, so a second request with
    that key, in any worker or server sharing the store, is told it is in
    flight (409). Removed when the request ends; a claim left by a killed
    server is taken over once it is older than any request can run
    (``service.store.idempotency``). The record itself carries the key, so a
    finished request is found in ``decision``, never here.
    """

    id = AutoField()
    client = CharField(max_length=64)
    key = CharField(max_length=255)
    claimed_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("client", "key"), True),)


class Person(BaseModel):
    """Someone who signs in to the web pages (see ``service.access.people``).

    ``login`` is what they type to sign in; ``name`` is how the case file names
    them. ``password_hash`` is an argon2id hash (None until a password is
    chosen); a one-time sign-in link is kept as the sha256 of its token with an
    expiry. ``failed_signins`` and ``locked_until`` are the lock-out;
    ``session_epoch`` changes at every sign-out, so a copied session cookie
    stops working when its owner signs out. ``client`` is the client their
    records belong to, one per person, with the API role they act as.
    """

    id = BigAutoField()
    login = CharField(max_length=64, unique=True)
    name = CharField(max_length=200)
    role = CharField(max_length=32)
    client = ForeignKeyField(Client, backref="people", on_delete="RESTRICT")
    client_id: int
    password_hash = CharField(max_length=200, null=True)
    link_hash = CharField(max_length=64, null=True, unique=True)
    link_expires_at = DateTimeField(null=True)
    failed_signins = BigIntegerField(default=0)
    locked_until = DateTimeField(null=True)
    session_epoch = BigIntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    disabled_at = DateTimeField(null=True)


class InterviewDraft(BaseModel):
    """A practitioner's answers so far to "May I share this?", until recorded or discarded.

    Kept on the server, not in the session cookie: the answers may hold
    personal information, and a cookie is readable by whoever holds it.
    """

    person = ForeignKeyField(Person, primary_key=True, on_delete="CASCADE")
    facts = JSONField()
    updated_at = DateTimeField(default=utcnow)


MODELS = (
    Client,
    ApiKey,
    IdempotencyClaim,
    Decision,
    Review,
    LogLink,
    LogPending,
    LogScope,
    PolicyVersion,
    PolicyActivation,
    Person,
    InterviewDraft,
)
APPEND_ONLY = (Decision, Review, LogLink, LogScope, PolicyVersion, PolicyActivation)
"""The evidence: the decision log, its chain, and the policy versions decisions were made under."""
