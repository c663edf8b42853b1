"""Clients and their API keys: create, list, revoke, and look up the key a request carries.

A client (a case system, the co-ordinator, a policy owner) has a name, a role
and any number of keys; a key is only a credential, and what a request may
do and read follows from its key's client. Rotating a key: create a second
key for the client (``infoshare keys create --client NAME``), move the client
to it, revoke the first (``infoshare keys revoke KEY``); the client's records
stay its own throughout. A client's first key is named as the client, later
ones ``<client>-2``, ``<client>-3`` and so on.

A key is ``isk_<key id>.<secret>``, shown once at creation. The store keeps
the key id (public: it finds the row by index, so a lookup costs one indexed
read however many keys there are), a random salt, and the salted hash of the
secret, never the secret. The secret has 256 bits of entropy, so a fast hash
is enough: a leaked table yields no usable key, and the salt keeps equal
hashes from saying anything. The presented secret's hash is compared with
``hmac.compare_digest``, in constant time.

Every client, key and revocation is a record of the decision log's chain
(``service.store.logchain``): who could act, and since when, is evidence too.

Keys issued before key ids (``isk_<secret>``, no '.') still work: they are
found by the unsalted sha256 of the whole token, which reveals nothing a
timing could use (an attacker would need a preimage), and `keys list` marks
them for rotation.

Each process keeps the keys it has found (at most ``KNOWN_KEYS``), since a
key's id, salt, hash, role and client never change; what can change, its
revocation, is read from the store on every request, by primary key (a
prepared statement on PostgreSQL). So a revocation holds from the next
request in every worker process of every server, and a request costs one
small read instead of the join that finds a key (on PostgreSQL that read is
also the request's first use of its pooled connection, retried once on a
new one if the server had ended the session: ``read_retried``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from peewee import JOIN, Database, ModelSelect

from infoshare.service.store import logchain, prepared, statements
from infoshare.service.store.connections import read_retried
from infoshare.service.store.models import ApiKey, Client, utcnow

ROLES = ("case-system", "coordinator", "policy-owner")
TOKEN_PREFIX = "isk_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeyProblem(ValueError):
    """A key operation that cannot be done, with the reason in words."""


def hash_token(token: str) -> str:
    """How keys issued before key ids are stored: the whole token's unsalted sha256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_secret(salt: str, secret: str) -> str:
    return hmac.new(salt.encode("ascii"), secret.encode("utf-8"), hashlib.sha256).hexdigest()


def _check_name(name: str, what: str) -> None:
    if not NAME_PATTERN.match(name):
        raise KeyProblem(
            f"{what} name {name!r} is not allowed; use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


def create_client(role: str, name: str) -> Client:
    """A new client with ``role``; its name must be new."""
    if role not in ROLES:
        raise KeyProblem(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    _check_name(name, "client")
    with logchain.chained_writes(Client._meta.database):
        if Client.select().where(Client.name == name).exists():
            raise KeyProblem(f"a client named {name!r} already exists; choose another name")
        client = Client.create(name=name, role=role)
        logchain.chain("client", client)
    return client


def list_clients() -> list[Client]:
    return list(Client.select().order_by(Client.created_at, Client.id))


def _key_name(client: Client) -> str:
    """The client's name for its first key, then ``<name>-2``, ``<name>-3``, ... (at most 64 characters)."""
    taken = {key.name for key in ApiKey.select(ApiKey.name)}
    if client.name not in taken:
        return client.name
    number = 2
    while (name := f"{client.name[: 64 - len(str(number)) - 1]}-{number}") in taken:
        number += 1
    return name


def add_key(client_name: str) -> tuple[ApiKey, str]:
    """A new key for the client called ``client_name``, with its token (the only time the token exists)."""
    client = Client.get_or_none(Client.name == client_name)
    if client is None:
        raise KeyProblem(
            f"no client named {client_name!r}; `infoshare clients list` shows them, "
            "`infoshare clients create` makes one"
        )
    key_id, salt, secret = secrets.token_hex(8), secrets.token_hex(16), secrets.token_urlsafe(32)
    with logchain.chained_writes(ApiKey._meta.database):
        key = ApiKey.create(
            name=_key_name(client),
            role=client.role,
            client=client,
            key_id=key_id,
            salt=salt,
            key_hash=hash_secret(salt, secret),
        )
        logchain.chain("key", key)
    key.client_name = client.name
    return key, f"{TOKEN_PREFIX}{key_id}.{secret}"


def create_key(role: str, name: str | None = None) -> tuple[ApiKey, str]:
    """A key for the client called ``name``, made with ``role`` if it does not exist yet
    (no name: a new client named for its role); a client with another role is refused."""
    if role not in ROLES:
        raise KeyProblem(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    name = name or f"{role}-{secrets.token_hex(3)}"
    _check_name(name, "client")
    with logchain.chained_writes(ApiKey._meta.database):
        client = Client.get_or_none(Client.name == name) or create_client(role, name)
        if client.role != role:
            raise KeyProblem(
                f"a client named {name!r} already exists with role {client.role}; choose another name, "
                f"or add a key to it with `infoshare keys create --client {name}`"
            )
        return add_key(name)


def list_keys() -> list[ApiKey]:
    """Every key, oldest first, each with its client's name as ``client_name`` (None: no client)."""
    return list(
        ApiKey.select(ApiKey, Client.name.alias("client_name"))
        .join(Client, JOIN.LEFT_OUTER)
        .order_by(ApiKey.created_at, ApiKey.id)
        .objects()
    )


def revoke_key(name: str) -> ApiKey:
    """Mark a key revoked, and chain the revocation; it stops working on the next request."""
    with logchain.chained_writes(ApiKey._meta.database):
        key = ApiKey.get_or_none(ApiKey.name == name)
        if key is None:
            raise KeyProblem(f"no key named {name!r}; `infoshare keys list` shows the names")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            key.save()
            logchain.chain("key_revocation", key)
    return key


def _with_client() -> ModelSelect[ApiKey]:
    """Keys with their client's name as ``client_name``; a key without a client matches nothing."""
    return ApiKey.select(ApiKey, Client.name.alias("client_name")).join(Client)


def active_key(token: str) -> ApiKey | None:
    """The unrevoked key whose token this is, with its client's name as ``client_name``, or None."""
    key_id, dot, secret = token.removeprefix(TOKEN_PREFIX).partition(".")
    database = ApiKey._meta.database
    found = (database, key_id) if dot else (database, hash_token(token))
    key = _known.get(found)
    fresh = key is None
    if key is None:
        key = read_retried(database, lambda: _look_up(key_id) if dot else _look_up_unsalted(found[1]))
        if key is None or key.revoked_at is not None:
            return None
    presented = (hash_secret(key.salt, secret) if key.salt else "") if dot else found[1]
    if not hmac.compare_digest(presented, key.key_hash):
        return None
    if not fresh and _revoked(database, key.id):
        _known.pop(found, None)
        return None
    if len(_known) >= KNOWN_KEYS:
        _known.clear()
    _known[found] = key
    return key


KNOWN_KEYS = 10_000
"""Keys a process remembers (each well under a kilobyte); more and it starts again from none."""
_known: dict[tuple[Database, str], ApiKey] = {}  # (store, key id or unsalted hash) -> the key, unrevoked when found


def _look_up(key_id: str) -> ApiKey | None:
    return prepared.first(ApiKey, "by key id", lambda: _with_client().where(ApiKey.key_id == "").sql()[0], key_id)


def _look_up_unsalted(presented: str) -> ApiKey | None:
    return prepared.first(
        ApiKey,
        "by unsalted hash",
        lambda: _with_client().where((ApiKey.key_hash == "") & ApiKey.key_id.is_null()).sql()[0],
        presented,
    )


def _revoked(database: Database, key: int) -> bool:
    """Whether the key has been revoked since it was found (or is gone), read from the store now."""
    sql = 'SELECT "revoked_at" FROM "api_key" WHERE "id" = %s'
    row = read_retried(database, lambda: statements.execute(database, "infoshare_key_revoked", sql, [key]).fetchone())
    return row is None or row[0] is not None
