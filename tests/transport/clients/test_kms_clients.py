"""The AWS KMS and Vault Transit clients under the TLS policy, against real servers.

TLS 1.2-only servers are Debian's ``openssl s_server`` (with a control: the same server
completes TLS 1.2 under ``allow_tls12``); TLS 1.3 servers are our ``server_context`` in
front of moto's KMS, and the OpenBao of tests/keys/providers (``tls_min_version=tls13``).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from pathlib import Path
from typing import Any

import pytest

from callvault import Environment
from callvault.errors import ConfigError, KeyUnavailable
from callvault.keys.providers._aws import AwsKms
from callvault.keys.providers._aws_settings import AwsKmsSettings, parse_aws_uri
from callvault.keys.providers._vault import VaultTransitKms
from callvault.keys.providers._vault_settings import parse_vault_uri
from callvault.transport import TlsProfile, profile_spec, server_context

from .conftest import REGION, boto_session

DEV = Environment.DEV
TLS12_OK = "ECDHE-RSA-AES256-GCM-SHA384"
MODERN = profile_spec(TlsProfile.MODERN).suite_names
TOKEN = {"VAULT_TOKEN": "hvs.not-a-real-token"}


def _aws(port: int, ca: Path, **fields: Any) -> AwsKms:
    fields.setdefault("read_timeout", 3)
    settings = AwsKmsSettings(
        region=REGION, endpoint=f"https://127.0.0.1:{port}", ca_bundle=ca, max_attempts=1,
        **fields,
    )  # fmt: skip
    return AwsKms(settings, DEV, session=boto_session())


def _vault(port: int, ca: Path, home: Path, query: str = "") -> VaultTransitKms:
    uri = f"vault+https://127.0.0.1:{port}/?ca={ca}{query}"
    return VaultTransitKms.from_uri(uri, home, DEV, TOKEN)


def test_aws_kms_refuses_a_tls12_only_endpoint(s_server: Any, pki: Any) -> None:
    port = s_server(pki.server_rsa, "-tls1_2", "-cipher", TLS12_OK)
    kms = _aws(port, pki.ca.path)
    with pytest.raises(KeyUnavailable, match="SSL"):
        kms.describe_key("dev/acme/default")
    entry = kms.tls_evidence()[-1]
    assert (entry.service, entry.outcome, entry.protocol) == ("aws-kms", "refused", None)
    # Control: the explicit switch completes TLS 1.2 with an ECDHE + AEAD suite.
    legacy = _aws(port, pki.ca.path, allow_tls12=True, read_timeout=1)
    with pytest.raises(KeyUnavailable):  # not KMS: s_server does not answer a POST
        legacy.describe_key("dev/acme/default")
    entry = legacy.tls_evidence()[-1]
    assert (entry.outcome, entry.protocol, entry.cipher) == ("ok", "TLSv1.2", TLS12_OK)


def test_aws_kms_over_tls13_works_and_is_recorded(moto: int, tls_front: Any, pki: Any) -> None:
    front = tls_front(moto, server_context(TlsProfile.MODERN, pki.server_ec.cert,
                                           pki.server_ec.key))  # fmt: skip
    kms = _aws(front.port, pki.ca.path)
    key_id = f"dev/t{secrets.token_hex(5)}/default"
    kms.create_key(key_id, {})
    key, wrapped = kms.generate_data_key(key_id, b"ad")
    assert kms.unwrap(key_id, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    evidence = kms.tls_evidence()
    assert evidence and {e.protocol for e in evidence} == {"TLSv1.3"}
    assert all(e.outcome == "ok" and e.cipher in MODERN for e in evidence)
    assert evidence[-1].peer_cert_sha256 == hashlib.sha256(pki.server_ec.der).hexdigest()


def test_vault_refuses_a_tls12_only_server(s_server: Any, pki: Any, tmp_path: Path) -> None:
    port = s_server(pki.server_rsa, "-tls1_2", "-cipher", TLS12_OK)
    vault = _vault(port, pki.ca.path, tmp_path)
    with pytest.raises(KeyUnavailable, match="TLS with Vault"):
        vault.describe_key("dev/acme/default")
    entry = vault._client.tls_evidence()[-1]
    assert (entry.service, entry.outcome, entry.protocol) == ("vault", "refused", None)
    legacy = _vault(port, pki.ca.path, tmp_path, "&allow_tls12=true")
    with contextlib.suppress(KeyUnavailable):  # not Vault: s_server sends a status page
        legacy._client.call("health", lambda client: client.adapter.get("/v1/sys/health"))
    entry = legacy._client.tls_evidence()[-1]
    assert (entry.outcome, entry.protocol, entry.cipher) == ("ok", "TLSv1.2", TLS12_OK)


def test_vault_refuses_a_wrong_host(tls_front: Any, pki: Any, elsewhere_leaf: Any,
                                    tmp_path: Path) -> None:  # fmt: skip
    front = tls_front(None, server_context(TlsProfile.MODERN, elsewhere_leaf.cert,
                                           elsewhere_leaf.key))  # fmt: skip
    with pytest.raises(KeyUnavailable, match="certificate verify failed"):
        _vault(front.port, pki.ca.path, tmp_path).describe_key("dev/acme/default")
    assert front.received == []


def test_openbao_negotiates_tls13(kms_backend_vault: dict[str, Any]) -> None:
    vault = kms_backend_vault["provider"](DEV)
    key_id = f"dev/t{secrets.token_hex(5)}/default"
    vault.create_key(key_id, {})
    key, wrapped = vault.generate_data_key(key_id, b"ad")
    assert vault.unwrap(key_id, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    last = vault._client.tls_evidence()[-1]
    assert (last.outcome, last.protocol) == ("ok", "TLSv1.3")
    assert last.cipher in MODERN


def test_allow_tls12_is_an_explicit_uri_flag(tmp_path: Path) -> None:
    assert parse_aws_uri("aws://").allow_tls12 is False
    assert parse_aws_uri("aws://?allow_tls12=true").allow_tls12 is True
    with pytest.raises(ConfigError, match="allow_tls12"):
        parse_aws_uri("aws://?allow_tls12=maybe")
    assert parse_vault_uri("vault+https://kms.internal:8200", tmp_path).allow_tls12 is False
    assert parse_vault_uri("vault+https://kms.internal:8200/?allow_tls12=1", tmp_path).allow_tls12
    with pytest.raises(ConfigError):
        parse_vault_uri("vault+https://kms.internal:8200/?allow_tls12=maybe", tmp_path)
