"""The key that signs the decision log's checkpoints and policy activations, kept out of the database.

A hash chain shows that a log is unchanged only to someone who already holds
its head: whoever can write the store can rewrite every record and recompute
every hash. A signature made with a key the store never holds closes that
gap, so the key lives in a file beside the instance (``log.signing_key_file``
in ``infoshare.toml``, or ``INFOSHARE_LOG_SIGNING_KEY_FILE``), created 0600 on
first use, and the database holds only what the key signed.

Ed25519 (through ``cryptography``): small keys and signatures, deterministic
signing (no per-signature randomness to get wrong), and fast verification, so a
reader can check thousands of checkpoints with the public key alone. The
public key is written beside the private one (``.pub``, PEM) for readers; its
*key id* is the sha256 of its raw bytes, short enough to print and name in
each signature.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from infoshare.service.store.private import FILE_MODE, private_folder

PUBLIC_SUFFIX = ".pub"


class SigningKeyError(ValueError):
    """A key file that cannot be used; the message names the file and what to do."""


@dataclass(frozen=True)
class PublicKey:
    """What a reader needs to check signatures: no secret in it."""

    key: Ed25519PublicKey

    @property
    def raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def pem(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def verify(self, message: bytes, signature: str) -> bool:
        """True only for a well-formed signature of ``message`` by this key."""
        try:
            self.key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key able to sign; ``public`` is what to hand to readers."""

    key: Ed25519PrivateKey
    path: Path

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key.public_key())

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.key.sign(message)).decode("ascii")


def load_or_create(path: str | os.PathLike[str]) -> Signer:
    """The signer in ``path``, made there (0600, folder 0700) with its public key if there is none.

    Creation is exclusive (``O_EXCL``), so two processes starting at once agree on one key.
    """
    file = Path(path)
    if not file.exists():
        private_folder(file.parent)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            try:
                os.write(descriptor, pem)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
    signer = load(file)
    public_file = file.with_name(file.name + PUBLIC_SUFFIX)
    if not public_file.exists():
        public_file.write_bytes(signer.public.pem())
    return signer


def load(path: str | os.PathLike[str]) -> Signer:
    """The signer in an existing key file."""
    file = Path(path)
    try:
        key = serialization.load_pem_private_key(file.read_bytes(), password=None)
    except FileNotFoundError:
        raise SigningKeyError(
            f"{file}: no signing key here; start the service once to make one, or set INFOSHARE_LOG_SIGNING_KEY_FILE"
        ) from None
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"{file}: not an Ed25519 private key in PEM ({error})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{file}: the key is not Ed25519; move it away and start the service to make a new one")
    return Signer(key, file)


def load_public(path: str | os.PathLike[str]) -> PublicKey:
    """A reader's public key: a PEM public key file, or the private key file (its public half)."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(f"{file}: no such public key file") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise SigningKeyError(f"{file}: not an Ed25519 public key in PEM") from None
        key = private.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{file}: the key is not Ed25519")
    return PublicKey(key)
