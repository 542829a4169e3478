"""Receipts: signed by the home's KMS-wrapped key; any one-byte change fails."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callvault.erasure import ReceiptKey, Target, load_public_key, verify_receipt
from callvault.erasure._receipts import canonical
from callvault.errors import ConfigError, InvalidRequest

from .conftest import BOB, World


@pytest.fixture
def receipt(world: World) -> bytes:
    world.erasures.schedule("acme", Target(subject=BOB), grace_days=0)
    (done,) = world.erasures.run_due()
    assert done.receipt is not None
    return done.receipt.encode()


def test_receipt_verifies(world: World, receipt: bytes) -> None:
    key = world.erasures.receipt_key
    verified = verify_receipt(receipt, load_public_key(key.public_pem()))
    assert verified.body["tenant"] == "acme" and verified.body["kind"] == "subject"


def test_every_one_byte_change_fails(world: World, receipt: bytes) -> None:
    public = world.erasures.receipt_key.public_key()
    for i in range(len(receipt)):
        for delta in (1, 0x20):
            changed = bytearray(receipt)
            changed[i] ^= delta
            with pytest.raises(InvalidRequest):
                verify_receipt(bytes(changed), public)
    with pytest.raises(InvalidRequest):
        verify_receipt(receipt + b" ", public)
    with pytest.raises(InvalidRequest):
        verify_receipt(receipt[:-1], public)


def test_other_key_or_forged_content_fails(world: World, receipt: bytes) -> None:
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(InvalidRequest):
        verify_receipt(receipt, stranger.public_key())
    # Content changed, still canonical JSON: the signature no longer covers it.
    public = world.erasures.receipt_key.public_key()
    document = json.loads(receipt)
    document["receipt"]["deleted"]["objects"] = 0
    with pytest.raises(InvalidRequest):
        verify_receipt(canonical(document) + b"\n", public)
    # Re-signed by a stranger naming its own key: refused against the home's key.
    raw = stranger.public_key().public_bytes_raw()
    document["signature"]["public_key"] = base64.b64encode(raw).decode()
    document["signature"]["value"] = base64.b64encode(
        stranger.sign(b"callvault/erasure-receipt/v1\n" + canonical(document["receipt"]))
    ).decode()
    with pytest.raises(InvalidRequest):
        verify_receipt(canonical(document) + b"\n", public)
    assert verify_receipt(json.loads(json.dumps(receipt.decode())).encode(), public)


def test_signing_key_is_stored_wrapped_and_checked(world: World, receipt: bytes) -> None:
    path = world.vault.home / "keys" / "erasure-receipts.json"
    entry = json.loads(path.read_text())
    assert set(entry) == {"kid", "public_key", "wrapped", "created_at"}
    assert world.vault.keys.provider.describe_key("dev/platform/erasure-receipts")
    # A key of someone without the KMS, slipped into the file, is refused.
    stranger = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    entry["public_key"] = base64.b64encode(stranger).decode()
    path.write_text(json.dumps(entry))
    with pytest.raises(ConfigError):
        ReceiptKey(world.vault.home, world.vault.provider).sign({"x": 1})
