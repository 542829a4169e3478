"""Who gets in over mTLS: a real TLS 1.3 server on 127.0.0.1 with our CA and PeerVerifier.

Every refusal must carry its own reason (keyd audits it): another CA, expired, revoked,
not a SPIFFE ID, wrong trust domain, no certificate, and a chain the *context* trusted but
that was not issued by our intermediate.
"""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from callvault.errors import ConfigError
from callvault.transport import TlsProfile, client_context, negotiated, server_context
from callvault.transport.ca import (
    InternalCa,
    IssuedCertificate,
    KeyAlgorithm,
    PeerRejected,
    PeerVerifier,
    RejectReason,
    SpiffeId,
)
from callvault.transport.ca._builder import build_service
from callvault.transport.ca._files import load_key

from .conftest import (
    CA_ERROR,
    TRUST_DOMAIN,
    Clock,
    Connection,
    client_ctx,
    issue_listener,
    one_request,
)


@pytest.fixture
def server(ca: InternalCa, clock: Clock, mtls_server: Any) -> Any:
    keyd = issue_listener(ca)
    ctx = server_context(TlsProfile.MODERN, keyd.chain, keyd.key, client_ca=ca.trust_bundle)
    return mtls_server(ctx, PeerVerifier(ca.layout.ca_dir, clock=clock), recheck=True)


def _refused(ctx: ssl.SSLContext, server: Any) -> RejectReason | str:
    """A new connection is refused: the client sees no answer, the server says why."""
    try:
        answer = one_request(ctx, server.port)
    except (ssl.SSLError, OSError):
        answer = ""
    assert answer == ""
    return server.rejection()  # type: ignore[no-any-return]


def _forge(ca: InternalCa, tmp_path: Path, uris: list[str]) -> IssuedCertificate:
    """A leaf signed with the real intermediate key but with arbitrary URI SANs."""
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_key = load_key(ca.layout.intermediate_key)
    good = build_service(
        key.public_key(),
        SpiffeId.for_service(TRUST_DOMAIN, "api"),
        issuer_key,
        ca.intermediate,
        dt.datetime.now(dt.UTC),
        dt.timedelta(hours=2),
    )
    builder = x509.CertificateBuilder(
        issuer_name=good.issuer,
        subject_name=good.subject,
        public_key=key.public_key(),
        serial_number=x509.random_serial_number(),
        not_valid_before=good.not_valid_before_utc,
        not_valid_after=good.not_valid_after_utc,
    )
    for ext in good.extensions:
        if isinstance(ext.value, x509.SubjectAlternativeName):
            if uris:
                san = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris])
                builder = builder.add_extension(san, critical=False)
        else:
            builder = builder.add_extension(ext.value, critical=ext.critical)
    cert = builder.sign(issuer_key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    out = tmp_path / f"forged-{cert.serial_number:x}"
    out.mkdir()
    (out / "chain.pem").write_bytes(cert.public_bytes(pem) + ca.intermediate.public_bytes(pem))
    (out / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (out / "key.pem").chmod(0o600)
    return IssuedCertificate(
        "api",
        "",
        "",
        good.not_valid_before_utc,
        good.not_valid_after_utc,
        out / "c",
        out / "chain.pem",
        out / "key.pem",
        ca.trust_bundle,
    )


def test_valid_service_gets_in_with_its_spiffe_id(ca: InternalCa, server: Any) -> None:
    api = ca.issue("api")
    with Connection(client_ctx(api), server.port) as conn:
        assert conn.ask() == f"ok spiffe://{TRUST_DOMAIN}/api"
        facts = negotiated(conn.tls)
        assert facts["protocol"] == "TLSv1.3"
        assert facts["peer_spiffe_ids"] == [f"spiffe://{TRUST_DOMAIN}/keyd"]


def test_ed25519_service_certificate(ca: InternalCa, server: Any) -> None:
    api = ca.issue("api", key_algorithm=KeyAlgorithm.ED25519)
    assert one_request(client_ctx(api), server.port) == f"ok spiffe://{TRUST_DOMAIN}/api"


def test_revocation_takes_effect_at_next_handshake(
    ca: InternalCa, server: Any, mtls_server: Any, clock: Clock
) -> None:
    api = ca.issue("api")
    stolen = client_ctx(api)  # whoever holds the key keeps it after revocation
    # A second server that, like most, checks only at the handshake.
    keyd = issue_listener(ca, "keyd2")
    lax = mtls_server(
        server_context(TlsProfile.MODERN, keyd.chain, keyd.key, client_ca=ca.trust_bundle),
        PeerVerifier(ca.layout.ca_dir, clock=clock),
    )
    with (
        Connection(client_ctx(api), server.port) as strict_conn,
        Connection(client_ctx(api), lax.port) as lax_conn,
    ):
        assert strict_conn.ask().startswith("ok")
        assert lax_conn.ask().startswith("ok")
        assert ca.revoke(api.serial, reason="key-compromise") == [api.serial]
        # Already-open connections: cut at the next request only where the server re-checks.
        assert strict_conn.ask() == "refused revoked"
        assert server.rejection() is RejectReason.REVOKED
        assert lax_conn.ask().startswith("ok")  # documented: open connections continue
        assert _refused(stolen, server) is RejectReason.REVOKED
        assert _refused(stolen, lax) is RejectReason.REVOKED
    assert not api.key.exists()  # the revoked key is deleted from the CA directory


def test_revoke_by_service_spares_other_services(ca: InternalCa, server: Any) -> None:
    api1, api2, other = ca.issue("api"), ca.issue("api"), ca.issue("worker")
    stolen = client_ctx(api2)
    assert sorted(ca.revoke("api")) == sorted([api1.serial, api2.serial])
    assert _refused(stolen, server) is RejectReason.REVOKED
    assert one_request(client_ctx(other), server.port).startswith("ok")


def test_another_ca_is_refused(ca: InternalCa, server: Any, tmp_path: Path) -> None:
    other = InternalCa.init(tmp_path / "o", tmp_path / "o-root", trust_domain=TRUST_DOMAIN)
    stranger = other.issue("api")
    ctx = client_ctx(stranger, trust=ca.trust_bundle)
    assert _refused(ctx, server) is RejectReason.UNTRUSTED_ISSUER


def test_context_trusting_more_is_still_pinned_to_our_intermediate(
    ca: InternalCa, clock: Clock, mtls_server: Any, tmp_path: Path
) -> None:
    """A server context that also trusts another root lets OpenSSL accept that root's
    leaf; PeerVerifier still refuses it (defence in depth for misconfigured bundles)."""
    other = InternalCa.init(tmp_path / "o", tmp_path / "o-root", trust_domain=TRUST_DOMAIN)
    bundle = tmp_path / "both.pem"
    bundle.write_bytes(ca.trust_bundle.read_bytes() + other.trust_bundle.read_bytes())
    keyd = issue_listener(ca)
    srv = mtls_server(
        server_context(TlsProfile.MODERN, keyd.chain, keyd.key, client_ca=bundle),
        PeerVerifier(ca.layout.ca_dir, clock=clock),
    )
    assert _refused(client_ctx(other.issue("api"), trust=ca.trust_bundle), srv) is (
        RejectReason.UNTRUSTED_ISSUER
    )


def test_expired_certificate_is_refused(ca: InternalCa, server: Any, clock: Clock) -> None:
    real_now = clock.now
    clock.now = real_now - dt.timedelta(hours=3)
    old = ca.issue("api", ttl="1h")
    clock.now = real_now
    assert _refused(client_ctx(old), server) is RejectReason.EXPIRED


def test_expired_by_our_clock_is_refused(ca: InternalCa, clock: Clock) -> None:
    """OpenSSL checks the system clock; the verifier checks its own as well."""
    api = ca.issue("api", ttl="1h")
    cert = x509.load_pem_x509_certificate(api.cert.read_bytes())
    clock.advance(dt.timedelta(hours=2))
    with pytest.raises(PeerRejected) as info:
        PeerVerifier(ca.layout.ca_dir, clock=clock).check_certificate(cert)
    assert info.value.reason is RejectReason.EXPIRED


@pytest.mark.parametrize(
    ("uris", "reason"),
    [
        (["https://callvault.test/api"], RejectReason.NOT_SPIFFE),  # inside name constraints
        ([], RejectReason.NOT_SPIFFE),
        (["spiffe://callvault.test/api", "spiffe://callvault.test/ops"], RejectReason.NOT_SPIFFE),
        (["spiffe://callvault.test/a/../ops"], RejectReason.NOT_SPIFFE),
        (["spiffe://evil.test/api"], RejectReason.WRONG_TRUST_DOMAIN),  # by name constraints
    ],
)
def test_bad_identities_are_refused(
    ca: InternalCa, server: Any, tmp_path: Path, uris: list[str], reason: RejectReason
) -> None:
    forged = _forge(ca, tmp_path, uris)
    assert _refused(client_ctx(forged), server) is reason


def test_client_without_certificate_is_refused(ca: InternalCa, server: Any) -> None:
    ctx = client_context(TlsProfile.MODERN, ca=ca.trust_bundle)
    assert _refused(ctx, server) is RejectReason.NO_CERTIFICATE


def test_corrupt_revocation_list_fails_closed(ca: InternalCa, server: Any) -> None:
    api = ca.issue("api")
    ctx = client_ctx(api)
    assert one_request(ctx, server.port).startswith("ok")
    ca.layout.revoked.write_text("{not json")
    assert _refused(ctx, server) == CA_ERROR
    cert = x509.load_pem_x509_certificate(api.cert.read_bytes())
    with pytest.raises(ConfigError, match="revocation list"):
        PeerVerifier(ca.layout.ca_dir).check_certificate(cert)
