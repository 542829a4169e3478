"""The API's listener: TLS 1.3 only, HSTS on every response, no plaintext HTTP at all."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess

import pytest

from callvault.transport import (
    HSTS_HEADER,
    HSTS_HEADER_VALUE,
    TlsProfile,
    client_context,
    negotiated,
)

OPENSSL = shutil.which("openssl")


def _s_client(api, *args: str) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None, "the openssl binary is required"
    cmd = [OPENSSL, "s_client", "-connect", f"127.0.0.1:{api.port}", "-brief",
           "-servername", "localhost", "-verify_hostname", "localhost",
           "-CAfile", str(api.tls.ca), "-verify_return_error", *args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=20)


def test_tls13_is_negotiated(api) -> None:
    ctx = client_context(TlsProfile.MODERN, ca=api.tls.ca)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", api.port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        got = negotiated(tls)
    assert got["protocol"] == "TLSv1.3"
    assert got["cipher"] in {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                             "TLS_AES_128_GCM_SHA256"}
    assert got["alpn"] == "http/1.1"
    with api.client() as client:
        response = client.get("/.well-known/jwks.json")
        ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
        assert ssl_object.version() == "TLSv1.3"


def test_openssl_tls12_refused_tls13_accepted(api) -> None:
    refused = _s_client(api, "-tls1_2")
    assert refused.returncode != 0 and "CONNECTION ESTABLISHED" not in refused.stdout
    accepted = _s_client(api, "-tls1_3")  # control: the same client does connect with 1.3
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "Protocol version: TLSv1.3" in accepted.stdout + accepted.stderr


def test_python_tls12_client_refused(api) -> None:
    ctx = ssl.create_default_context(cafile=str(api.tls.ca))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with (
        socket.create_connection(("127.0.0.1", api.port), timeout=10) as raw,
        pytest.raises(ssl.SSLError),
    ):
        ctx.wrap_socket(raw, server_hostname="localhost")


def test_no_plaintext_http_on_the_port(api) -> None:
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as raw:
        raw.sendall(b"GET /v1/tenants HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try:
            answer = raw.recv(4096)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    assert not answer.startswith(b"HTTP/"), answer


@pytest.mark.parametrize(
    ("path", "auth", "status"),
    [
        ("/.well-known/jwks.json", False, 200),
        ("/v1/tenants", False, 401),
        ("/v1/tenants", True, 200),
        ("/v1/tenants/nope", True, 404),
        ("/no/such/route", False, 404),
    ],
)
def test_hsts_on_every_response(api, path: str, auth: bool, status: int) -> None:
    token = api.token("platform-admin") if auth else None
    with api.client(token) as client:
        response = client.get(path)
    assert response.status_code == status
    assert response.headers[HSTS_HEADER] == HSTS_HEADER_VALUE
    assert response.headers["x-content-type-options"] == "nosniff"
    if status >= 400:
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
