"""Certificate predicates shared by the scanner and the linter.

A certificate is self-signed only when its own key verifies its signature; an issuer name
equal to the subject is not enough (a CA may reuse its name on a leaf).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature

__all__ = ["is_self_signed"]


def is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
