"""The policy data file: it matches DESIGN.md's allowlist exactly, and the loader refuses
any edit that would admit something forbidden."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from callvault.errors import ConfigError
from callvault.transport import (
    HSTS_HEADER_VALUE,
    TlsPolicyError,
    TlsProfile,
    load_policy,
    profile_spec,
)
from callvault.transport._profiles import POLICY_FILE, parse_policy

MODERN_SUITES = {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"}
LEGACY_TLS12 = {
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
}


def _raw() -> dict[str, Any]:
    text = resources.files("callvault.transport").joinpath("profiles", POLICY_FILE).read_text()
    return dict(json.loads(text))


def test_shipped_policy_is_the_design_allowlist() -> None:
    policy = load_policy()
    assert (policy.policy, policy.version) == ("callvault-v1", 1)
    modern = profile_spec(TlsProfile.MODERN)
    assert (modern.min_version, modern.max_version) == ("TLSv1.3", "TLSv1.3")
    assert modern.suite_names == MODERN_SUITES
    legacy = profile_spec(TlsProfile.LEGACY_INTEROP)
    assert (legacy.min_version, legacy.max_version) == ("TLSv1.2", "TLSv1.3")
    assert legacy.suite_names == MODERN_SUITES | LEGACY_TLS12
    assert {"TLSv1", "TLSv1.1", "SSLv3"} <= set(policy.forbidden.protocols)


def test_iana_names_are_recorded_for_the_scanner() -> None:
    iana = {s.iana for s in profile_spec(TlsProfile.LEGACY_INTEROP).tls12_suites}
    assert "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" in iana
    assert len(iana) == 4


def test_hsts_value() -> None:
    assert HSTS_HEADER_VALUE == "max-age=63072000; includeSubDomains"


def _suite(name: str) -> dict[str, str]:
    return {"name": name, "iana": "TLS_X", "why": "test"}


def _with(mutate: Any) -> str:
    data = copy.deepcopy(_raw())
    mutate(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    "bad_suite",
    [
        "AES128-SHA",  # RSA key exchange, CBC, SHA-1
        "AES256-GCM-SHA384",  # RSA key exchange
        "ECDHE-RSA-AES128-SHA",  # CBC with SHA-1 MAC
        "ECDHE-RSA-AES256-SHA384",  # CBC
        "DES-CBC3-SHA",
        "ECDHE-RSA-DES-CBC3-SHA",
        "RC4-MD5",
        "EXP-RC4-MD5",
        "DHE-RSA-AES256-GCM-SHA384",  # finite-field DHE: not on the list
        "ECDHE-ECDSA-AES128-CCM",
        "ECDHE-ECDSA-NULL-SHA",
    ],
)
def test_loader_refuses_forbidden_tls12_suite(bad_suite: str) -> None:
    text = _with(
        lambda d: d["profiles"]["legacy-interop"]["tls12_suites"].append(_suite(bad_suite))
    )
    with pytest.raises(TlsPolicyError, match="invalid TLS policy"):
        parse_policy(text)


def test_loader_refuses_ccm_in_tls13() -> None:
    text = _with(
        lambda d: d["profiles"]["modern"]["tls13_suites"].append(_suite("TLS_AES_128_CCM_SHA256"))
    )
    with pytest.raises(TlsPolicyError, match="CCM"):
        parse_policy(text)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_version", "TLSv1.1"),
        ("max_version", "TLSv1.2"),
        ("session_tickets", True),
        ("compression", True),
        ("renegotiation", True),
        ("min_security_level", 1),
        ("cipher_string", "ALL"),  # unknown keys are errors, not ignored
    ],
)
def test_loader_refuses_weakened_profile(field: str, value: object) -> None:
    text = _with(lambda d: d["profiles"]["modern"].__setitem__(field, value))
    with pytest.raises(TlsPolicyError):
        parse_policy(text)


def test_loader_refuses_tls12_suites_in_tls13_only_profile() -> None:
    text = _with(
        lambda d: d["profiles"]["modern"]["tls12_suites"].append(
            _suite("ECDHE-RSA-AES256-GCM-SHA384")
        )
    )
    with pytest.raises(TlsPolicyError, match=r"TLS 1\.3-only"):
        parse_policy(text)


def test_loader_refuses_missing_or_unknown_profile() -> None:
    with pytest.raises(TlsPolicyError):
        parse_policy(_with(lambda d: d["profiles"].pop("legacy-interop")))
    with pytest.raises(TlsPolicyError):
        parse_policy(_with(lambda d: d["profiles"].__setitem__("anything", {})))


def test_loader_refuses_garbage_and_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        parse_policy("{not json")


def test_unmodified_copy_parses() -> None:
    """The mutation tests above start from a document that is valid on its own."""
    assert parse_policy(_with(lambda d: None)) == load_policy()
