"""``cert.dev-ca-in-prod``: a self-signed or development-CA certificate in a prod deployment.

"Self-signed certificates in production" is a seed red flag: clients either fail or, worse,
are told to skip verification, and nothing revokes or rotates such a certificate. A
development CA (callvault's own local CA that ``serve`` creates under ``home/tls``, mkcert's,
any "dev/test/local CA") is worse than self-signed: its key sits on a laptop or in a repo.

Flagged in a prod deployment: every certificate issued by or being a development CA, and
every self-signed *leaf*. Self-signed *CA* certificates (the roots in a trust bundle, a
private PKI's root) are not flagged: roots are self-signed by nature. A PEM file whose
path names a non-prod environment (``certs/dev/…``) is not judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cryptography import x509
from cryptography.x509.oid import NameOID

from callvault.posture._x509 import is_self_signed
from callvault.posture.lint._context import LintContext
from callvault.posture.lint._model import Check, CheckInfo, Hit, Severity

__all__ = ["CHECK", "is_dev_ca_name"]

INFO = CheckInfo(
    id="cert.dev-ca-in-prod",
    severity=Severity.HIGH,
    title="Self-signed or development-CA certificate in production",
    rationale="The seed lists 'Self-signed certificates in production' as a red flag: "
    "clients cannot verify them without disabling checks, and a dev CA's key (callvault's "
    "local CA, mkcert) is not protected like a production CA's.",
    fix="Issue production certificates from your production PKI or a public CA (ACME), "
    "keep the 90-day cadence, and keep dev/local CA material out of prod deployments.",
)

_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")
_NAME_OIDS = (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME)
_LOCAL_CA_CN = "callvault local CA"  # transport/_local_ca.py names its CA so
_DEV_CA_WORDS = re.compile(
    r"\b(?:mkcert|dev|devel|development|test|testing|local|localhost|self[- ]signed|"
    r"snakeoil|example|dummy|fake|insecure)\b",
    re.IGNORECASE,
)


def is_dev_ca_name(name: x509.Name) -> bool:
    """Whether a CA's name says it is for development: callvault's local CA, mkcert's,
    or a CN/O with a dev/test/local/snakeoil word in it."""
    values = [str(attr.value) for oid in _NAME_OIDS for attr in name.get_attributes_for_oid(oid)]
    return any(v == _LOCAL_CA_CN or _DEV_CA_WORDS.search(v) for v in values)


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _verdict(cert: x509.Certificate) -> str | None:
    subject = cert.subject.rfc4514_string()
    if _is_ca(cert) and is_dev_ca_name(cert.subject):
        return f"development CA certificate {subject}"
    if not _is_ca(cert) and is_dev_ca_name(cert.issuer):
        return f"certificate {subject} issued by development CA {cert.issuer.rfc4514_string()}"
    if not _is_ca(cert) and is_self_signed(cert):
        return f"self-signed certificate {subject}"
    return None


def _probe(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.is_prod:
        return
    for source in ctx.config_files():
        if "-----BEGIN CERTIFICATE-----" not in source.text:
            continue
        if ctx.environment_of(source) not in ("prod", None):
            continue
        for match in _PEM_BLOCK.finditer(source.text):
            try:
                cert = x509.load_pem_x509_certificate(match.group(0).encode())
            except ValueError:
                continue  # not a certificate we can judge; other tools report bad PEM
            verdict = _verdict(cert)
            if verdict:
                line = source.text.count("\n", 0, match.start()) + 1
                yield Hit(source.rel, line, f"{verdict} in a prod deployment")


CHECK = Check(INFO, _probe)
