"""Vault Transit provider specifics, against the OpenBao server of ``_kms_vault.py``:
TLS 1.3 and certificate verification, the token (never logged, revoked, least privilege,
from a 0600 file), server-side enforcement (disable, scoping, no export, no upsert),
rewrap, and the ``vault+https://`` URI."""

from __future__ import annotations

import datetime
import logging
import os
import pickle
import secrets
import socket
import ssl
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from callvault import ConfigError, Environment, KeyNotFound, KeyUnavailable, OpenError
from callvault.keys.providers import KeyState, ProviderSettings, WrappedKey
from callvault.keys.providers._registry import open_bare_provider

hvac = pytest.importorskip("hvac")
from callvault.keys.providers._vault import VaultTransitKms  # noqa: E402
from callvault.keys.providers._vault_settings import parse_vault_uri  # noqa: E402
from callvault.keys.providers._vault_token import TokenSource  # noqa: E402
from callvault.keys.providers._vault_wire import key_name  # noqa: E402

DEV = Environment.DEV
NewKeyId = Callable[..., str]


@pytest.fixture
def bao(kms_backend_vault: dict[str, Any]) -> dict[str, Any]:
    return kms_backend_vault


def _notes(bao: dict[str, Any]) -> dict[str, str]:
    notes: dict[str, str] = bao["notes"]
    return notes


def _token(bao: dict[str, Any], name: str) -> str:
    return Path(_notes(bao)[name]).read_text().strip()


def _root(bao: dict[str, Any]) -> Any:
    notes = _notes(bao)
    return hvac.Client(url=notes["address"], token=_token(bao, "root"), verify=notes["ca"])


def _provider(bao: dict[str, Any], tmp_path: Path, uri: str, **environ: str) -> VaultTransitKms:
    return VaultTransitKms.from_uri(uri, tmp_path, DEV, environ)


def _other_ca(directory: Path) -> Path:
    """A CA that did not issue the server's certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the openbao ca")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = directory / "other-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _with_key(bao: dict[str, Any], new_key_id: NewKeyId) -> tuple[VaultTransitKms, str]:
    provider = bao["provider"](DEV)
    key_id = new_key_id()
    provider.create_key(key_id, {"tenant": "acme"})
    return provider, key_id


# -- TLS ------------------------------------------------------------------------------


def test_the_server_speaks_tls13_only(bao: dict[str, Any]) -> None:
    notes = _notes(bao)
    port = int(urlsplit(notes["address"]).port or 0)
    context = ssl.create_default_context(cafile=notes["ca"])
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.version() == "TLSv1.3"
    legacy = ssl.create_default_context(cafile=notes["ca"])
    legacy.maximum_version = ssl.TLSVersion.TLSv1_2
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        pytest.raises(ssl.SSLError),
    ):
        legacy.wrap_socket(raw, server_hostname="127.0.0.1")


def test_an_untrusted_certificate_is_refused(
    bao: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_key_id: NewKeyId
) -> None:
    notes = _notes(bao)
    token_file = notes["callvault-dev-admin"]
    base = notes["uri"].split("?")[0]
    # requests' CA-bundle variables must not widen trust: the session ignores the environment.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", notes["ca"])
    monkeypatch.setenv("CURL_CA_BUNDLE", notes["ca"])
    system_store = _provider(bao, tmp_path, base, CALLVAULT_VAULT_TOKEN_FILE=token_file)
    wrong_ca = _provider(
        bao, tmp_path, f"{base}?ca={_other_ca(tmp_path)}", CALLVAULT_VAULT_TOKEN_FILE=token_file
    )
    for provider in (system_store, wrong_ca):
        with pytest.raises(KeyUnavailable, match="certificate verify failed"):
            provider.describe_key(new_key_id())
    trusted = _provider(bao, tmp_path, notes["uri"], CALLVAULT_VAULT_TOKEN_FILE=token_file)
    with pytest.raises(KeyNotFound):  # the same call over a verified connection
        trusted.describe_key(new_key_id())


# -- the token ------------------------------------------------------------------------


def _chain(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


def test_the_token_never_appears_in_logs_errors_or_reprs(
    bao: dict[str, Any],
    tmp_path: Path,
    new_key_id: NewKeyId,
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = _root(bao)
    policies = ["callvault-dev-admin"]
    token = root.auth.token.create(policies=policies, ttl="10m")["auth"]["client_token"]
    caplog.set_level(logging.DEBUG)
    provider = _provider(bao, tmp_path, _notes(bao)["uri"], VAULT_TOKEN=token)
    key_id = new_key_id()
    provider.create_key(key_id, {})
    _, wrapped = provider.generate_data_key(key_id, b"ad")
    failures: list[BaseException] = []
    for call in (
        lambda: provider.unwrap(key_id, wrapped, b"other"),
        lambda: provider.describe_key(new_key_id()),
        lambda: bao["unreachable"](DEV).describe_key(key_id),
    ):
        with pytest.raises((OpenError, KeyNotFound, KeyUnavailable)) as info:
            call()
        failures.append(info.value)
    root.auth.token.revoke(token)
    with pytest.raises(KeyUnavailable) as revoked:
        provider.unwrap(key_id, wrapped, b"ad")
    failures.append(revoked.value)
    assert "denied" in str(revoked.value) and "revoked" in str(revoked.value)
    assert any("DEBUG" in r.levelname for r in caplog.records)  # the logs were captured
    haystack = caplog.text + repr(provider) + "".join(_chain(f) for f in failures)
    assert token not in haystack
    source = TokenSource({"VAULT_TOKEN": token})
    assert token not in repr(source)
    with pytest.raises(TypeError):
        pickle.dumps(source)


def test_token_sources_fail_early_and_files_are_reread(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no Vault token"):
        TokenSource({})
    path = tmp_path / "token"
    path.write_text("s.first\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="0600"):
        TokenSource({"CALLVAULT_VAULT_TOKEN_FILE": str(path)})
    with pytest.raises(ConfigError, match="set one"):
        TokenSource({"CALLVAULT_VAULT_TOKEN_FILE": str(path), "VAULT_TOKEN": "s.x"})
    with pytest.raises(ConfigError, match="printable"):
        TokenSource({"VAULT_TOKEN": "s.abc\r\nX-Injected: 1"})
    path.chmod(0o600)
    source = TokenSource({"CALLVAULT_VAULT_TOKEN_FILE": str(path)})
    assert source.token() == "s.first"
    replacement = tmp_path / "token.new"  # what a Vault Agent sink does on renewal
    replacement.write_text("s.second\n")
    replacement.chmod(0o600)
    os.replace(replacement, path)
    assert source.token() == "s.second"


def test_a_runtime_token_uses_keys_but_cannot_administer_them(
    bao: dict[str, Any], new_key_id: NewKeyId
) -> None:
    admin, key_id = _with_key(bao, new_key_id)
    runtime = bao["provider"](DEV, "runtime")
    key, wrapped = runtime.generate_data_key(key_id, b"ad")
    assert admin.unwrap(key_id, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    assert runtime.describe_key(key_id).state is KeyState.ENABLED
    for call in (
        lambda: runtime.rotate_key(key_id),
        lambda: runtime.disable_key(key_id),
        lambda: runtime.create_key(new_key_id(), {}),
    ):
        with pytest.raises(KeyUnavailable, match="denied"):
            call()
    assert admin.describe_key(key_id).primary_version == 1


# -- what the server enforces ---------------------------------------------------------


def test_disable_is_enforced_by_the_server_not_just_the_client(
    bao: dict[str, Any], new_key_id: NewKeyId
) -> None:
    provider, key_id = _with_key(bao, new_key_id)
    _, wrapped = provider.generate_data_key(key_id, b"ad")
    provider.disable_key(key_id)
    root = _root(bao)
    from callvault.keys.providers._vault_wire import context, to_transit

    with pytest.raises(hvac.exceptions.InvalidRequest, match="soft-deleted"):
        root.secrets.transit.decrypt_data(
            name=key_name(key_id),
            ciphertext=to_transit(wrapped.version, wrapped.blob),
            context=context(key_id, b"ad"),
        )
    other = VaultTransitKms(provider.settings, DEV, {"VAULT_TOKEN": _token(bao, "root")})
    assert other.describe_key(key_id).state is KeyState.DISABLED  # every process agrees
    provider.enable_key(key_id)
    assert other.unwrap(key_id, wrapped, b"ad")


def test_environment_scoping_is_enforced_by_the_server(
    bao: dict[str, Any], new_key_id: NewKeyId
) -> None:
    prod = bao["provider"](Environment.PROD)
    key_id = new_key_id(Environment.PROD)
    prod.create_key(key_id, {})
    notes = _notes(bao)
    dev = hvac.Client(
        url=notes["address"], token=_token(bao, "callvault-dev-admin"), verify=notes["ca"]
    )
    with pytest.raises(hvac.exceptions.Forbidden):
        dev.secrets.transit.generate_data_key(
            name=key_name(key_id), key_type="plaintext", context="eA=="
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        dev.secrets.kv.v2.read_secret_version(
            path=f"transit/{key_id}", mount_point="callvault-meta", raise_on_deleted_version=True
        )
    assert [k.key_id for k in bao["provider"](DEV).list_keys() if k.key_id == key_id] == []


def test_key_material_is_not_exportable(bao: dict[str, Any], new_key_id: NewKeyId) -> None:
    _, key_id = _with_key(bao, new_key_id)
    root = _root(bao)
    assert root.secrets.transit.read_key(name=key_name(key_id))["data"]["exportable"] is False
    with pytest.raises(hvac.exceptions.InvalidRequest, match="not exportable"):
        root.secrets.transit.export_key(name=key_name(key_id), key_type="encryption-key")
    notes = _notes(bao)
    admin = hvac.Client(
        url=notes["address"], token=_token(bao, "callvault-dev-admin"), verify=notes["ca"]
    )
    with pytest.raises(hvac.exceptions.Forbidden):  # not even the admin policy may try
        admin.secrets.transit.export_key(name=key_name(key_id), key_type="encryption-key")
    with pytest.raises(hvac.exceptions.VaultError, match="imported key"):  # no known material
        admin.adapter.post(f"/v1/transit/keys/{key_name(key_id)}/import_version", json={})
    assert admin.secrets.transit.read_key(name=key_name(key_id))["data"]["latest_version"] == 1


def test_a_wrap_under_an_unknown_key_mints_nothing(
    bao: dict[str, Any], new_key_id: NewKeyId
) -> None:
    provider, key_id = _with_key(bao, new_key_id)
    key, _ = provider.generate_data_key(key_id, b"ad")
    missing = new_key_id()
    with pytest.raises(KeyNotFound):
        provider.wrap(missing, key, b"ad")
    with pytest.raises(hvac.exceptions.InvalidPath):
        _root(bao).secrets.transit.read_key(name=key_name(missing))


def test_a_mount_that_allows_upsert_is_refused(
    bao: dict[str, Any], tmp_path: Path, new_key_id: NewKeyId
) -> None:
    root = _root(bao)
    mount = f"upsert{secrets.token_hex(3)}"
    root.sys.enable_secrets_engine("transit", path=mount)
    uri = _notes(bao)["uri"] + f"&mount={mount}"
    provider = _provider(bao, tmp_path, uri, VAULT_TOKEN=_token(bao, "root"))
    key_id = new_key_id()
    key, _ = provider.generate_data_key(provider.create_key(key_id, {}).key_id, b"ad")
    with pytest.raises(ConfigError, match="disable_upsert"):
        provider.wrap(key_id, key, b"ad")


# -- rewrap ---------------------------------------------------------------------------


def test_rewrap_moves_to_the_newest_version_and_keeps_the_binding(
    bao: dict[str, Any], new_key_id: NewKeyId
) -> None:
    provider, key_id = _with_key(bao, new_key_id)
    key, old = provider.generate_data_key(key_id, b"ad")
    provider.rotate_key(key_id)
    new = provider.rewrap(key_id, old, b"ad")
    assert (old.version, new.version) == (1, 2) and new.blob != old.blob
    assert provider.unwrap(key_id, new, b"ad").secret_bytes() == key.secret_bytes()
    with pytest.raises(OpenError):
        provider.rewrap(key_id, old, b"other")
    with pytest.raises(OpenError):
        provider.unwrap(key_id, new, b"other")
    with pytest.raises(OpenError):
        provider.rewrap(key_id, WrappedKey(2, old.blob), b"ad")
    provider.set_min_decrypt_version(key_id, 2)
    with pytest.raises(KeyUnavailable, match="retired"):
        provider.unwrap(key_id, old, b"ad")
    assert provider.unwrap(key_id, new, b"ad").secret_bytes() == key.secret_bytes()


# -- the URI --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("vault+https://s.token@127.0.0.1:8200/", "credentials"),
        ("vault+https://127.0.0.1:8200/?token=s.x", "credentials"),
        ("vault+http://127.0.0.1:8200/", "refused"),
        ("vault+https://127.0.0.1:8200/?mout=transit", "unknown"),
        ("vault+https://127.0.0.1:8200/?mount=a&mount=b", "more than once"),
        ("vault+https://127.0.0.1:8200/transit", "no path"),
        ("vault+https://127.0.0.1:8200/?mount=../sys", "invalid"),
        ("vault+https://127.0.0.1:8200/?ca=missing.pem", "does not exist"),
        ("vault+https:///?mount=transit", "host"),
    ],
)
def test_bad_uris_are_refused(tmp_path: Path, uri: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_vault_uri(uri, tmp_path)


def test_uris_and_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ca.pem").write_text("")
    settings = parse_vault_uri(
        "vault+https://vault.internal:8200/?mount=kms/transit&meta=cv&ca=ca.pem", tmp_path
    )
    assert settings.address == "https://vault.internal:8200"
    assert (settings.transit_mount, settings.meta_mount) == ("kms/transit", "cv")
    assert settings.ca == tmp_path / "ca.pem"
    plain = parse_vault_uri(
        "vault+http://127.0.0.1:8200?allow_plaintext_endpoint_for_tests=true", tmp_path
    )
    assert plain.address == "http://127.0.0.1:8200"
    monkeypatch.setenv("VAULT_TOKEN", "s.registry")
    monkeypatch.delenv("CALLVAULT_VAULT_TOKEN_FILE", raising=False)
    provider = open_bare_provider("vault+https://127.0.0.1:8200/", ProviderSettings(tmp_path, DEV))
    assert isinstance(provider, VaultTransitKms) and provider.scheme == "vault"
    assert "s.registry" not in repr(provider)
