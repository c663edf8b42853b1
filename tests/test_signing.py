"""The log's signing key: private on disk, one key for concurrent starters, signatures that catch a change."""

from __future__ import annotations

import stat

import pytest

from infoshare.service.store import signing


def test_key_made_private_with_public_half_beside_it(tmp_path):
    path = tmp_path / "instance" / "log-signing.key"
    signer = signing.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    public = signing.load_public(path.with_name("log-signing.key.pub"))
    assert public.key_id == signer.public.key_id
    assert b"PRIVATE" not in path.with_name("log-signing.key.pub").read_bytes()


def test_second_start_uses_the_same_key(tmp_path):
    path = tmp_path / "k"
    first = signing.load_or_create(path)
    second = signing.load_or_create(path)
    assert first.public.raw == second.public.raw


def test_signature_fails_for_changed_message_other_key_or_garbage(tmp_path):
    signer = signing.load_or_create(tmp_path / "a")
    other = signing.load_or_create(tmp_path / "b")
    signature = signer.sign(b"head 10 abc")
    assert signer.public.verify(b"head 10 abc", signature)
    assert not signer.public.verify(b"head 10 abd", signature)
    assert not other.public.verify(b"head 10 abc", signature)
    assert not signer.public.verify(b"head 10 abc", "not base64!")
    assert not signer.public.verify(b"head 10 abc", "")


def test_unusable_key_file_is_named(tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("hello")
    with pytest.raises(signing.SigningKeyError, match="bad.key"):
        signing.load(bad)
    with pytest.raises(signing.SigningKeyError, match="missing"):
        signing.load_public(tmp_path / "missing")
