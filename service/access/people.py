"""People who sign in to the web pages: accounts, passwords, one-time links, lock-out.

A person has one of three roles, and each acts as the API role beside it
(``ACTS_AS``), through the same permission matrix (``service.access.auth``):
a practitioner records and reads back their own decisions, as a case system
does; a co-ordinator reads every decision and reviews; a policy owner tries
cases and activates policy versions. Each person has a client of their own
(``person-<login>``, with the API role they act as), and their records
belong to it exactly as a case system's belong to its client; the key name
on their records is ``web-sign-in``, the credential they used.

Passwords are hashed with argon2id (argon2-cffi's defaults, memory-hard), so
a copied table costs an attacker real work per guess. A one-time sign-in
link carries 256 random bits; only its sha256 is stored, it expires, and it
is spent on first use. After ``MAX_FAILURES`` wrong passwords in a row an
account is locked for ``LOCK_SECONDS``; a correct password while locked is
refused too, so guessing cannot go on under the lock. Unknown logins are
hashed against a dummy hash, so the answer takes as long as for a real one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from infoshare.service.store import logchain
from infoshare.service.store.models import Client, Person, utcnow

ROLES = ("practitioner", "coordinator", "policy-owner")
ACTS_AS = {"practitioner": "case-system", "coordinator": "coordinator", "policy-owner": "policy-owner"}
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,56}$")  # the client's name, person-<login>, fits 64
CLIENT_PREFIX = "person-"
KEY_NAME = "web-sign-in"
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
LINK_HOURS = 24

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class PersonProblem(ValueError):
    """An account operation that cannot be done, with the reason in words."""


@dataclass(frozen=True)
class Principal:
    """Who a page request acts as: the API's ``g.api_key`` has the same ``name``, ``role``,
    ``client_name`` and ``client_id``, so the API's functions serve a page unchanged."""

    name: str  # the credential, as a key's name
    role: str  # the API role they act as
    client_name: str  # whose records they make and read
    client_id: int


def principal(person: Person) -> Principal:
    return Principal(
        name=KEY_NAME, role=ACTS_AS[person.role], client_name=client_name(person.login), client_id=person.client_id
    )


def client_name(login: str) -> str:
    return f"{CLIENT_PREFIX}{login}"


def login_from_name(name: str) -> str:
    """'Sam Patel' -> 'sam.patel'."""
    return ".".join(re.findall(r"[a-z0-9]+", name.lower()))[:57].strip(".") or "person"


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    return None


def create_person(role: str, name: str, login: str | None = None, password: str | None = None) -> Person:
    if role not in ROLES:
        raise PersonProblem(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    name = name.strip()
    if not name or len(name) > 200 or "\x00" in name:
        raise PersonProblem("give the person's name, 1 to 200 characters")
    login = login or login_from_name(name)
    if not LOGIN_PATTERN.match(login):
        raise PersonProblem(
            f"login {login!r} is not allowed; use 1 to 57 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if Person.select().where(Person.login == login).exists():
        raise PersonProblem(f"someone already signs in as {login!r}; choose another with --login")
    if Client.select().where(Client.name == client_name(login)).exists():
        raise PersonProblem(
            f"an API client is already called {client_name(login)!r}; choose another login with --login"
        )
    if password is not None and (problem := password_problem(password)):
        raise PersonProblem(problem)
    hashed = _hasher.hash(password) if password is not None else None
    with logchain.chained_writes(Person._meta.database):
        client = Client.create(name=client_name(login), role=ACTS_AS[role])
        logchain.chain("client", client)
        return Person.create(login=login, name=name, role=role, client=client, password_hash=hashed)


def issue_link(person: Person) -> str:
    """A new one-time sign-in token for ``person`` (any earlier one stops working)."""
    token = secrets.token_urlsafe(32)
    Person.update(link_hash=_link_hash(token), link_expires_at=utcnow() + timedelta(hours=LINK_HOURS)).where(
        Person.id == person.id
    ).execute()
    return token


def person_for_link(token: str) -> Person | None:
    """The person a live one-time link belongs to, or None (unknown, spent or expired)."""
    if not token or len(token) > 100:
        return None
    person = Person.get_or_none(Person.link_hash == _link_hash(token))
    if person is None or person.disabled_at is not None or (person.link_expires_at or utcnow()) <= utcnow():
        return None
    return person


def spend_link(person: Person, password: str) -> None:
    """Set the password chosen through a one-time link, and spend the link."""
    Person.update(
        password_hash=_hasher.hash(password), link_hash=None, link_expires_at=None, failed_signins=0, locked_until=None
    ).where(Person.id == person.id).execute()


@dataclass(frozen=True)
class SignIn:
    person: Person | None
    locked_until: datetime | None = None


def authenticate(login: str, password: str) -> SignIn:
    """The person if the password is theirs and the account is not locked; counts failures."""
    person = Person.get_or_none(Person.login == login.strip().lower()) if len(login) <= 64 else None
    if person is None or person.password_hash is None or person.disabled_at is not None:
        _verify(_DUMMY_HASH, password)
        return SignIn(None)
    now = utcnow()
    if person.locked_until is not None and person.locked_until > now:
        _verify(_DUMMY_HASH, password)
        return SignIn(None, person.locked_until)
    if _verify(person.password_hash, password):
        Person.update(failed_signins=0, locked_until=None).where(Person.id == person.id).execute()
        return SignIn(person)
    failures = person.failed_signins + 1
    locked = now + timedelta(seconds=LOCK_SECONDS) if failures >= MAX_FAILURES else None
    Person.update(failed_signins=0 if locked else failures, locked_until=locked).where(Person.id == person.id).execute()
    return SignIn(None, locked)


def sign_out_everywhere(person_id: int) -> None:
    """Every session cookie issued to this person so far stops working."""
    Person.update(session_epoch=Person.session_epoch + 1).where(Person.id == person_id).execute()


def _verify(hashed: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _link_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_person(login: str) -> Person | None:
    return Person.get_or_none(Person.login == login)


def list_people() -> list[Person]:
    return list(Person.select().order_by(Person.id))
