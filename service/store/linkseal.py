"""Seals on the chain's links: proof that the process writing a record was one holding the log's key.

The signer (``service.store.checkpoints``) signs whatever links it finds
after the last checkpoint, and anyone who can write the store can compute a
link with the project's own functions. So each link also carries a *seal*, an
HMAC-SHA256 over its record's kind, id and content hash, made by the process
that writes the record with a secret derived from the log's signing key
(``service.store.signing``), which the database never holds; the signer
refuses to sign a link whose seal is missing or wrong. The seq is not
sealed: on PostgreSQL it is assigned after the record commits.

Every process that writes chained records (the service's workers, the
commands that create clients and keys or activate a policy) sets the
process's sealer once from its signer (``use``); a process that has none
writes links without seals, which the signer then refuses.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import serialization

from infoshare.service.store.signing import Signer

PURPOSE = b"infoshare link seal\n"

_secret: bytes | None = None  # the process's sealing secret, set once its signing key is loaded


def secret_of(signer: Signer) -> bytes:
    """The sealing secret of a signing key: a hash of its raw private bytes, never stored."""
    raw = signer.key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return hashlib.sha256(PURPOSE + raw).digest()


def seal_with(secret: bytes, kind: str, record_id: int, content_hash: str) -> str:
    """The seal of one record's link under ``secret``."""
    return hmac.new(secret, f"{kind}\n{record_id}\n{content_hash}".encode("ascii"), hashlib.sha256).hexdigest()


def use(signer: Signer) -> None:
    """Seal every link this process writes from now on with ``signer``'s secret."""
    global _secret
    _secret = secret_of(signer)


def seal(kind: str, record_id: int, content_hash: str) -> str | None:
    """The seal of a link this process writes; None if it holds no signing key."""
    return None if _secret is None else seal_with(_secret, kind, record_id, content_hash)


def holds(secret: bytes, kind: str, record_id: int, content_hash: str, seal: str | None) -> bool:
    """True only for a seal made with ``secret`` over this record's link."""
    return seal is not None and hmac.compare_digest(seal, seal_with(secret, kind, record_id, content_hash))
