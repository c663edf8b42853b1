"""Who may call what: every ``/v1`` call carries ``Authorization: Bearer <key>``.

Role matrix (a permission per kind of call; a key has exactly one role):

==============  =================================  ===========  ===========  ============
permission      calls                              case-system  coordinator  policy-owner
==============  =================================  ===========  ===========  ============
evaluate        POST /v1/evaluate                  yes          yes          yes
record          POST /v1/decisions                 yes          no           no
read-decisions  GET /v1/decisions/<id>,            yes          yes          no
                GET /v1/cases/<case_ref>/decisions
review          POST /v1/decisions/<id>/review     no           yes          no
read-queue      GET /v1/review-queue               no           yes          no
read-events     GET /v1/events                     yes          yes          yes
read-policy     GET /v1/policy                     yes          yes          yes
reload-policy   POST /v1/policy/reload             no           no           yes
==============  =================================  ===========  ===========  ============

/healthz, /readyz and /openapi.json need no key: they reveal no case data. They,
and every request whose key is missing or not valid, are rate-limited by the
caller's address (``open_to_anyone``, ``charge_address``).

Why: case systems ask, record and read back their case files, and build their
forms from the policy's vocabulary. Only the Safeguarding Co-ordinator
reviews (the protocol directs queries to them); they read decisions to
review them. Policy owners try what-if cases, read and reload the policy, but the
case file holds personal facts they have no need to see. No key at all, a
wrong key or a revoked key gets 401; a valid key whose role lacks the
permission gets 403.

Which decisions a client reads: a case system reads only the decisions its
client recorded, with any of its keys (another system's decision is a 404,
as if it did not exist); the co-ordinator (``read-any-case``) reads every
decision, since they review across case systems. Every client is
rate-limited, whichever of its keys it uses (``service.ratelimit``): over
the limit the answer is 429 with Retry-After. ``g.api_key`` is the request's
key; ``g.api_key.client_name`` its client's name, which records carry.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import g, request

from infoshare.service.access.keys import active_key
from infoshare.service.access.ratelimit import address_slot
from infoshare.service.errors import ApiError
from infoshare.service.requestlog import note
from infoshare.service.state import current

PERMISSIONS: dict[str, frozenset[str]] = {
    "case-system": frozenset({"evaluate", "record", "read-decisions", "read-policy", "read-events"}),
    "coordinator": frozenset(
        {"evaluate", "read-decisions", "read-any-case", "review", "read-queue", "read-policy", "read-events"}
    ),
    "policy-owner": frozenset({"evaluate", "read-policy", "reload-policy", "read-events"}),
}

View = TypeVar("View", bound=Callable)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="infoshare"'}


def roles_with(permission: str) -> list[str]:
    return [role for role, allowed in PERMISSIONS.items() if permission in allowed]


def may(permission: str) -> bool:
    """Whether this request's key (already checked by ``requires``) has ``permission``."""
    return permission in PERMISSIONS.get(g.api_key.role, ())


def charge_address() -> None:
    """Count a request without a valid key against its address; 429 once over the limit."""
    limiter = current().anonymous
    wait = limiter.wait_for(address_slot(request.remote_addr or ""))
    if wait:
        raise ApiError(
            429,
            f"this address has made more than {limiter.per_minute} requests without a valid key "
            f"in a minute; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def open_to_anyone(view: View) -> View:
    """A view that needs no key: each call counts against the caller's address."""

    @wraps(view)
    def limited(*args, **kwargs):
        charge_address()
        return view(*args, **kwargs)

    limited.__dict__["open_to_anyone"] = True  # read by openapi.py
    return limited  # type: ignore[return-value]


def requires(permission: str) -> Callable[[View], View]:
    """Reject the request unless it carries an active key whose role has ``permission``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args, **kwargs):
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                charge_address()
                raise ApiError(401, "send an API key as 'Authorization: Bearer <key>'", headers=CHALLENGE)
            key = active_key(token.strip())
            if key is None:
                charge_address()
                raise ApiError(401, "this API key is not valid or has been revoked", headers=CHALLENGE)
            note(key=key.name, client=key.client_name)
            wait = current().limiter.wait_for(key.client_id)
            if wait:
                raise ApiError(
                    429,
                    f"this client has made more than {current().limiter.per_minute} requests "
                    f"in a minute; try again in {wait} s",
                    headers={"Retry-After": str(wait)},
                )
            if permission not in PERMISSIONS.get(key.role, ()):
                raise ApiError(
                    403,
                    f"this call needs a key with role {' or '.join(roles_with(permission))}; "
                    f"this key's role is {key.role}",
                )
            g.api_key = key
            return view(*args, **kwargs)

        guarded.__dict__["permission"] = permission  # read by openapi.py; mypy cannot declare function attributes
        return guarded  # type: ignore[return-value]

    return decorate
