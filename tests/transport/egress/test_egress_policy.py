"""The egress factory's TLS rules against real servers on 127.0.0.1: TLS 1.3 floor, the
TLS 1.2 allow-list (ECDHE + AEAD only), trust and hostname checks, plaintext refusal."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.transport.conftest import issue

from callvault.errors import ConfigError
from callvault.transport import TlsProfile, profile_spec
from callvault.transport.egress import EgressRefused, EvidenceStore, egress_client

MODERN_SUITES = profile_spec(TlsProfile.MODERN).suite_names
TLS12_OK = "ECDHE-RSA-AES256-GCM-SHA384"


def _entries(home: Path, name: str = "stt") -> list[dict[str, Any]]:
    return EvidenceStore(home).read().get(name, [])


def test_tls13_provider_ok_and_recorded(
    provider_server: Any, egress_settings: Any, home: Path, pki: Any
) -> None:
    server = provider_server()
    settings = egress_settings(server.port)
    with egress_client("stt", home=home, settings=settings) as client:
        response = client.get("/v1/models")
        again = client.get("/v1/models")  # Connection: close -> a second handshake
    assert response.status_code == 200 and response.text == "ok"
    assert again.status_code == 200
    entries = _entries(home)
    assert len(entries) == 2
    first = entries[0]
    assert first["outcome"] == "ok" and first["reason"] is None
    assert first["protocol"] == "TLSv1.3"
    assert first["cipher"] in MODERN_SUITES
    assert first["peer_cert_sha256"] == hashlib.sha256(pki.server_ec.der).hexdigest()
    assert (first["host"], first["port"]) == ("localhost", server.port)


def test_tls12_only_provider_refused_by_default(
    s_server: Any, egress_settings: Any, home: Path, pki: Any
) -> None:
    port = s_server(pki.server_rsa, "-tls1_2", "-cipher", TLS12_OK)
    with (
        egress_client("stt", home=home, settings=egress_settings(port)) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get("/")
    [entry] = _entries(home)
    assert entry["outcome"] == "refused"
    assert entry["reason"].startswith("handshake:")
    assert entry["protocol"] is None


def test_tls12_provider_accepted_when_allow_listed(
    s_server: Any, egress_settings: Any, home: Path, pki: Any
) -> None:
    port = s_server(pki.server_rsa, "-tls1_2", "-cipher", TLS12_OK)
    settings = egress_settings(port, allow_tls12=True)
    with egress_client("stt", home=home, settings=settings) as client:
        assert client.get("/").status_code == 200
    [entry] = _entries(home)
    assert (entry["outcome"], entry["protocol"], entry["cipher"]) == ("ok", "TLSv1.2", TLS12_OK)


@pytest.mark.parametrize(
    "suite",
    [
        "ECDHE-RSA-AES256-SHA384",  # CBC, MAC-then-encrypt
        "ECDHE-RSA-AES128-SHA",  # CBC with a SHA-1 MAC
        "AES256-GCM-SHA384",  # RSA key exchange: no forward secrecy
    ],
)
def test_allow_listed_tls12_still_needs_ecdhe_aead(
    suite: str, s_server: Any, s_client: Any, egress_settings: Any, home: Path, pki: Any
) -> None:
    port = s_server(pki.server_rsa, "-tls1_2", "-cipher", f"{suite}:@SECLEVEL=1")
    control = s_client(port, "-tls1_2", "-cipher", f"{suite}:@SECLEVEL=1")
    assert control.ok and control.cipher == suite, control.output  # really offered
    settings = egress_settings(port, allow_tls12=True)
    with (
        egress_client("stt", home=home, settings=settings) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get("/")
    assert [e["outcome"] for e in _entries(home)] == ["refused"]


def test_untrusted_certificate_refused(
    provider_server: Any, egress_settings: Any, home: Path, pki: Any
) -> None:
    server = provider_server()
    for ca_bundle in (str(pki.other_ca.path), None):  # another CA; the system store
        settings = egress_settings(server.port, ca_bundle=ca_bundle)
        with (
            egress_client("stt", home=home, settings=settings) as client,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            client.post("/v1/listen", content=b"secret audio")
    server.wait(2)
    assert server.handshakes == 0 and server.received == []
    assert [e["outcome"] for e in _entries(home)] == ["refused", "refused"]


def test_wrong_hostname_refused(
    provider_server: Any, egress_settings: Any, home: Path, pki: Any, tmp_path: Path
) -> None:
    leaf = issue(pki.ca, tmp_path, "elsewhere", dns=("provider.example",), ips=())
    server = provider_server(leaf)
    with (
        egress_client("stt", home=home, settings=egress_settings(server.port)) as client,
        pytest.raises(httpx.ConnectError, match="Hostname mismatch"),
    ):
        client.get("/")
    [entry] = _entries(home)
    assert entry["outcome"] == "refused" and "mismatch" in entry["reason"]


def test_plaintext_url_refused_before_any_socket(
    plain_listener: Any, egress_settings: Any, home: Path
) -> None:
    settings = egress_settings(443)
    with egress_client("stt", home=home, settings=settings) as client:
        with pytest.raises(EgressRefused, match="https:// only"):
            client.get(f"http://127.0.0.1:{plain_listener.port}/")
        with pytest.raises(EgressRefused):
            client.post(f"http://localhost:{plain_listener.port}/", content=b"transcript")
    assert plain_listener.accepted == 0
    assert _entries(home) == []


def test_redirect_to_plaintext_refused(
    provider_server: Any, plain_listener: Any, egress_settings: Any, home: Path
) -> None:
    location = f"http://127.0.0.1:{plain_listener.port}/v1/listen"
    redirect = f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\n"
    server = provider_server(response=redirect.encode() + b"Content-Length: 0\r\n\r\n")
    with (
        egress_client("stt", home=home, settings=egress_settings(server.port)) as client,
        pytest.raises(EgressRefused, match="https:// only"),
    ):
        client.post("/v1/listen", content=b"transcript", follow_redirects=True)
    assert plain_listener.accepted == 0
    assert [e["outcome"] for e in _entries(home)] == ["ok"]  # only the https hop


def test_plaintext_base_url_refused_by_configuration(egress_settings: Any) -> None:
    with pytest.raises(ValueError, match="https://"):
        egress_settings(80, base_url="http://127.0.0.1:80")


def test_unknown_provider_is_a_config_error(egress_settings: Any, home: Path) -> None:
    with pytest.raises(ConfigError, match="unknown egress provider 'tts'"):
        egress_client("tts", home=home, settings=egress_settings(443))
