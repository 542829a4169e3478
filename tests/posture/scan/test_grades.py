"""Grades and named rules on servers with known configurations."""

from __future__ import annotations

from typing import Any

import pytest

from callvault.posture.scan import ScanReport, scan


@pytest.fixture(scope="module")
def reports(servers: dict[str, int], pki: Any) -> dict[str, ScanReport]:
    return {
        name: scan(f"127.0.0.1:{port}", server_name="localhost", ca_file=str(pki.ca))
        for name, port in servers.items()
    }


def _rules(report: ScanReport, profile: str) -> set[str]:
    return {f["rule"] for f in report.grade(profile)["findings"]}


def test_callvault_listener_gets_the_top_grade(reports: dict[str, ScanReport]) -> None:
    r = reports["callvault"]
    data = r.to_dict()
    assert data["protocols"] == {"SSLv3": False, "TLSv1": False, "TLSv1.1": False,
                                 "TLSv1.2": False, "TLSv1.3": True}  # fmt: skip
    assert set(data["suites"]["TLSv1.3"]) == {
        "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"
    }  # fmt: skip
    assert data["forward_secrecy"] is True and "x25519" in data["groups"]
    assert data["hsts"]["present"] and data["hsts"]["max_age"] == 63072000
    assert data["certificate"]["trusted"] and data["certificate"]["hostname_match"]
    for profile in ("callvault-modern", "mozilla-modern", "mozilla-intermediate"):
        assert r.grade(profile)["grade"] == "A+", r.grade(profile)
    # OpenSSL 3.0 has no ML-KEM: the gap is reported, as information.
    assert data["hybrid_pq"] is False and "pq.no-hybrid-group" in _rules(r, "callvault-modern")


def test_legacy_server_fails_naming_each_broken_rule(reports: dict[str, ScanReport]) -> None:
    r = reports["legacy"]
    data = r.to_dict()
    assert data["protocols"]["TLSv1"] and data["protocols"]["TLSv1.1"]
    assert "TLS_RSA_WITH_AES_128_CBC_SHA" in data["suites"]["TLSv1"]
    assert data["forward_secrecy"] is False
    for profile in ("callvault-modern", "callvault-legacy-interop", "mozilla-intermediate"):
        g = r.grade(profile)
        assert g["grade"] == "F" and g["passed"] is False
        assert {
            "proto.tls10-enabled", "proto.tls11-enabled", "suite.cbc", "suite.rsa-kex",
            "suite.anon", "kx.no-forward-secrecy", "proto.tls13-missing", "hsts.missing",
        } <= _rules(r, profile)  # fmt: skip
        assert all(f["rule"] and f["severity"] and f["message"] for f in g["findings"])


def test_tls12_ecdhe_server(reports: dict[str, ScanReport]) -> None:
    r = reports["ecdhe12"]
    data = r.to_dict()
    assert data["suites"] == {"TLSv1.2": ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                                          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]}  # fmt: skip
    assert data["server_order"]["TLSv1.2"] is True  # -serverpref: the server's order
    assert "x25519" in data["groups"] and data["forward_secrecy"]
    assert "proto.tls12-not-in-profile" in _rules(r, "callvault-modern")
    legacy = _rules(r, "callvault-legacy-interop")
    assert not {"suite.not-in-profile", "suite.cbc", "kx.no-forward-secrecy"} & legacy
    assert "proto.tls13-missing" in legacy


def test_tls13_server_without_hsts(reports: dict[str, ScanReport]) -> None:
    r = reports["tls13"]
    assert r.to_dict()["protocols"]["TLSv1.3"] and not r.to_dict()["protocols"]["TLSv1.2"]
    assert "ffdhe2048" in r.to_dict()["groups"]
    g = r.grade("callvault-modern")
    assert g["grade"] == "C" and "hsts.missing" in _rules(r, "callvault-modern")


def test_untrusted_without_ca_file(servers: dict[str, int]) -> None:
    r = scan(f"127.0.0.1:{servers['callvault']}", server_name="localhost")
    assert r.to_dict()["certificate"]["trusted"] is False
    assert "cert.untrusted" in _rules(r, "callvault-modern")
    assert r.grade("callvault-modern")["grade"] == "F"


def test_hostname_mismatch(servers: dict[str, int], pki: Any) -> None:
    r = scan(f"127.0.0.1:{servers['tls13']}", server_name="evil.example", ca_file=str(pki.ca))
    assert "cert.hostname-mismatch" in _rules(r, "mozilla-modern")
