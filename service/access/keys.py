"""API keys: issue, list, revoke, and look up the key a request carries.

A key is ``isk_<key id>.<secret>``, shown once at creation. The store keeps
the key id (public: it finds the row by index, so a lookup costs one indexed
read however many keys there are), a random salt, and the salted hash of the
secret, never the secret. The secret has 256 bits of entropy, so a fast hash
is enough: a leaked table yields no usable key, and the salt keeps equal
hashes from saying anything. The presented secret's hash is compared with
``hmac.compare_digest``, in constant time.

Keys issued before key ids (``isk_<secret>``, no '.') still work: they are
found by the unsalted sha256 of the whole token, which reveals nothing a
timing could use (an attacker would need a preimage), and `keys list` marks
them for rotation. Nothing is cached: every request reads the key's row, so
a revocation holds from the next request in every worker process.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from infoshare.service.store import prepared
from infoshare.service.store.models import ApiKey, utcnow

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


def create_key(role: str, name: str | None = None) -> tuple[ApiKey, str]:
    """Store a new key and return it with its token (the only time the token exists)."""
    if role not in ROLES:
        raise KeyProblem(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    name = name or f"{role}-{secrets.token_hex(3)}"
    if not NAME_PATTERN.match(name):
        raise KeyProblem(
            f"key name {name!r} is not allowed; use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if ApiKey.select().where(ApiKey.name == name).exists():
        raise KeyProblem(f"a key named {name!r} already exists; choose another name")
    key_id, salt, secret = secrets.token_hex(8), secrets.token_hex(16), secrets.token_urlsafe(32)
    key = ApiKey.create(name=name, role=role, key_id=key_id, salt=salt, key_hash=hash_secret(salt, secret))
    return key, f"{TOKEN_PREFIX}{key_id}.{secret}"


def list_keys() -> list[ApiKey]:
    return list(ApiKey.select().order_by(ApiKey.created_at, ApiKey.id))


def revoke_key(name: str) -> ApiKey:
    """Mark a key revoked; it stops working on the next request."""
    key = ApiKey.get_or_none(ApiKey.name == name)
    if key is None:
        raise KeyProblem(f"no key named {name!r}; `infoshare keys list` shows the names")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        key.save()
    return key


def active_key(token: str) -> ApiKey | None:
    """The unrevoked key whose token this is, or None."""
    key_id, dot, secret = token.removeprefix(TOKEN_PREFIX).partition(".")
    if dot:
        key = prepared.first(ApiKey, "by key id", lambda: ApiKey.select().where(ApiKey.key_id == "").sql()[0], key_id)
        presented = hash_secret(key.salt, secret) if key is not None and key.salt else ""
    else:
        presented = hash_token(token)
        key = prepared.first(
            ApiKey,
            "by unsalted hash",
            lambda: ApiKey.select().where((ApiKey.key_hash == "") & ApiKey.key_id.is_null()).sql()[0],
            presented,
        )
    if key is None or key.revoked_at is not None or not hmac.compare_digest(presented, key.key_hash):
        return None
    return key
