"""Seals on the chain's links: proof that the process writing a record was one holding the log's key.

The signer (``service.store.checkpoints``) signs whatever links it finds
after the last checkpoint, and anyone who can write the store can compute a
link with the project's own functions. So each link also carries a *seal*, an
HMAC-SHA256 over its record's kind, id and content hash, and the case the
record belongs to, made by the process that writes the record with a secret
derived from the log's signing key (``service.store.signing``), which the
database never holds; the signer refuses to sign a link whose seal is
missing or wrong. The seq is not sealed: on PostgreSQL it is assigned after
the record commits.

The case is sealed so the signer can place each new record in the case map
(``service.store.casemap``) from the record's ``case_ref`` column alone: a
case reference changed in the store no longer matches the seal. Without it
the signer had to decode and re-hash each record's whole content to trust
its case, the largest part of what signing cost a server. Seals made before
the case was sealed (64 hex digits, no ``2:``) are still checked as they
were, and their records' content is checked instead.

Every process that writes chained records (the service's workers, the
commands that create clients and keys or activate a policy) sets the
process's sealer once from its signer (``use``); a process that has none
writes links without seals, which the signer then refuses.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from cryptography.hazmat.primitives import serialization

from infoshare.service.store.signing import Signer

PURPOSE = b"infoshare link seal\n"
VERSION = "2:"  # a seal that covers the record's case; it fits the column's 64 characters
CASE_KINDS = ("decision", "review")  # the records that belong to a case: a review, to its decision's

_secret: bytes | None = None  # the process's sealing secret, set once its signing key is loaded


def secret_of(signer: Signer) -> bytes:
    """The sealing secret of a signing key: a hash of its raw private bytes, never stored."""
    raw = signer.key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return hashlib.sha256(PURPOSE + raw).digest()


def seal_with(secret: bytes, kind: str, record_id: int, content_hash: str, case_ref: str | None) -> str:
    """The seal of one record's link under ``secret``: ``case_ref`` is the record's case (None for
    a kind that has none). 62 of the HMAC's 64 hex digits are kept, 248 bits."""
    case = "no case" if case_ref is None else f"case {case_ref}"
    message = f"{kind}\n{record_id}\n{content_hash}\n{case}".encode()
    return VERSION + hmac.new(secret, message, hashlib.sha256).hexdigest()[: 64 - len(VERSION)]


def _seal_without_case(secret: bytes, kind: str, record_id: int, content_hash: str) -> str:
    """A seal as links were sealed before their case was (checked, never made)."""
    return hmac.new(secret, f"{kind}\n{record_id}\n{content_hash}".encode("ascii"), hashlib.sha256).hexdigest()


def covers_case(seal: str | None) -> bool:
    """Whether ``seal`` (once it holds) vouches for the record's case too."""
    return seal is not None and seal.startswith(VERSION)


def use(signer: Signer) -> None:
    """Seal every link this process writes from now on with ``signer``'s secret."""
    global _secret
    _secret = secret_of(signer)


def seal(kind: str, record_id: int, content_hash: str, case_ref: str | None) -> str | None:
    """The seal of a link this process writes; None if it holds no signing key."""
    return None if _secret is None else seal_with(_secret, kind, record_id, content_hash, case_ref)


WELL_FORMED = re.compile(r"2:[0-9a-f]{62}|[0-9a-f]{64}")  # a seal covering the case, or one made before


def holds(secret: bytes, kind: str, record_id: int, content_hash: str, case_ref: str | None, seal: str | None) -> bool:
    """True only for a seal made with ``secret`` over this record's link and, if the seal covers
    one (``covers_case``), over ``case_ref`` as its case. Anything but a well-formed seal is
    False, never an error: the value is whatever the store holds."""
    if not isinstance(seal, str) or not WELL_FORMED.fullmatch(seal):
        return False
    if covers_case(seal):
        expected = seal_with(secret, kind, record_id, content_hash, case_ref)
    else:
        expected = _seal_without_case(secret, kind, record_id, content_hash)
    return hmac.compare_digest(seal, expected)
