"""``tls.legacy-protocol``: TLS 1.0 / 1.1 (or SSL) enabled anywhere in the deployment.

The seed's first red flag ("TLS 1.0 / 1.1 endpoints still active (should be hard-
disabled)"); RFC 8996 deprecates both, PCI DSS 4.0 Req 4.2.1 forbids them. SSLv2/SSLv3 are
reported as critical (broken: DROWN, POODLE), TLS 1.0/1.1 as high.
"""

from __future__ import annotations

from collections.abc import Iterator

from callvault.posture.lint._context import LintContext
from callvault.posture.lint._model import Check, CheckInfo, Hit, Severity
from callvault.posture.lint._tlsconf import protocol_settings

__all__ = ["CHECK"]

INFO = CheckInfo(
    id="tls.legacy-protocol",
    severity=Severity.HIGH,
    title="TLS 1.0/1.1 or SSL enabled",
    rationale="TLS 1.0 and 1.1 are deprecated (RFC 8996) and forbidden by PCI DSS 4.0; the "
    "seed lists 'TLS 1.0 / 1.1 endpoints still active' as a red flag. SSLv3 is broken.",
    fix="Allow TLS 1.3 only (nginx: ssl_protocols TLSv1.3; HAProxy: ssl-min-ver TLSv1.3), "
    "or TLS 1.2 as well for legacy carrier interop with the seed's four ECDHE+AEAD suites.",
)


def _probe(ctx: LintContext) -> Iterator[Hit]:
    for setting in protocol_settings(ctx):
        broken = any(v.startswith("SSL") for v in setting.legacy)
        yield Hit(
            setting.source.rel,
            setting.line,
            f"enables {', '.join(setting.legacy)}",
            Severity.CRITICAL if broken else None,
        )


CHECK = Check(INFO, _probe)
