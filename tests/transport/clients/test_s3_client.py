"""The S3 object store's client under the TLS policy, against real servers on 127.0.0.1.

TLS 1.2-only endpoints are Debian's ``openssl s_server``; each refusal has a control (the
same server accepted with ``allow_tls12``, or by a plain client) so that it is the policy,
not a broken server, that refuses. TLS 1.3 endpoints are our ``server_context`` in front
of moto, and radosgw when CI provides it.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import ssl
from typing import Any

import pytest
from botocore.config import Config

from callvault.storage.objects import ObjectStoreError, S3ObjectStore, S3Settings, open_s3_store
from callvault.transport import TlsProfile, profile_spec, server_context
from callvault.transport.clients import botocore_tls_guard

from .conftest import boto_session

KEY = "acme/recording/call-1"
TLS12_OK = "ECDHE-RSA-AES256-GCM-SHA384"
MODERN = profile_spec(TlsProfile.MODERN).suite_names


def s3_session() -> Any:
    return boto_session("us-east-1")


def _settings(url: str, ca: Any, **overrides: Any) -> S3Settings:
    values: dict[str, Any] = {
        "bucket": "callvault-test",
        "endpoint_url": url,
        "ca_bundle": ca,
        "region": "us-east-1",
        "addressing_style": "path",
        "server_side_encryption": False,
    }
    return S3Settings.model_validate({**values, **overrides})


def _raw_client(url: str, verify: Any) -> Any:
    config = Config(
        retries={"total_max_attempts": 1},
        read_timeout=3,
        connect_timeout=3,
        s3={"addressing_style": "path"},
    )
    return s3_session().client("s3", endpoint_url=url, verify=verify, config=config)


def test_tls12_only_endpoint_is_refused(s_server: Any, pki: Any) -> None:
    port = s_server(pki.server_rsa, "-tls1_2", "-cipher", TLS12_OK)
    url = f"https://127.0.0.1:{port}"
    with pytest.raises(ObjectStoreError, match="SSL"):
        open_s3_store(_settings(url, pki.ca.path), s3_session())
    # A client built elsewhere is put under the same policy by the store.
    client = _raw_client(url, str(pki.ca.path))
    store = S3ObjectStore("callvault-test", "", client)
    with pytest.raises(ObjectStoreError, match="SSL"):
        store.put_stream(KEY, [b"sealed"])
    entry = store.tls_evidence()[-1]
    assert (entry.service, entry.outcome, entry.protocol) == ("s3", "refused", None)
    assert entry.reason is not None and entry.reason.startswith("handshake:")
    # Control: the same server under the explicit switch completes TLS 1.2 (and then fails
    # or not as S3: s_server answers with its status page).
    legacy = S3ObjectStore("callvault-test", "", _raw_client(url, str(pki.ca.path)),
                           allow_tls12=True)  # fmt: skip
    with contextlib.suppress(ObjectStoreError):
        b"".join(legacy.get_stream(KEY))
    entry = legacy.tls_evidence()[-1]
    assert (entry.outcome, entry.protocol, entry.cipher) == ("ok", "TLSv1.2", TLS12_OK)


@pytest.mark.parametrize("cipher", ["ECDHE-RSA-AES256-SHA384", "AES256-GCM-SHA384"])
def test_allow_tls12_still_refuses_cbc_and_rsa_key_exchange(
    cipher: str, s_server: Any, pki: Any
) -> None:
    port = s_server(pki.server_rsa, "-tls1_2", "-cipher", f"{cipher}:@SECLEVEL=1")
    url = f"https://127.0.0.1:{port}"
    with pytest.raises(ObjectStoreError, match="SSL"):
        open_s3_store(_settings(url, pki.ca.path, allow_tls12=True), s3_session())
    # Control: a client that offers that suite does get through.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.ca.path)
    ctx.set_ciphers(f"{cipher}:@SECLEVEL=1")
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.cipher()[0] == cipher  # type: ignore[index]


def test_tls13_endpoint_works_and_is_recorded(
    moto: int, tls_front: Any, pki: Any
) -> None:  # fmt: skip
    front = tls_front(moto, server_context(TlsProfile.MODERN, pki.server_ec.cert,
                                           pki.server_ec.key))  # fmt: skip
    url = f"https://127.0.0.1:{front.port}"
    raw = _raw_client(url, str(pki.ca.path))
    raw.create_bucket(Bucket="callvault-test")
    store = open_s3_store(_settings(url, pki.ca.path), s3_session())
    store.put_stream(KEY, [b"sealed bytes"])
    assert b"".join(store.get_stream(KEY)) == b"sealed bytes"
    evidence = store.tls_evidence()
    assert evidence and all(e.outcome == "ok" for e in evidence)
    last = evidence[-1]
    assert (last.protocol, last.host, last.port) == ("TLSv1.3", "127.0.0.1", front.port)
    assert last.cipher in MODERN
    assert last.peer_cert_sha256 == hashlib.sha256(pki.server_ec.der).hexdigest()
    assert front.handshakes and set(front.handshakes) == {"TLSv1.3"}


def test_untrusted_ca_and_wrong_host_are_refused(
    tls_front: Any, pki: Any, elsewhere_leaf: Any
) -> None:
    front = tls_front(None, server_context(TlsProfile.MODERN, pki.server_ec.cert,
                                           pki.server_ec.key))  # fmt: skip
    with pytest.raises(ObjectStoreError, match="CERTIFICATE_VERIFY_FAILED"):
        open_s3_store(_settings(f"https://127.0.0.1:{front.port}", pki.other_ca.path), s3_session())
    other = tls_front(None, server_context(TlsProfile.MODERN, elsewhere_leaf.cert,
                                           elsewhere_leaf.key))  # fmt: skip
    with pytest.raises(ObjectStoreError, match="CERTIFICATE_VERIFY_FAILED"):
        open_s3_store(_settings(f"https://127.0.0.1:{other.port}", pki.ca.path), s3_session())
    assert other.handshakes == []  # the client aborted: the server saw no finished handshake
    assert all(not data for data in front.received + other.received)


def test_radosgw_negotiates_tls13(radosgw_bucket: tuple[Any, Any, str]) -> None:
    server, _, bucket = radosgw_bucket
    settings = _settings(server.endpoint, server.ca, bucket=bucket)
    store = open_s3_store(settings, server.session())
    store.put_stream(KEY, [b"over radosgw"])
    assert b"".join(store.get_stream(KEY)) == b"over radosgw"
    store.delete(KEY)
    guard = botocore_tls_guard(store._client)
    assert guard is not None and guard.profile is TlsProfile.MODERN
    last = store.tls_evidence()[-1]
    assert (last.outcome, last.protocol) == ("ok", "TLSv1.3")
    assert last.cipher in MODERN
