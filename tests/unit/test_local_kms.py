"""The local KMS: versions, states, environment scoping, and a keyring sealed at rest."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from callvault import (
    ConfigError,
    DataClass,
    Environment,
    EnvironmentMismatch,
    KeyDestroyed,
    KeyExists,
    KeyNotFound,
    KeyUnavailable,
    OpenError,
    TenantExists,
    Vault,
)
from callvault.format import Header, header_length
from callvault.keys import KeyMaterial
from callvault.keys.providers import KeyState, LocalKms, WrappedKey

ROOT = KeyMaterial(bytes(range(32)), "root")


def _kms(tmp_path: Path, env: Environment = Environment.DEV, root: KeyMaterial = ROOT) -> LocalKms:
    return LocalKms(tmp_path / "keyring.cvkr", root, env)


def _keyring_materials(kms_path: Path, root: KeyMaterial, env: Environment) -> list[bytes]:
    from callvault.keys.providers._keyring_file import KeyringFile

    doc = KeyringFile(kms_path, root, env).load()
    return [
        base64.b64decode(v["material"])
        for entry in doc["keys"].values()
        for v in entry["versions"].values()
        if "material" in v
    ]


def test_wrap_unwrap_roundtrip_binds_associated_data(tmp_path: Path) -> None:
    kms = _kms(tmp_path)
    kms.create_key("dev/acme/default", {"tenant": "acme"})
    key, wrapped = kms.generate_data_key("dev/acme/default", b"context-a")
    unwrapped = kms.unwrap("dev/acme/default", wrapped, b"context-a")
    assert unwrapped.secret_bytes() == key.secret_bytes()
    with pytest.raises(OpenError):
        kms.unwrap("dev/acme/default", wrapped, b"context-b")
    tampered = WrappedKey(wrapped.version, bytes([wrapped.blob[0] ^ 1]) + wrapped.blob[1:])
    with pytest.raises(OpenError):
        kms.unwrap("dev/acme/default", tampered, b"context-a")


def test_rotation_adds_versions_and_old_versions_still_unwrap(tmp_path: Path) -> None:
    kms = _kms(tmp_path)
    kms.create_key("dev/acme/default", {})
    key1, wrapped1 = kms.generate_data_key("dev/acme/default", b"ad")
    assert wrapped1.version == 1
    described = kms.rotate_key("dev/acme/default")
    assert (described.primary_version, described.versions) == (2, (1, 2))
    key2, wrapped2 = kms.generate_data_key("dev/acme/default", b"ad")
    assert wrapped2.version == 2
    assert kms.unwrap("dev/acme/default", wrapped1, b"ad").secret_bytes() == key1.secret_bytes()
    assert kms.unwrap("dev/acme/default", wrapped2, b"ad").secret_bytes() == key2.secret_bytes()
    # A wrap presented under the wrong version does not open.
    with pytest.raises(OpenError):
        kms.unwrap("dev/acme/default", WrappedKey(2, wrapped1.blob), b"ad")
    with pytest.raises(OpenError):
        kms.unwrap("dev/acme/default", WrappedKey(7, wrapped1.blob), b"ad")


def test_deletion_lifecycle(tmp_path: Path) -> None:
    kms = _kms(tmp_path)
    kms.create_key("dev/acme/default", {})
    _, wrapped = kms.generate_data_key("dev/acme/default", b"ad")
    with pytest.raises(KeyUnavailable):
        kms.destroy("dev/acme/default")  # must be scheduled first
    described = kms.schedule_deletion("dev/acme/default", 7)
    assert described.state is KeyState.PENDING_DELETION
    assert described.deletion_date is not None
    with pytest.raises(KeyUnavailable):
        kms.unwrap("dev/acme/default", wrapped, b"ad")
    assert kms.cancel_deletion("dev/acme/default").state is KeyState.ENABLED
    kms.unwrap("dev/acme/default", wrapped, b"ad")
    kms.schedule_deletion("dev/acme/default", 7)
    assert kms.destroy("dev/acme/default").state is KeyState.DESTROYED
    with pytest.raises(KeyDestroyed):
        kms.unwrap("dev/acme/default", wrapped, b"ad")
    with pytest.raises(KeyDestroyed):
        kms.rotate_key("dev/acme/default")
    assert _keyring_materials(tmp_path / "keyring.cvkr", ROOT, Environment.DEV) == []


def test_unknown_keys(tmp_path: Path) -> None:
    kms = _kms(tmp_path)
    with pytest.raises(KeyNotFound):
        kms.describe_key("dev/nobody/default")
    with pytest.raises(KeyNotFound):
        kms.rotate_key("dev/nobody/default")
    # From a ciphertext header an unknown key id is just a bad ciphertext.
    with pytest.raises(OpenError):
        kms.unwrap("dev/nobody/default", WrappedKey(1, bytes(60)), b"")


def test_keyring_is_sealed_at_rest(tmp_path: Path) -> None:
    kms = _kms(tmp_path)
    kms.create_key("dev/acme/default", {"tenant": "acme"})
    kms.rotate_key("dev/acme/default")
    raw = (tmp_path / "keyring.cvkr").read_bytes()
    assert b"acme" not in raw and b"material" not in raw and b"\"versions\"" not in raw
    for material in _keyring_materials(tmp_path / "keyring.cvkr", ROOT, Environment.DEV):
        assert material not in raw
        assert base64.b64encode(material) not in raw
    assert (tmp_path / "keyring.cvkr").stat().st_mode & 0o077 == 0


def test_wrong_root_key_cannot_read_the_keyring(tmp_path: Path) -> None:
    _kms(tmp_path).create_key("dev/acme/default", {})
    other = _kms(tmp_path, root=KeyMaterial(os.urandom(32), "root"))
    with pytest.raises(ConfigError, match="wrong root key"):
        other.list_keys()


def test_keyring_of_one_environment_is_refused_in_another(tmp_path: Path) -> None:
    _kms(tmp_path, Environment.DEV).create_key("dev/acme/default", {})
    with pytest.raises(EnvironmentMismatch):
        _kms(tmp_path, Environment.PROD).list_keys()


def test_key_ids_of_another_environment_are_refused(tmp_path: Path) -> None:
    kms = _kms(tmp_path, Environment.PROD)
    kms.create_key("prod/acme/default", {})
    with pytest.raises(EnvironmentMismatch):
        kms.create_key("dev/acme/default", {})
    key, wrapped = kms.generate_data_key("prod/acme/default", b"")
    with pytest.raises(EnvironmentMismatch):
        kms.unwrap("staging/acme/default", wrapped, b"")
    with pytest.raises(EnvironmentMismatch):
        kms.wrap("dev/acme/default", key, b"")


def test_vault_refuses_objects_of_another_environment(tmp_path: Path) -> None:
    Vault.init_home(tmp_path / "h", Environment.STAGING)
    vault = Vault.open_home(tmp_path / "h")
    vault.create_tenant("acme")
    ctx = vault.context("acme", DataClass.RECORDING, "call-1")
    sealed = vault.seal(ctx, b"audio")
    from callvault.format import ObjectContext

    prod_ctx = ObjectContext("acme", Environment.PROD, DataClass.RECORDING, "call-1")
    with pytest.raises(EnvironmentMismatch):
        vault.open(prod_ctx, sealed)
    with pytest.raises(EnvironmentMismatch):
        vault.seal(prod_ctx, b"audio")
    # Reconfiguring the home as prod refuses the staging keyring outright.
    config = tmp_path / "h" / "callvault.toml"
    config.write_text(config.read_text().replace('"staging"', '"prod"'))
    with pytest.raises(EnvironmentMismatch):
        Vault.open_home(tmp_path / "h").open(prod_ctx, sealed)


def test_rotation_through_the_vault(tmp_path: Path) -> None:
    Vault.init_home(tmp_path / "h")
    vault = Vault.open_home(tmp_path / "h")
    vault.create_tenant("acme", [DataClass.TRANSCRIPT])
    rec = vault.context("acme", DataClass.RECORDING, "r1")
    tr = vault.context("acme", DataClass.TRANSCRIPT, "t1")
    old_rec, old_tr = vault.seal(rec, b"v1 audio"), vault.seal(tr, b"v1 text")
    assert vault.rotate_key("acme").primary_version == 2
    assert vault.rotate_key("acme", DataClass.TRANSCRIPT).key_id == "dev/acme/transcript"
    new_rec = vault.seal(rec, b"v2 audio")

    def ref(blob: bytes) -> tuple[str, int]:
        header = Header.parse(blob[: header_length(blob[:8])])
        return header.key_ref.key_id, header.key_ref.version

    assert ref(old_rec) == ("dev/acme/default", 1)
    assert ref(old_tr) == ("dev/acme/transcript", 1)
    assert ref(new_rec) == ("dev/acme/default", 2)
    assert vault.open(rec, old_rec) == b"v1 audio"
    assert vault.open(rec, new_rec) == b"v2 audio"
    assert vault.open(tr, old_tr) == b"v1 text"
    # A second process sees the rotation (the keyring is re-read when it changes).
    assert Vault.open_home(tmp_path / "h").open(rec, new_rec) == b"v2 audio"


def test_keyring_document_never_lists_plaintext_in_listing(tmp_path: Path) -> None:
    kms = _kms(tmp_path)
    kms.create_key("dev/acme/default", {"tenant": "acme"})
    text = json.dumps([repr(k) for k in kms.list_keys()])
    for material in _keyring_materials(tmp_path / "keyring.cvkr", ROOT, Environment.DEV):
        assert base64.b64encode(material).decode() not in text
        assert material.hex() not in text


def test_tenant_creation_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Vault.init_home(tmp_path / "h")
    vault = Vault.open_home(tmp_path / "h")
    real_create = vault.provider.create_key

    def kms_down_for_class_keys(key_id: str, labels: dict[str, str]) -> object:
        if key_id.endswith("/transcript"):
            raise KeyUnavailable("KMS unreachable")
        return real_create(key_id, labels)

    monkeypatch.setattr(vault.provider, "create_key", kms_down_for_class_keys)
    with pytest.raises(KeyUnavailable):
        vault.create_tenant("acme", [DataClass.TRANSCRIPT])
    assert vault.tenants.list() == []  # no tenant without its keys
    monkeypatch.undo()
    vault.create_tenant("acme", [DataClass.TRANSCRIPT])  # the retry reuses the default key
    keys = [k.key_id for k in vault.list_keys("acme")]
    assert keys == ["dev/acme/default", "dev/acme/transcript"]
    with pytest.raises(TenantExists):
        vault.create_tenant("acme")
    with pytest.raises(KeyExists):
        vault.provider.create_key("dev/acme/default", {})
