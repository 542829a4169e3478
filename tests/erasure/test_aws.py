"""Tenant erasure on AWS KMS (moto's server on 127.0.0.1, a real boto3 client).

AWS never deletes a key on request: the erasure disables each master key at once and
schedules its deletion with the 7-day minimum, and the receipt says "deletion scheduled at
T", never "destroyed". moto records key states but does not refuse Decrypt under a disabled
or pending key (real AWS does), so the KMS-side refusal is checked on the key states; what
callvault itself refuses (every managed key tombstoned: ``KeyDestroyed``) is checked by
opening copies taken before the erasure.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callvault import DataClass, Vault
from callvault.erasure import Erasures, Target, verify_receipt
from callvault.erasure._keys import destroy_tenant_keys, tenant_master_key_ids
from callvault.errors import KeyDestroyed, KeyUnavailable
from callvault.keys.providers import KeyState
from callvault.storage.objects import LocalObjectStore
from callvault.testing import moto_available, moto_server


@pytest.fixture
def aws_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Vault]:
    if not moto_available():
        pytest.skip("moto[server] is not installed")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with moto_server() as port:
        home = tmp_path / "home"
        Vault.init_home(home)
        monkeypatch.setenv(
            "CALLVAULT_KMS",
            f"aws://?region=eu-central-1&endpoint=http://127.0.0.1:{port}"
            "&allow_plaintext_endpoint_for_tests=true",
        )
        vault = Vault.open_home(home)
        assert vault.provider.scheme == "aws"
        vault.create_tenant("acme")
        vault.create_tenant("globex")
        yield vault


def test_tenant_erasure_on_aws_disables_schedules_and_says_so(aws_vault: Vault) -> None:
    vault = aws_vault
    objects = LocalObjectStore(vault.home / "objects")
    caller = "+15550001111"
    acme = vault.context("acme", DataClass.RECORDING, "call-1", subject=caller)
    acme_copy = vault.seal(acme, b"acme's caller")  # a copy taken before (a backup)
    objects.put_stream("acme/recording/call-1", [acme_copy])
    other = vault.context("globex", DataClass.RECORDING, "call-1", subject=caller)
    other_copy = vault.seal(other, b"globex's caller")
    erasures = Erasures(vault, objects, None)
    request = erasures.schedule("acme", Target(tenant=True), grace_days=0)
    before = datetime.now(UTC)
    (done,) = erasures.run_due()
    assert done.id == request.id and done.receipt is not None

    body = verify_receipt(done.receipt.encode(), erasures.receipt_key.public_key()).body
    masters = body["destroyed"]["master_keys"]
    assert [m["key_id"] for m in masters] == tenant_master_key_ids(vault, "acme")
    for master in masters:
        assert master["outcome"] == "deletion_scheduled" and master["state"] == "pending_deletion"
        assert "destroyed" not in (master["outcome"], master["state"])
        deletion = datetime.fromisoformat(master["deletion_date"])
        window = deletion - before
        assert timedelta(days=7) - timedelta(hours=1) < window < timedelta(days=7, hours=1)
        assert datetime.fromisoformat(master["disabled_at"]) >= before
        # AWS's side: the key is pending deletion (refused by AWS from now on).
        assert vault.provider.describe_key(master["key_id"]).state is KeyState.PENDING_DELETION
    assert body["destroyed"]["managed_keys"]  # the tenant's index and subject keys
    assert body["deleted"]["objects"] == 1

    # The explicit outcome, right after execution, for a copy taken before.
    vault.cache.clear()
    with pytest.raises(KeyDestroyed):
        vault.open(acme, acme_copy)
    assert vault.open(other, other_copy) == b"globex's caller"  # another tenant untouched
    assert vault.provider.describe_key(vault.keys.master_key_id("globex")).state is KeyState.ENABLED

    # Idempotent: nothing runs again, and re-destroying keeps the same deletion date.
    assert erasures.run_due() == []
    again = destroy_tenant_keys(vault, "acme")
    assert [m["deletion_date"] for m in again["master_keys"]] == [
        m["deletion_date"] for m in masters
    ]
    assert all(m["outcome"] == "deletion_scheduled" for m in again["master_keys"])


def _refuse_like_aws(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto's Decrypt refuse a key that is not enabled, as AWS documents it does
    (``KMSInvalidStateException`` for a key pending deletion, ``DisabledException`` for a
    disabled one): moto records the state but decrypts anyway."""
    from botocore.exceptions import ClientError

    aws = vault.provider.inner.inner  # type: ignore[attr-defined]  # Audited(Resilient(Aws))
    client = aws._store.client
    real_decrypt = client.decrypt

    def decrypt(**params: object) -> object:
        state = client.describe_key(KeyId=params["KeyId"])["KeyMetadata"]["KeyState"]
        if state != "Enabled":
            code = "DisabledException" if state == "Disabled" else "KMSInvalidStateException"
            raise ClientError({"Error": {"Code": code, "Message": state}}, "Decrypt")
        return real_decrypt(**params)

    monkeypatch.setattr(client, "decrypt", decrypt)


def test_a_master_wrapped_copy_is_key_destroyed_not_unavailable(
    aws_vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value with no subject has its DEK wrapped by the master key itself, so only AWS
    can refuse it: a key pending deletion (the erasure scheduled it) reads as
    ``KeyDestroyed``; a key an operator merely disabled stays ``KeyUnavailable``."""
    vault = aws_vault
    _refuse_like_aws(vault, monkeypatch)
    acme = vault.context("acme", DataClass.TRANSCRIPT, "summary-1")
    acme_copy = vault.seal(acme, b"no subject: wrapped by the master key")
    globex = vault.context("globex", DataClass.TRANSCRIPT, "summary-1")
    globex_copy = vault.seal(globex, b"globex")
    vault.cache.clear()
    assert vault.open(acme, acme_copy) == b"no subject: wrapped by the master key"

    erasures = Erasures(vault, LocalObjectStore(vault.home / "objects"), None)
    erasures.schedule("acme", Target(tenant=True), grace_days=0)
    erasures.run_due()
    vault.cache.clear()
    with pytest.raises(KeyDestroyed, match="scheduled for deletion"):
        vault.open(acme, acme_copy)

    vault.provider.disable_key(vault.keys.master_key_id("globex"))
    vault.cache.clear()
    with pytest.raises(KeyUnavailable) as refused:
        vault.open(globex, globex_copy)
    assert not isinstance(refused.value, KeyDestroyed)
