"""Adversarial: every way a caller can be refused by keyd is refused AND audited.

The four certificates of the issue (another CA, expired, revoked, valid but unauthorised),
plus a client that speaks plaintext HTTP and one that only speaks TLS 1.2. Each test
checks the client side (an error of the right kind, never a key) and the keyd side (an
audit entry naming the refusal).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from pathlib import Path

import pytest

from callvault.keys.providers._remote_wire import KeyAccessDenied
from callvault.transport.ca import InternalCa

from .conftest import TRUST_DOMAIN, RunningKeyd, past_ca

KEY_ID = "dev/acme/default"


def _seed_key(keyd: RunningKeyd) -> None:
    keyd.as_service("ops").create_key(KEY_ID, {"tenant": "acme"})


def test_a_certificate_from_another_ca_is_refused_and_audited(
    keyd: RunningKeyd, tmp_path: Path
) -> None:
    # Same trust domain, same service name: only the issuer differs.
    other = InternalCa.init(tmp_path / "other", tmp_path / "other-root", trust_domain=TRUST_DOMAIN)
    client = keyd.client(other.issue("api"))
    with pytest.raises(KeyAccessDenied, match="unknown_ca"):
        client.describe_key(KEY_ID)
    entry = keyd.audited(lambda e: e.action == "keyd.connect")
    assert (entry.actor, entry.outcome) == ("unauthenticated", "PeerRejected")
    assert entry.detail["reason"] == "untrusted-issuer"
    assert entry.detail["peer"].startswith("127.0.0.1:")


def test_an_expired_certificate_is_refused_and_audited(keyd: RunningKeyd) -> None:
    expired = past_ca(keyd.home / "ca", days=2).issue("api", ttl="1h")
    client = keyd.client(expired)
    with pytest.raises(KeyAccessDenied, match="expired"):
        client.describe_key(KEY_ID)
    entry = keyd.audited(lambda e: e.action == "keyd.connect")
    assert (entry.outcome, entry.detail["reason"]) == ("PeerRejected", "expired")


def test_a_revoked_certificate_is_refused_at_the_next_request_and_audited(
    keyd: RunningKeyd,
) -> None:
    _seed_key(keyd)
    issued = keyd.ca.issue("api")
    client = keyd.client(issued)  # contexts hold the key: revocation deletes the file
    fresh = keyd.client(issued)
    key, wrapped = client.generate_data_key(KEY_ID, b"ad")  # works before revocation
    keyd.ca.revoke(issued.serial, reason="key-compromise")
    with pytest.raises(KeyAccessDenied, match="revoked"):
        client.unwrap(KEY_ID, wrapped, b"ad")  # on the kept-alive connection, too
    with pytest.raises(KeyAccessDenied, match="revoked"):
        fresh.describe_key(KEY_ID)  # and on a new connection
    entry = keyd.audited(lambda e: e.outcome == "PeerRejected")
    assert (entry.action, entry.actor) == ("keyd.unwrap", "unauthenticated")
    assert entry.detail["reason"] == "revoked"
    assert entry.detail["presented"] == f"spiffe://{TRUST_DOMAIN}/api"
    assert key.secret_bytes() not in json.dumps([e.as_json() for e in keyd.log.entries()]).encode()


def test_a_valid_certificate_with_an_unauthorised_spiffe_id_is_refused_and_audited(
    keyd: RunningKeyd,
) -> None:
    _seed_key(keyd)
    api = keyd.as_service("api")
    _, wrapped = api.generate_data_key(KEY_ID, b"ad")
    billing = keyd.as_service("billing")
    with pytest.raises(KeyAccessDenied):
        billing.unwrap(KEY_ID, wrapped, b"ad")
    entry = keyd.audited(lambda e: e.actor == f"spiffe://{TRUST_DOMAIN}/billing")
    assert (entry.action, entry.outcome) == ("keyd.unwrap", "KeyAccessDenied")
    assert (entry.key_id, entry.tenant, entry.detail["reason"]) == (KEY_ID, "acme", "policy")


def test_plaintext_http_is_refused_and_audited(keyd: RunningKeyd) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", keyd.port, timeout=10)
    body = json.dumps({"key_id": KEY_ID})
    with pytest.raises((http.client.HTTPException, OSError)):
        conn.request("POST", "/v1/describe_key", body=body)
        answer = conn.getresponse()
        answer.read()
        raise AssertionError(f"keyd answered plaintext HTTP with {answer.status}")
    conn.close()
    entry = keyd.audited(lambda e: e.action == "keyd.connect")
    assert (entry.outcome, entry.detail["reason"]) == ("PeerRejected", "invalid")


def test_a_tls12_only_client_is_refused_and_audited(keyd: RunningKeyd) -> None:
    issued = keyd.ca.issue("api")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(issued.trust_bundle)
    ctx.load_cert_chain(issued.chain, issued.key)
    raw = socket.create_connection(("127.0.0.1", keyd.port), timeout=10)
    with pytest.raises(ssl.SSLError), raw:
        ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    entry = keyd.audited(lambda e: e.action == "keyd.connect")
    assert (entry.outcome, entry.detail["reason"]) == ("PeerRejected", "invalid")


def test_a_client_without_a_certificate_is_refused_and_audited(keyd: RunningKeyd) -> None:
    ctx = ssl.create_default_context(cafile=str(keyd.home / "ca" / "root.pem"))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    request = b"POST /v1/list_keys HTTP/1.1\r\nHost: keyd\r\nContent-Length: 2\r\n\r\n{}"
    raw = socket.create_connection(("127.0.0.1", keyd.port), timeout=10)
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(request)
        with pytest.raises((ssl.SSLError, OSError)):
            if not tls.recv(1024):
                raise ConnectionResetError("closed without an answer")
    entry = keyd.audited(lambda e: e.action == "keyd.connect")
    assert (entry.outcome, entry.detail["reason"]) == ("PeerRejected", "no-certificate")
