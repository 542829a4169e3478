"""Post-quantum readiness: is the hybrid X25519MLKEM768 group configured, can the linked
OpenSSL negotiate it, and has a scan seen it offered?

``tls.hybrid_pq`` passes only on evidence that the group is actually offered: a recorded
scan reporting ``hybrid_pq`` or an OpenSSL that implements ML-KEM (3.5+) behind a profile
that lists the group. Listing the group in the policy alone is a plan, not a fact.
"""

from __future__ import annotations

from typing import Any

from callvault.posture.facts._model import Check, CheckStatus, Section

__all__ = ["collect_pqc"]


def collect_pqc(tls: dict[str, Any], history: dict[str, Any]) -> Section:
    scanned = [s["target"] for s in history["scans"] if s.get("hybrid_pq") is True]
    configured = bool(tls["hybrid_pq_configured"])
    available = bool(tls["hybrid_pq_available"])
    facts = {
        "group": "X25519MLKEM768",
        "configured_in_profile": configured,
        "openssl_supports_mlkem": available,
        "openssl": tls["openssl"],
        "scans_offering_hybrid": scanned,
        "plan": [
            "now: the group is first in the profile's group list; it is offered as soon as "
            "the linked OpenSSL implements ML-KEM (3.5+), with no configuration change",
            "long-lived data keys: AES-256 (Grover leaves 128-bit security); wrapping keys "
            "live in the KMS and move to post-quantum KEMs when KMS providers offer them",
            "signatures (Ed25519) move to ML-DSA when the signed-note and JWT ecosystems do; "
            "the format's version byte allows it without breaking old objects",
        ],
    }
    if scanned or (configured and available):
        status = CheckStatus.PASS
        evidence = (
            ("offered by " + ", ".join(scanned))
            if scanned
            else (f"configured and supported by {tls['openssl']}")
        )
    else:
        status = CheckStatus.FAIL
        evidence = (
            f"{'configured' if configured else 'not configured'} in the profile; "
            f"{tls['openssl']} {'supports' if available else 'lacks'} ML-KEM; "
            "no scan has seen it offered"
        )
    check = Check(
        "tls.hybrid_pq",
        "Hybrid post-quantum key exchange (X25519MLKEM768) is offered",
        status,
        evidence,
        "TLS profile, linked OpenSSL, scans",
    )
    return Section("pqc", facts, (check,))
