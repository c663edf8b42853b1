"""API keys: issue, list, revoke, and look up the key a request carries.

A key is a random token shown once at creation; the store keeps only its
sha256. The token has 256 bits of entropy, so an unsalted fast hash is enough:
there is nothing to guess, and a leaked table yields no usable key.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from service.models import ApiKey, utcnow

ROLES = ("case-system", "coordinator", "policy-owner")
TOKEN_PREFIX = "isk_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeyProblem(ValueError):
    """A key operation that cannot be done, with the reason in words."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.create(name=name, role=role, key_hash=hash_token(token))
    return key, token


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
    return ApiKey.get_or_none(
        (ApiKey.key_hash == hash_token(token)) & (ApiKey.revoked_at.is_null())
    )
