"""Customer-managed keys on a real HSM (SoftHSM2 over PKCS#11) and a real OpenBao Transit:
a tenant registers its own key for a data class; new objects of the class, and every
caller's subject key in it, are then wrapped under the customer's key; disabling that key on
the customer's provider makes the data unreadable as soon as the cache lets go, and
re-enabling it restores access. Nothing is deleted or re-encrypted either way."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from callvault import ConfigError, DataClass, InvalidRequest, KeyUnavailable, Vault
from callvault.format import Header, header_length

CUSTOMER = "acme-hsm"


@pytest.fixture(params=["pkcs11", "vault"])
def customer_kms(request: pytest.FixtureRequest) -> Any:
    backend = request.getfixturevalue(f"kms_backend_{request.param}")
    from callvault import Environment

    return backend["provider"](Environment.DEV)


@pytest.fixture
def cmk_vault(vault: Vault, customer_kms: Any) -> Vault:
    """A home on the local KMS with the customer's provider configured as ``acme-hsm``."""
    return Vault(vault.home, vault.settings, vault.provider, {CUSTOMER: customer_kms})


def _header(sealed: bytes) -> Header:
    return Header.parse(sealed[: header_length(sealed[:8])])


def _seal(vault: Vault, object_id: str, subject: str | None, cls: str = "recording") -> Any:
    ctx = vault.context("acme", cls, object_id, subject)
    return ctx, vault.seal(ctx, f"audio of {object_id}".encode())


def test_a_disabled_customer_key_switches_the_class_off_and_back_on(
    cmk_vault: Vault, customer_kms: Any
) -> None:
    vault = cmk_vault
    key_id = f"dev/acme/cmk-{secrets.token_hex(4)}"
    customer_kms.create_key(key_id, {"tenant": "acme", "owner": "customer"})
    before_plain = _seal(vault, "before-0", None)
    before_caller = _seal(vault, "before-1", "+15550000001")
    transcript = _seal(vault, "t-1", "+15550000001", "transcript")

    vault.customer_keys.register("acme", DataClass.RECORDING, CUSTOMER, key_id)
    assert vault.tenants.get("acme").customer_keys[DataClass.RECORDING].key_id == key_id
    after_plain = _seal(vault, "after-0", None)
    after_caller = _seal(vault, "after-1", "+15550000001")
    new_caller = _seal(vault, "after-2", "+15550000002")
    assert _header(after_plain[1]).key_ref.provider == CUSTOMER
    assert _header(after_plain[1]).key_ref.key_id == key_id
    controlled = [before_caller, after_plain, after_caller, new_caller]
    for ctx, sealed in [*controlled, before_plain, transcript]:
        assert vault.open(ctx, sealed).startswith(b"audio of")

    customer_kms.disable_key(key_id)
    cached = after_caller
    assert vault.open(*cached).startswith(b"audio of")  # cached keys: until the cache lets go
    vault.cache.clear()  # the cache lifetime has passed
    for ctx, sealed in controlled:
        with pytest.raises(KeyUnavailable):
            vault.open(ctx, sealed)
    with pytest.raises(KeyUnavailable):  # nor can anything new be sealed in the class
        _seal(vault, "during", "+15550000001")
    # Outside the customer's reach: another class, and what was sealed without a subject
    # before registration (its header names the tenant's own key; docs/keys.md).
    assert vault.open(*transcript).startswith(b"audio of")
    assert vault.open(*before_plain).startswith(b"audio of")

    customer_kms.enable_key(key_id)
    for ctx, sealed in controlled:
        assert vault.open(ctx, sealed).startswith(b"audio of")


def test_removing_the_customer_key_moves_subject_keys_back(
    cmk_vault: Vault, customer_kms: Any
) -> None:
    vault = cmk_vault
    key_id = f"dev/acme/cmk-{secrets.token_hex(4)}"
    customer_kms.create_key(key_id, {})
    vault.customer_keys.register("acme", DataClass.RECORDING, CUSTOMER, key_id)
    caller = _seal(vault, "c-1", "+15550000003")
    plain = _seal(vault, "p-1", None)
    vault.customer_keys.remove("acme", DataClass.RECORDING)
    assert DataClass.RECORDING not in vault.tenants.get("acme").customer_keys
    customer_kms.disable_key(key_id)
    vault.cache.clear()
    assert vault.open(*caller).startswith(b"audio of")  # the subject key moved back
    with pytest.raises(KeyUnavailable):  # its header names the customer's key
        vault.open(*plain)
    customer_kms.enable_key(key_id)


def test_registration_is_guarded(cmk_vault: Vault, customer_kms: Any) -> None:
    vault = cmk_vault
    theirs = f"dev/globex/cmk-{secrets.token_hex(4)}"
    customer_kms.create_key(theirs, {})
    with pytest.raises(InvalidRequest, match="dev/acme/"):  # not another tenant's key
        vault.customer_keys.register("acme", DataClass.RECORDING, CUSTOMER, theirs)
    mine = f"dev/acme/cmk-{secrets.token_hex(4)}"
    customer_kms.create_key(mine, {})
    with pytest.raises(InvalidRequest, match="no KMS provider named"):
        vault.customer_keys.register("acme", DataClass.RECORDING, "nowhere", mine)
    customer_kms.disable_key(mine)
    with pytest.raises(KeyUnavailable):
        vault.customer_keys.register("acme", DataClass.RECORDING, CUSTOMER, mine)
    assert vault.tenants.get("acme").customer_keys == {}  # nothing changed
    customer_kms.enable_key(mine)


def test_named_providers_come_from_the_configuration(
    vault: Vault, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("CALLVAULT_KMS_PROVIDERS", '{"acme-local": "local://keys/acme.cvkr"}')
    reopened = Vault.open_home(vault.home)
    assert set(reopened.named_providers) == {"acme-local"}
    named = reopened.named_providers["acme-local"]
    named.create_key("dev/acme/cmk-local", {})
    reopened.customer_keys.register(
        "acme", DataClass.TRANSCRIPT, "acme-local", "dev/acme/cmk-local"
    )
    ctx = reopened.context("acme", "transcript", "t-9", "+15550000009")
    assert reopened.open(ctx, reopened.seal(ctx, b"x")) == b"x"
    monkeypatch.setenv("CALLVAULT_KMS_PROVIDERS", '{"Bad Name": "local://"}')
    with pytest.raises(ConfigError, match="provider name"):
        Vault.open_home(vault.home)
