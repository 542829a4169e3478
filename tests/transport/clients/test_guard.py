"""Adversarial tests of the botocore hook and the guarded urllib3 connection.

The policy must hold even when the layers above it are configured against it: botocore's
pool options rewritten to a permissive context, no hostname check and certifi's CAs; the
guard's own context weakened after it was built; botocore's HTTP session not the one we
know. Each case ends in a refusal with no request byte on the wire, or no client at all.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.exceptions import HTTPClientError

from callvault.storage.objects import ObjectStoreError, S3ObjectStore
from callvault.transport import TlsPolicyError, TlsProfile, server_context
from callvault.transport.clients import (
    ClientTlsGuard,
    botocore_tls_guard,
    secure_botocore_client,
)

from .conftest import boto_session

KEY = "acme/recording/call-1"


def _client(port: int, verify: Any) -> Any:
    config = Config(retries={"total_max_attempts": 1}, read_timeout=3, connect_timeout=3)
    return boto_session("us-east-1").client(
        "s3", endpoint_url=f"https://127.0.0.1:{port}", verify=verify, config=config
    )


def test_pool_options_cannot_switch_verification_off(
    tls_front: Any, pki: Any, elsewhere_leaf: Any
) -> None:
    front = tls_front(None, server_context(TlsProfile.MODERN, elsewhere_leaf.cert,
                                           elsewhere_leaf.key))  # fmt: skip
    client = _client(front.port, str(pki.ca.path))
    store = S3ObjectStore("bucket", "", client)
    manager = client._endpoint.http_session._manager
    permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    permissive.check_hostname = False
    permissive.verify_mode = ssl.CERT_NONE
    permissive.minimum_version = ssl.TLSVersion.TLSv1_2
    permissive.load_verify_locations(pki.ca.path)  # the chain is fine; the host is not
    manager.connection_pool_kw.update(
        ssl_context=permissive, assert_hostname=False, cert_reqs="CERT_NONE", ca_certs=None
    )
    with pytest.raises(ObjectStoreError, match="CERTIFICATE_VERIFY_FAILED"):
        store.exists(KEY)
    assert front.handshakes == [] and front.received == []
    guard = botocore_tls_guard(client)
    assert guard is not None and guard.context.verify_mode == ssl.CERT_REQUIRED
    assert guard.context.check_hostname


def test_weakened_context_is_caught_after_the_handshake(tls_front: Any, pki: Any) -> None:
    server = server_context(TlsProfile.LEGACY_INTEROP, pki.server_ec.cert, pki.server_ec.key)
    server.maximum_version = ssl.TLSVersion.TLSv1_2  # a TLS 1.2-only server
    front = tls_front(None, server)
    client = _client(front.port, str(pki.ca.path))
    store = S3ObjectStore("bucket", "", client)
    guard = botocore_tls_guard(client)
    assert guard is not None
    guard.context.minimum_version = ssl.TLSVersion.TLSv1_2  # as a careless library might
    with pytest.raises(ObjectStoreError, match=r"TLSv1\.2, outside the modern profile"):
        store.exists(KEY)
    assert front.handshakes == ["TLSv1.2"]  # OpenSSL let it through; the read-back did not
    front.close()
    assert front.received == [bytearray()]  # closed before a request byte
    entry = store.tls_evidence()[-1]
    assert (entry.outcome, entry.protocol) == ("refused", "TLSv1.2")


def test_unknown_http_session_builds_no_client(pki: Any) -> None:
    client = _client(9, str(pki.ca.path))

    class Other:
        def close(self) -> None:
            pass

    client._endpoint.http_session = Other()
    with pytest.raises(TlsPolicyError, match="not botocore's URLLib3Session"):
        secure_botocore_client(client, ClientTlsGuard("s3"))
    with pytest.raises(TlsPolicyError):
        S3ObjectStore("bucket", "", client)


def test_guarded_session_refuses_plaintext_urls(pki: Any) -> None:
    client = _client(9, str(pki.ca.path))
    guard = secure_botocore_client(client, ClientTlsGuard("s3", ca=pki.ca.path))
    assert secure_botocore_client(client, ClientTlsGuard("other")) is guard  # first one stays
    request = AWSRequest(method="GET", url="http://127.0.0.1:9/bucket").prepare()
    with pytest.raises(HTTPClientError, match="plaintext requests are refused"):
        client._endpoint.http_session.send(request)
    assert guard.evidence() == ()  # never connected


def test_environment_proxy_is_not_used(
    tls_front: Any, pki: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    front = tls_front(None, server_context(TlsProfile.MODERN, pki.server_ec.cert,
                                           pki.server_ec.key))  # fmt: skip
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    store = S3ObjectStore("bucket", "", _client(front.port, str(pki.ca.path)))
    with pytest.raises(ObjectStoreError):  # not S3, but it went straight to the server
        store.exists(KEY)
    assert store.tls_evidence()[-1].outcome == "ok"
    assert front.handshakes == ["TLSv1.3"]
