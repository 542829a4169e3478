"""``tls.weak-suite``: CBC, RC4, 3DES, MD5/SHA-1, NULL or export suites enabled.

The seed's "Cipher Suite Hardening" disables them across the board ("All CBC mode
ciphers", "All RC4, 3DES, MD5, SHA-1 hashes", "Export-grade ciphers"): CBC with
MAC-then-encrypt invites padding oracles (Lucky13), RC4 and 3DES are broken (RFC 7465,
Sweet32). The string is expanded by OpenSSL (``_ciphers``), so ``HIGH`` counts as CBC.
"""

from __future__ import annotations

from collections.abc import Iterator

from callvault.posture.lint._ciphers import evaluate, shown
from callvault.posture.lint._context import LintContext
from callvault.posture.lint._model import Check, CheckInfo, Hit, Severity
from callvault.posture.lint._tlsconf import cipher_settings

__all__ = ["CHECK"]

INFO = CheckInfo(
    id="tls.weak-suite",
    severity=Severity.HIGH,
    title="Weak TLS cipher suites enabled (CBC, RC4, 3DES, MD5/SHA-1, export)",
    rationale="The seed's cipher allowlist disables all CBC, RC4, 3DES, MD5/SHA-1 and "
    "export suites ('Mixed cipher suites including CBC-mode ciphers' is a red flag); they "
    "enable padding-oracle, Sweet32 and RC4 biases attacks.",
    fix="Set the TLS 1.2 list to ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305, or allow TLS 1.3 only.",
)


def _probe(ctx: LintContext) -> Iterator[Hit]:
    for setting in cipher_settings(ctx):
        weak = evaluate(setting.ciphers).weak
        if not weak:
            continue
        what = (
            f"no cipher list set: the server default {setting.ciphers!r} enables"
            if setting.implicit
            else "enables"
        )
        yield Hit(setting.source.rel, setting.line, f"{what} {shown(weak)}")


CHECK = Check(INFO, _probe)
