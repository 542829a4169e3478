"""The grading rules, in one table, and their evaluation against one profile.

Every finding names its rule id; a rule's severity is fixed here (not per profile) so a
finding means the same thing in every report. The ids are specified in docs/posture/scan.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from callvault.posture.scan._catalog import HYBRID_PQ_GROUPS, Suite, suites
from callvault.posture.scan._profiles import GradingProfile

__all__ = ["RULES", "SEVERITIES", "Rule", "evaluate"]

SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True)
class Rule:
    severity: str
    title: str


RULES: dict[str, Rule] = {
    "proto.none": Rule("critical", "no protocol version could be negotiated"),
    "proto.sslv3-enabled": Rule("critical", "SSLv3 accepted (POODLE; RFC 7568)"),
    "proto.tls10-enabled": Rule("high", "TLS 1.0 accepted (RFC 8996)"),
    "proto.tls11-enabled": Rule("high", "TLS 1.1 accepted (RFC 8996)"),
    "proto.tls12-not-in-profile": Rule("medium", "TLS 1.2 accepted; the profile is TLS 1.3 only"),
    "proto.tls13-missing": Rule("medium", "TLS 1.3 not offered"),
    "suite.null": Rule("critical", "NULL encryption suites accepted"),
    "suite.anon": Rule("critical", "anonymous (unauthenticated) suites accepted"),
    "suite.export": Rule("critical", "export-grade suites accepted (FREAK, Logjam)"),
    "suite.rc4": Rule("critical", "RC4 suites accepted (RFC 7465)"),
    "suite.des": Rule("high", "DES/3DES/64-bit-block suites accepted (Sweet32)"),
    "suite.md5": Rule("high", "MD5 MAC suites accepted"),
    "suite.cbc": Rule("high", "CBC-mode suites accepted (Lucky13, padding oracles)"),
    "suite.rsa-kex": Rule("high", "RSA key exchange accepted (no forward secrecy; ROBOT)"),
    "suite.sha1-mac": Rule("medium", "SHA-1 MAC suites accepted"),
    "suite.not-in-profile": Rule("medium", "suites accepted that the profile does not list"),
    "kx.no-forward-secrecy": Rule("high", "suites without forward secrecy accepted"),
    "kx.group-not-in-profile": Rule("info", "key-exchange groups offered beyond the profile"),
    "pq.no-hybrid-group": Rule("info", "no hybrid post-quantum group (X25519MLKEM768)"),
    "cert.missing": Rule("critical", "no certificate could be read"),
    "cert.expired": Rule("critical", "certificate expired"),
    "cert.not-yet-valid": Rule("critical", "certificate not yet valid"),
    "cert.expires-soon": Rule("medium", "certificate expires within the warning horizon"),
    "cert.self-signed": Rule("high", "self-signed certificate"),
    "cert.untrusted": Rule("high", "chain does not verify against the trust store"),
    "cert.hostname-mismatch": Rule("high", "certificate does not name the server"),
    "cert.weak-key": Rule("high", "certificate key below the profile's minimum size"),
    "cert.sha1-signature": Rule("high", "certificate signed with SHA-1 or MD5"),
    "cert.key-type-not-in-profile": Rule("low", "certificate key type not in the profile"),
    "cert.lifetime-too-long": Rule("low", "certificate lifetime above the profile's maximum"),
    "hsts.missing": Rule("medium", "HTTPS response without Strict-Transport-Security"),
    "hsts.short-max-age": Rule("low", "HSTS max-age below the profile's minimum"),
}

_SUITE_TESTS: dict[str, Callable[[Suite], bool]] = {
    "suite.null": lambda s: s.mode == "NULL",
    "suite.anon": lambda s: s.auth in ("anon", "NULL"),
    "suite.export": lambda s: s.export,
    "suite.rc4": lambda s: s.cipher.startswith("RC4"),
    "suite.des": lambda s: s.cipher.split("_")[0] in ("DES", "3DES", "DES40", "IDEA", "RC2"),
    "suite.md5": lambda s: s.mac == "MD5",
    "suite.cbc": lambda s: s.mode == "CBC",
    "suite.rsa-kex": lambda s: s.kx == "RSA",
    "suite.sha1-mac": lambda s: s.mac == "SHA",
    "kx.no-forward-secrecy": lambda s: not s.forward_secrecy,
}
_PROTO_RULES = {"SSLv3": "proto.sslv3-enabled", "TLSv1": "proto.tls10-enabled",
                "TLSv1.1": "proto.tls11-enabled"}  # fmt: skip


def _finding(rule: str, message: str) -> dict[str, str]:
    return {"rule": rule, "severity": RULES[rule].severity, "message": message}


def _suite_findings(report: dict[str, Any], profile: GradingProfile) -> list[dict[str, str]]:
    by_name = {s.iana: s for s in suites().values()}
    accepted = [(v, by_name[n]) for v, names in report["suites"].items() for n in names]
    out = []
    for rule, test in _SUITE_TESTS.items():
        hits = [f"{v} {s.iana}" for v, s in accepted if test(s)]
        if hits:
            out.append(_finding(rule, f"{RULES[rule].title}: {', '.join(hits)}"))
    allowed = {"TLSv1.3": set(profile.tls13_suites), "TLSv1.2": set(profile.tls12_suites)}
    extra = [
        f"{v} {s.iana}" for v, s in accepted if v in profile.protocols and s.iana not in allowed[v]
    ]
    if extra:
        out.append(_finding("suite.not-in-profile", f"not in {profile.id}: {', '.join(extra)}"))
    return out


def _protocol_findings(report: dict[str, Any], profile: GradingProfile) -> list[dict[str, str]]:
    protocols = report["protocols"]
    out = [_finding(rule, RULES[rule].title) for v, rule in _PROTO_RULES.items() if protocols[v]]
    if not any(protocols.values()):
        out.append(_finding("proto.none", RULES["proto.none"].title))
    if protocols["TLSv1.2"] and "TLSv1.2" not in profile.protocols:
        out.append(
            _finding("proto.tls12-not-in-profile", RULES["proto.tls12-not-in-profile"].title)
        )
    if not protocols["TLSv1.3"] and "TLSv1.3" in profile.protocols:
        out.append(_finding("proto.tls13-missing", RULES["proto.tls13-missing"].title))
    extra = [g for g in report["groups"] if g not in profile.groups and g not in HYBRID_PQ_GROUPS]
    if extra:
        out.append(_finding("kx.group-not-in-profile", f"offered: {', '.join(extra)}"))
    if not report["hybrid_pq"]:
        out.append(_finding("pq.no-hybrid-group", RULES["pq.no-hybrid-group"].title))
    return out


def _cert_findings(cert: dict[str, Any], profile: GradingProfile) -> list[dict[str, str]]:
    if not cert.get("present"):
        return [_finding("cert.missing", RULES["cert.missing"].title)]
    out = []
    days = cert["days_to_expiry"]
    if cert["expired"]:
        out.append(_finding("cert.expired", f"expired on {cert['not_after']}"))
    elif days < profile.expiry_warning_days:
        out.append(_finding("cert.expires-soon", f"expires in {days} days ({cert['not_after']})"))
    if cert["not_yet_valid"]:
        out.append(_finding("cert.not-yet-valid", f"valid from {cert['not_before']}"))
    if cert["self_signed"]:
        out.append(_finding("cert.self-signed", f"self-signed: {cert['subject']}"))
    elif not cert["trusted"]:
        out.append(_finding("cert.untrusted", f"does not verify: {cert['trust_error']}"))
    if not cert["hostname_match"]:
        out.append(_finding("cert.hostname-mismatch", f"no SAN matches {cert['hostname']!r}"))
    kind, bits = cert["key_type"], cert["key_bits"]
    minimum = {"rsa": profile.rsa_min_bits, "dsa": 10**6}.get(kind, profile.ec_min_bits)
    if bits < minimum:
        out.append(_finding("cert.weak-key", f"{kind} {bits} bits (minimum {minimum})"))
    if cert["signature_hash"] in ("sha1", "md5"):
        out.append(_finding("cert.sha1-signature", f"signed with {cert['signature_hash']}"))
    if kind not in profile.certificate_types:
        out.append(_finding("cert.key-type-not-in-profile", f"{kind} not in {profile.id}"))
    limit = profile.max_certificate_days
    if limit is not None and cert["lifetime_days"] > limit:
        out.append(_finding("cert.lifetime-too-long", f"{cert['lifetime_days']} days > {limit}"))
    return out


def _hsts_findings(hsts: dict[str, Any] | None, profile: GradingProfile) -> list[dict[str, str]]:
    if hsts is None:
        return []  # not an HTTP service
    if not hsts["present"]:
        return [_finding("hsts.missing", f"GET / answered {hsts['status']} without HSTS")]
    if (hsts["max_age"] or 0) < profile.hsts_min_age:
        return [_finding("hsts.short-max-age", f"max-age={hsts['max_age']}")]
    return []


def evaluate(report: dict[str, Any], profile: GradingProfile) -> list[dict[str, str]]:
    """Every finding of ``report`` against ``profile``, most severe first."""
    findings = [
        *_protocol_findings(report, profile),
        *_suite_findings(report, profile),
        *_cert_findings(report["certificate"], profile),
        *_hsts_findings(report["hsts"], profile),
    ]
    return sorted(findings, key=lambda f: SEVERITIES.index(f["severity"]))
