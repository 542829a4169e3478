"""The TLS policy actually enforced, read back from a context the factory builds.

``tls.allowlist`` does not restate the profile file: it asks the same factory every
listener uses (``callvault.transport.client_context``) for a context of the configured
profile and reads back from OpenSSL which suites it can negotiate inside the profile's
protocol window. The other checks follow from that window and the policy data.
"""

from __future__ import annotations

import ssl
from typing import Any

from callvault.errors import CallvaultError
from callvault.posture.facts._model import Check, CheckStatus, Section
from callvault.transport import (
    HSTS_HEADER_VALUE,
    HSTS_MAX_AGE_SECONDS,
    TlsProfile,
    client_context,
    load_policy,
)

__all__ = ["HYBRID_GROUP", "collect_tls", "openssl_has_mlkem"]

HYBRID_GROUP = "X25519MLKEM768"
_ORDER = {"TLSv1": 10, "TLSv1.1": 11, "TLSv1.2": 12, "TLSv1.3": 13}
_SOURCE = "callvault.transport client_context() read back + profiles/callvault-v1.json"


def openssl_has_mlkem() -> bool:
    """OpenSSL offers ML-KEM hybrids from 3.5 on; older libraries cannot negotiate them."""
    return ssl.OPENSSL_VERSION_INFO[:2] >= (3, 5)


def _enforced(profile: TlsProfile) -> tuple[list[dict[str, str]], str | None]:
    spec = load_policy().profiles[profile]
    try:
        ctx = client_context(profile)
    except CallvaultError as exc:
        return [], str(exc)
    low, high = _ORDER[spec.min_version], _ORDER[spec.max_version]
    iana = {s.name: s.iana for s in (*spec.tls13_suites, *spec.tls12_suites)}
    reachable = [c for c in ctx.get_ciphers() if low <= _ORDER.get(c["protocol"], 0) <= high]
    return [
        {"protocol": c["protocol"], "openssl": c["name"], "iana": iana.get(c["name"], "?")}
        for c in reachable
    ], None


def _allowlist_evidence(
    error: str | None, exact: bool, names: set[str], allowed: frozenset[str], profile: TlsProfile
) -> str:
    if error is not None:
        return f"the TLS factory refused the profile: {error}"
    if exact:
        return f"{len(names)} suites negotiable, exactly the {profile.value} allowlist"
    return f"negotiable {sorted(names)} differ from the allowlist {sorted(allowed)}"


def collect_tls(profile_name: str) -> Section:
    policy = load_policy()
    profile = TlsProfile(profile_name)
    spec = policy.profiles[profile]
    enforced, error = _enforced(profile)
    allowed = spec.suite_names
    names = {s["openssl"] for s in enforced}
    facts: dict[str, Any] = {
        "policy": f"{policy.policy} v{policy.version}",
        "profile": profile.value,
        "description": spec.description,
        "min_version": spec.min_version,
        "max_version": spec.max_version,
        "enforced_suites": enforced,
        "suite_reasons": {s.iana: s.why for s in (*spec.tls13_suites, *spec.tls12_suites)},
        "forbidden": dict(policy.forbidden.reasons),
        "groups": list(spec.groups),
        "openssl": ssl.OPENSSL_VERSION,
        "hybrid_pq_configured": HYBRID_GROUP in spec.groups,
        "hybrid_pq_available": openssl_has_mlkem(),
        "hsts": HSTS_HEADER_VALUE,
        "context_error": error,
    }
    exact = error is None and names == allowed
    checks = (
        Check(
            "tls.allowlist",
            "Only the modern cipher allowlist can be negotiated",
            CheckStatus.PASS if exact else CheckStatus.FAIL,
            _allowlist_evidence(error, exact, names, allowed, profile),
            _SOURCE,
        ),
        Check(
            "tls.tls13_only",
            "Customer-facing endpoints accept TLS 1.3 only",
            CheckStatus.PASS if spec.min_version == "TLSv1.3" else CheckStatus.FAIL,
            f"profile {profile.value}: {spec.min_version} to {spec.max_version}",
            "callvault.toml tls_profile",
        ),
        Check(
            "tls.legacy_disabled",
            "TLS 1.0 and 1.1 (and SSL) are disabled",
            CheckStatus.PASS if _ORDER[spec.min_version] >= 12 else CheckStatus.FAIL,
            f"protocol floor {spec.min_version}; forbidden by policy: "
            + ", ".join(policy.forbidden.protocols),
            _SOURCE,
        ),
        Check(
            "tls.hsts",
            "HTTPS responses carry HSTS of at least one year",
            CheckStatus.PASS if HSTS_MAX_AGE_SECONDS >= 31_536_000 else CheckStatus.FAIL,
            f"Strict-Transport-Security: {HSTS_HEADER_VALUE}",
            "callvault.transport.HSTS_HEADER_VALUE",
        ),
    )
    return Section("tls", facts, checks)
