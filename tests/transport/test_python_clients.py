"""Python's own ``ssl`` as the client: ``client_context`` against our servers and against
Debian's ``openssl s_server``; mutual TLS; and what :func:`negotiated` records."""

from __future__ import annotations

import hashlib
import socket
import ssl
from typing import Any

import pytest

from callvault.transport import (
    Negotiated,
    TlsPolicyError,
    TlsProfile,
    client_context,
    negotiated,
    server_context,
)

SPIFFE_CLIENT = "spiffe://callvault.test/voice-agent"


def _connect(ctx: ssl.SSLContext, port: int, hostname: str = "localhost") -> Negotiated:
    """Handshake, then read the server's greeting (TLS 1.3 reports a rejected client
    certificate only after the client's side of the handshake, on the first read)."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        info = negotiated(tls)
        tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        if not tls.recv(64):
            raise ConnectionResetError("the server closed without a greeting")
        return info


def _sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


@pytest.mark.parametrize("profile", list(TlsProfile))
def test_python_client_to_our_server(pki: Any, serve: Any, profile: TlsProfile) -> None:
    srv = serve(server_context(profile, pki.server_ec.cert, pki.server_ec.key))
    info = _connect(client_context(profile, ca=pki.ca.path), srv.port)
    assert info["protocol"] == "TLSv1.3"
    assert info["cipher"] == "TLS_AES_256_GCM_SHA384"
    assert info["peer_cert_sha256"] == _sha256(pki.server_ec.der)
    assert info["peer_uri_sans"] == [] and info["peer_spiffe_ids"] == []
    server_view = srv.outcome()
    assert server_view["cipher"] == info["cipher"]
    assert server_view["peer_cert_sha256"] is None  # no client certificate was asked for


def test_modern_client_refuses_tls12_only_server(pki: Any, s_server: Any) -> None:
    port = s_server(pki.server_ec, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384")
    with pytest.raises(ssl.SSLError, match=r"PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL"):
        _connect(client_context(TlsProfile.MODERN, ca=pki.ca.path), port)
    # Control: the same server is reachable by the legacy profile, on an allowed suite.
    info = _connect(client_context(TlsProfile.LEGACY_INTEROP, ca=pki.ca.path), port)
    assert (info["protocol"], info["cipher"]) == ("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384")


@pytest.mark.parametrize(
    "server_args",
    [
        ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"),  # not on the list
        ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"),  # CBC, SHA-1
        ("-tls1_1", "-cipher", "ALL:@SECLEVEL=0"),
    ],
)
def test_legacy_client_refuses_off_policy_server(
    pki: Any, s_server: Any, server_args: tuple[str, ...]
) -> None:
    port = s_server(pki.server_ec, *server_args)
    with pytest.raises(ssl.SSLError):
        _connect(client_context(TlsProfile.LEGACY_INTEROP, ca=pki.ca.path), port)


def test_client_verifies_chain_and_hostname(pki: Any, serve: Any) -> None:
    srv = serve(server_context(TlsProfile.MODERN, pki.server_ec.cert, pki.server_ec.key))
    good = client_context(TlsProfile.MODERN, ca=pki.ca.path)
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        _connect(good, srv.port, hostname="api.example.com")
    with pytest.raises(
        ssl.SSLCertVerificationError, match="self-signed certificate in certificate chain"
    ):
        _connect(client_context(TlsProfile.MODERN, ca=pki.other_ca.path), srv.port)
    with pytest.raises(ssl.SSLCertVerificationError):
        _connect(client_context(TlsProfile.MODERN), srv.port)  # system trust store only
    info = _connect(good, srv.port, hostname="127.0.0.1")  # IP SAN
    assert info["protocol"] == "TLSv1.3"


def _mtls_server(pki: Any, serve: Any, profile: TlsProfile) -> Any:
    ctx = server_context(profile, pki.server_ec.cert, pki.server_ec.key, client_ca=pki.ca.path)
    return serve(ctx)


def test_mtls_accepts_client_from_trusted_ca(pki: Any, serve: Any) -> None:
    srv = _mtls_server(pki, serve, TlsProfile.MODERN)
    ctx = client_context(
        TlsProfile.MODERN, ca=pki.ca.path, cert=pki.client.cert, key=pki.client.key
    )
    _connect(ctx, srv.port)
    seen = srv.outcome()
    assert seen["peer_cert_sha256"] == _sha256(pki.client.der)
    assert seen["peer_uri_sans"] == [SPIFFE_CLIENT]
    assert seen["peer_spiffe_ids"] == [SPIFFE_CLIENT]


@pytest.mark.parametrize("client", ["none", "other-ca"])
def test_mtls_refuses_client_without_trusted_certificate(pki: Any, serve: Any, client: str) -> None:
    srv = _mtls_server(pki, serve, TlsProfile.MODERN)
    leaf = pki.client_other_ca if client == "other-ca" else None
    kwargs = {"cert": leaf.cert, "key": leaf.key} if leaf else {}
    ctx = client_context(TlsProfile.MODERN, ca=pki.ca.path, **kwargs)
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        _connect(ctx, srv.port)
    assert isinstance(srv.outcome(), ssl.SSLError)


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_mtls_with_openssl_client(pki: Any, serve: Any, s_client: Any, version: str) -> None:
    srv = _mtls_server(pki, serve, TlsProfile.LEGACY_INTEROP)
    ok = s_client(srv.port, version, "-cert", str(pki.client.cert), "-key", str(pki.client.key))
    assert ok.ok, ok.output
    assert srv.outcome()["peer_spiffe_ids"] == [SPIFFE_CLIENT]
    for args in (
        (),
        ("-cert", str(pki.client_other_ca.cert), "-key", str(pki.client_other_ca.key)),
    ):
        s_client(srv.port, version, *args)
        assert isinstance(srv.outcome(), ssl.SSLError)


def test_negotiated_needs_a_completed_handshake() -> None:
    ctx = client_context(TlsProfile.MODERN)
    obj = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")
    with pytest.raises(TlsPolicyError, match="not completed"):
        negotiated(obj)
