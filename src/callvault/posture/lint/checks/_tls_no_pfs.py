"""``tls.no-pfs``: suites with RSA key exchange, so no perfect forward secrecy.

With RSA key exchange, whoever later obtains the server's private key decrypts every
recorded session: for call audio and transcripts that is years of conversations. The
seed disables "All RSA key exchange (no PFS)" and lists "Lack of perfect forward secrecy"
as a red flag; NIST SP 800-52r2 requires ephemeral key exchange.
"""

from __future__ import annotations

from collections.abc import Iterator

from callvault.posture.lint._ciphers import evaluate, shown
from callvault.posture.lint._context import LintContext
from callvault.posture.lint._model import Check, CheckInfo, Hit, Severity
from callvault.posture.lint._tlsconf import cipher_settings

__all__ = ["CHECK"]

INFO = CheckInfo(
    id="tls.no-pfs",
    severity=Severity.HIGH,
    title="Cipher suites without forward secrecy (RSA key exchange)",
    rationale="Suites with RSA key exchange let anyone who obtains the server key decrypt "
    "recorded traffic; the seed disables all RSA key exchange and lists missing PFS as a "
    "red flag (NIST SP 800-52r2 requires ECDHE/DHE).",
    fix="Keep only ECDHE suites (the seed's four TLS 1.2 suites) or TLS 1.3, and remove "
    "kRSA/AES*/RSA entries from the cipher list.",
)


def _probe(ctx: LintContext) -> Iterator[Hit]:
    for setting in cipher_settings(ctx):
        suites = evaluate(setting.ciphers).no_pfs
        if not suites:
            continue
        what = "the server's default cipher list enables" if setting.implicit else "enables"
        yield Hit(setting.source.rel, setting.line, f"{what} RSA key exchange: {shown(suites)}")


CHECK = Check(INFO, _probe)
