"""The factories build exactly the profile, and the read-back check refuses any context that
differs, including one whose difference comes from OpenSSL's own configuration."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from callvault.transport import (
    TlsPolicyError,
    TlsProfile,
    client_context,
    server_context,
    verify_context,
)


@pytest.mark.parametrize("profile", list(TlsProfile))
def test_server_context_settings(pki: Any, profile: TlsProfile) -> None:
    ctx = server_context(profile, pki.server_rsa.cert, pki.server_rsa.key)
    assert ctx.maximum_version == ssl.TLSVersion.TLSv1_3
    want_min = ssl.TLSVersion.TLSv1_3 if profile is TlsProfile.MODERN else ssl.TLSVersion.TLSv1_2
    assert ctx.minimum_version == want_min
    assert ctx.options & ssl.OP_NO_COMPRESSION
    assert ctx.options & ssl.OP_NO_RENEGOTIATION
    assert ctx.options & ssl.OP_NO_TICKET
    assert ctx.num_tickets == 0
    assert ctx.verify_mode == ssl.CERT_NONE
    assert ctx.security_level >= 2


def test_mtls_server_requires_client_certificates(pki: Any) -> None:
    ctx = server_context(
        TlsProfile.MODERN, pki.server_ec.cert, pki.server_ec.key, client_ca=pki.ca.path
    )
    assert ctx.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize("profile", list(TlsProfile))
def test_client_context_always_verifies(pki: Any, profile: TlsProfile) -> None:
    for ctx in (client_context(profile), client_context(profile, ca=pki.ca.path)):
        assert ctx.verify_mode == ssl.CERT_REQUIRED
        assert ctx.check_hostname
        assert not ctx.hostname_checks_common_name
        assert ctx.verify_flags & ssl.VERIFY_X509_STRICT


def _server(pki: Any, profile: TlsProfile = TlsProfile.LEGACY_INTEROP) -> ssl.SSLContext:
    return server_context(profile, pki.server_rsa.cert, pki.server_rsa.key)


def _extra_tls12_suite(ctx: ssl.SSLContext) -> None:
    ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256")


def _cbc_suite(ctx: ssl.SSLContext) -> None:
    ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:@SECLEVEL=0")


def _lower_floor(ctx: ssl.SSLContext) -> None:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2


def _tickets(ctx: ssl.SSLContext) -> None:
    ctx.num_tickets = 2


def _compression(ctx: ssl.SSLContext) -> None:
    ctx.options &= ~ssl.OP_NO_COMPRESSION


def _renegotiation(ctx: ssl.SSLContext) -> None:
    ctx.options &= ~ssl.OP_NO_RENEGOTIATION


def _lax_chain_checks(ctx: ssl.SSLContext) -> None:
    ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT


def _seclevel_1(ctx: ssl.SSLContext) -> None:
    names = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"
    ctx.set_ciphers(
        f"{names}:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:@SECLEVEL=1"
    )


@pytest.mark.parametrize(
    ("profile", "weaken", "message"),
    [
        (
            TlsProfile.LEGACY_INTEROP,
            _extra_tls12_suite,
            "extra \\['ECDHE-RSA-AES128-GCM-SHA256'\\]",
        ),
        (TlsProfile.LEGACY_INTEROP, _cbc_suite, "not ECDHE with an allowed AEAD"),
        (TlsProfile.MODERN, _cbc_suite, "not ECDHE with an allowed AEAD"),
        (TlsProfile.MODERN, _extra_tls12_suite, "off-policy TLS 1.2 suites"),
        (TlsProfile.MODERN, _lower_floor, "minimum version"),
        (TlsProfile.MODERN, _tickets, "session tickets"),
        (TlsProfile.MODERN, _compression, "compression"),
        (TlsProfile.MODERN, _renegotiation, "renegotiation"),
        (TlsProfile.MODERN, _lax_chain_checks, "VERIFY_X509_STRICT"),
        (TlsProfile.LEGACY_INTEROP, _seclevel_1, "security level"),
    ],
)
def test_verify_refuses_weakened_server_context(
    pki: Any, profile: TlsProfile, weaken: Any, message: str
) -> None:
    ctx = _server(pki, profile)
    verify_context(ctx, profile, role="server")  # the unweakened context passes
    weaken(ctx)
    with pytest.raises(TlsPolicyError, match=message):
        verify_context(ctx, profile, role="server")


def test_verify_refuses_legacy_context_claimed_as_modern(pki: Any) -> None:
    with pytest.raises(TlsPolicyError, match="minimum version"):
        verify_context(_server(pki), TlsProfile.MODERN, role="server")


def test_verify_checks_client_certificate_mode(pki: Any) -> None:
    ctx = _server(pki, TlsProfile.MODERN)
    with pytest.raises(TlsPolicyError, match="client certificate mode"):
        verify_context(ctx, TlsProfile.MODERN, role="server", mutual=True)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    with pytest.raises(TlsPolicyError, match="client certificate mode"):
        verify_context(ctx, TlsProfile.MODERN, role="server")


@pytest.mark.parametrize(
    "weaken",
    [
        lambda c: setattr(c, "check_hostname", False),
        lambda c: (setattr(c, "check_hostname", False), setattr(c, "verify_mode", ssl.CERT_NONE)),
        lambda c: setattr(c, "hostname_checks_common_name", True),
    ],
)
def test_verify_refuses_client_without_full_verification(pki: Any, weaken: Any) -> None:
    ctx = client_context(TlsProfile.MODERN, ca=pki.ca.path)
    weaken(ctx)
    with pytest.raises(TlsPolicyError, match=r"verify|subjectAltName"):
        verify_context(ctx, TlsProfile.MODERN, role="client")


def test_bad_key_material_is_a_policy_error(pki: Any, tmp_path: Path) -> None:
    with pytest.raises(TlsPolicyError, match="cannot load certificate chain"):
        server_context(TlsProfile.MODERN, tmp_path / "missing.pem", pki.server_ec.key)
    with pytest.raises(TlsPolicyError, match="cannot load certificate chain"):
        server_context(TlsProfile.MODERN, pki.server_ec.cert, pki.server_rsa.key)  # mismatch
    with pytest.raises(TlsPolicyError, match="CA bundle"):
        server_context(
            TlsProfile.MODERN, pki.server_ec.cert, pki.server_ec.key, client_ca=tmp_path / "no"
        )
    with pytest.raises(TlsPolicyError, match="without its certificate"):
        client_context(TlsProfile.MODERN, key=pki.client.key)


_PROBE = textwrap.dedent(
    """
    import sys
    from callvault.transport import TlsPolicyError, TlsProfile, client_context, server_context
    cert, key = sys.argv[1], sys.argv[2]
    for build in (lambda p: server_context(p, cert, key), lambda p: client_context(p)):
        for profile in TlsProfile:
            try:
                build(profile)
                print("BUILT", profile.value)
            except TlsPolicyError as exc:
                print("REFUSED", profile.value, exc)
    """
)


def _build_under_openssl_conf(pki: Any, tmp_path: Path, section: str) -> list[str]:
    conf = tmp_path / "openssl.cnf"
    conf.write_text(
        "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n"
        f"[sys]\n{section}\n"
    )
    env = {**os.environ, "OPENSSL_CONF": str(conf)}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(pki.server_ec.cert), str(pki.server_ec.key)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return out.splitlines()


def test_refuses_when_openssl_config_enables_ccm(pki: Any, tmp_path: Path) -> None:
    """Python cannot set TLS 1.3 suites; an openssl.cnf can. Fail closed, every factory."""
    lines = _build_under_openssl_conf(
        pki,
        tmp_path,
        "Ciphersuites = TLS_AES_256_GCM_SHA384:TLS_AES_128_CCM_SHA256:"
        "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
    )
    assert len(lines) == 4
    assert all(line.startswith("REFUSED") for line in lines), lines
    assert all("TLS_AES_128_CCM_SHA256" in line for line in lines), lines


def test_refuses_when_openssl_config_drops_a_suite(pki: Any, tmp_path: Path) -> None:
    lines = _build_under_openssl_conf(pki, tmp_path, "Ciphersuites = TLS_AES_256_GCM_SHA384")
    assert all(line.startswith("REFUSED") and "missing" in line for line in lines), lines


def test_builds_under_an_unrelated_openssl_config(pki: Any, tmp_path: Path) -> None:
    """Control for the two tests above: the subprocess probe itself works."""
    lines = _build_under_openssl_conf(pki, tmp_path, "MinProtocol = TLSv1.2")
    assert lines == [f"BUILT {p.value}" for p in TlsProfile] * 2
